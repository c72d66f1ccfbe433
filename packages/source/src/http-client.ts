// JSON over HTTP for pollers: a timeout on every attempt, the caller's
// AbortSignal honoured, retries on 5xx / network errors / 429 (Retry-After
// first), optional request pacing, and error text scrubbed of secrets.
import { TetherError, tetherError } from '#errors';
import type { Logger } from '#log';
import type { Auth, AuthContext } from './auth.ts';
import { retry, sleep, throwIfAborted, type RetryPolicy } from './retry.ts';
import { decodeUtf8, notUtf8Error, quoteSnippet } from './utf8.ts';

export type QueryValue = string | number | boolean | null | undefined | readonly (string | number)[];
export type Query = Readonly<Record<string, QueryValue>>;

export interface HttpClientOptions {
  /** Prefix of every path, e.g. `https://api.openai.com/v1` (kept, not resolved against). */
  baseUrl: string;
  /** Sent on every request; never logged. */
  headers: Readonly<Record<string, string>>;
  /** Credentials per request (keys, Basic, OAuth tokens); a 401 gets one retry with fresh ones when the hook can get them. */
  auth?: Auth;
  /** Where credentials obtained at run time are registered for scrubbing. */
  registerSecret?: (value: string) => void;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Spaces requests to stay under a published rate limit; 0 or absent: no pacing. */
  requestsPerMinute?: number;
  scrub: (text: string) => string;
  log: Logger;
  fetch?: typeof fetch;
  now?: () => number;
  /** Waits between attempts and for pacing; tests pass a fake clock's. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each retry, e.g. to count it. */
  onRetry?: (reason: 'rate_limited' | 'server_error' | 'network') => void;
}

export interface JsonResponse {
  body: unknown;
  status: number;
  /** For paging by header (`Link: <...>; rel="next"`). */
  headers: Headers;
}

export interface HttpClient {
  /** `path` is appended to the base URL; an absolute URL (a next link) must be on the base URL's origin. */
  getJson(path: string, query?: Query, signal?: AbortSignal): Promise<unknown>;
  /** getJson with the status and headers. */
  get(path: string, query?: Query, signal?: AbortSignal): Promise<JsonResponse>;
  postJson(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
}

const BODY_SNIPPET_CHARS = 300;

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? sleep;
  const spacingMs = options.requestsPerMinute && options.requestsPerMinute > 0 ? 60_000 / options.requestsPerMinute : 0;
  let nextSlot = 0;
  const auth = options.auth;
  const authContext: AuthContext = {
    fetch: doFetch,
    now,
    timeoutMs: options.timeoutMs,
    registerSecret: options.registerSecret ?? (() => undefined),
    scrub: options.scrub,
    log: options.log,
  };

  /** Real elapsed time (not the injected clock): pacing is about the wire. */
  async function pace(signal?: AbortSignal): Promise<void> {
    if (spacingMs === 0) return;
    const at = Math.max(performance.now(), nextSlot);
    nextSlot = at + spacingMs;
    const delay = at - performance.now();
    if (delay > 0) await wait(delay, signal);
  }

  async function once(method: 'GET' | 'POST', url: URL, body: string | undefined, signal?: AbortSignal, freshCredentials = false): Promise<JsonResponse> {
    await pace(signal);
    throwIfAborted(signal);
    const credentials = auth ? await auth.headers(authContext, signal) : {};
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = now();
    let res: Response;
    try {
      res = await doFetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers, ...credentials },
        body,
        signal: combined,
      });
    } catch (err) {
      throw networkError(err, url, signal, timeout, options);
    }
    let bytes: Buffer;
    try {
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw networkError(err, url, signal, timeout, options);
    }
    // Strict: a body that is not UTF-8 is refused with its bytes (the runner dead-letters them), never read with U+FFFD in its fields.
    const decoded = decodeUtf8(bytes);
    options.log.debug({ method, path: url.pathname, status: res.status, ms: now() - started }, 'http response');
    // A token can be revoked or expire early: one more try with a fresh one, never a loop.
    if (res.status === 401 && !freshCredentials && auth?.invalidate?.()) {
      options.log.warn({ path: url.pathname }, 'credentials refused, retrying once with fresh ones');
      return once(method, url, body, signal, true);
    }
    if (!res.ok) throw statusError(res, decoded.ok ? decoded.text : bytes.toString('utf8'), url, now(), options.scrub);
    if (!decoded.ok) throw notUtf8Error(`${url.pathname}: response body`, bytes, decoded, { status: res.status, path: url.pathname });
    const text = decoded.text;
    try {
      return { body: JSON.parse(text) as unknown, status: res.status, headers: res.headers };
    } catch (err) {
      // A cut-off body is usually a transient proxy or network problem.
      throw tetherError('TETHER_SOURCE_PARSE', `${url.pathname}: response is not JSON: ${quoteSnippet(options.scrub(text), BODY_SNIPPET_CHARS)}`, {
        cause: err,
        retriable: true,
        context: { status: res.status, path: url.pathname },
      });
    }
  }

  function send(method: 'GET' | 'POST', url: URL, body: string | undefined, signal?: AbortSignal): Promise<JsonResponse> {
    return retry(() => once(method, url, body, signal), options.retry, {
      signal,
      sleep: wait,
      onRetry: ({ attempt, delayMs, error, serverAsked }) => {
        const status = TetherError.is(error) ? error.context.status : undefined;
        const reason = status === 429 ? 'rate_limited' : typeof status === 'number' ? 'server_error' : 'network';
        options.onRetry?.(reason);
        options.log.warn(
          { path: url.pathname, attempt, delayMs, serverAsked, status, code: TetherError.is(error) ? error.code : undefined },
          'request failed, retrying',
        );
      },
    });
  }


  return {
    getJson: async (path, query, signal) => (await send('GET', buildUrl(options.baseUrl, path, query), undefined, signal)).body,
    get: (path, query, signal) => send('GET', buildUrl(options.baseUrl, path, query), undefined, signal),
    postJson: async (path, body, signal) => (await send('POST', buildUrl(options.baseUrl, path), JSON.stringify(body), signal)).body,
  };
}

/**
 * Appends `path` to the base (so `/v1` survives) and repeats array keys once
 * per value. An absolute URL (a server's next link) is taken as given, but
 * only on the base URL's origin: credentials never follow a link elsewhere.
 */
export function buildUrl(baseUrl: string, path: string, query: Query = {}): URL {
  let url: URL;
  if (/^https?:\/\//i.test(path)) {
    url = new URL(path);
    const base = new URL(baseUrl);
    if (url.origin !== base.origin) {
      throw tetherError('TETHER_SOURCE_PARSE', `a next link points to ${url.origin}, not ${base.origin}; not followed`, { context: { origin: url.origin } });
    }
  } else {
    url = new URL(`${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
  }
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, String(v));
    else url.searchParams.append(key, String(value));
  }
  return url;
}

/**
 * How long a 429 asks us to wait: `Retry-After` as seconds or an HTTP date;
 * else Anthropic's `anthropic-ratelimit-requests-reset` (RFC 3339); else
 * Okta's `X-Rate-Limit-Reset` or GitHub's `x-ratelimit-reset` (epoch seconds).
 */
export function parseRetryAfter(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (value) {
    if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = headers.get('anthropic-ratelimit-requests-reset');
  if (reset) {
    const at = Date.parse(reset);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const epochReset = (headers.get('x-rate-limit-reset') ?? headers.get('x-ratelimit-reset'))?.trim();
  if (epochReset && /^\d{9,11}$/.test(epochReset)) return Math.max(0, Number(epochReset) * 1000 - now);
  return undefined;
}

function statusError(res: Response, text: string, url: URL, now: number, scrub: (t: string) => string): TetherError {
  // Scrubbed whole (a secret cut in two would survive), then quoted: a hostile body cannot forge a log line.
  const snippet = quoteSnippet(scrub(text), BODY_SNIPPET_CHARS);
  const context: Record<string, unknown> = { status: res.status, path: url.pathname };
  // GitHub answers an exhausted rate limit with 403 and x-ratelimit-remaining: 0 (reference 0).
  const exhausted403 = res.status === 403 && res.headers.get('x-ratelimit-remaining')?.trim() === '0';
  if (res.status === 429 || exhausted403) {
    const retryAfterMs = parseRetryAfter(res.headers, now);
    if (retryAfterMs !== undefined) context.retryAfterMs = retryAfterMs;
    return tetherError('TETHER_SOURCE_RATE_LIMITED', `${url.pathname}: rate limited (HTTP ${res.status}): ${snippet}`, { retriable: true, context });
  }
  const retriable = res.status >= 500 || res.status === 408;
  return tetherError('TETHER_SOURCE_HTTP', `${url.pathname}: HTTP ${res.status}: ${snippet}`, { retriable, context });
}

function networkError(err: unknown, url: URL, caller: AbortSignal | undefined, timeout: AbortSignal, options: HttpClientOptions): TetherError {
  if (caller?.aborted) return tetherError('TETHER_ABORTED', 'stopped', { cause: caller.reason });
  if (timeout.aborted) {
    return tetherError('TETHER_SOURCE_HTTP', `${url.pathname}: no response within ${options.timeoutMs} ms`, {
      retriable: true,
      context: { path: url.pathname, timeoutMs: options.timeoutMs },
    });
  }
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error).message;
  return tetherError('TETHER_SOURCE_HTTP', `${url.pathname}: request failed: ${options.scrub(String(detail))}`, {
    cause: err,
    retriable: true,
    context: { path: url.pathname },
  });
}
