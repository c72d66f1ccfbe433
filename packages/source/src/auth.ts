// Auth hooks for the HTTP client: what a source's requests carry to prove who
// they are. Each hook names the secrets it holds up front (so they are
// scrubbed from the first log line on) and registers every credential it
// obtains later (access tokens) through the context, never logging one.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { errorMessage, tetherError } from '#errors';
import type { Logger } from '#log';
import { decodeUtf8, quoteSnippet } from './utf8.ts';

export interface AuthContext {
  fetch: typeof fetch;
  now: () => number;
  /** Per token request. */
  timeoutMs: number;
  /** Scrubs a credential obtained at run time from every log line and record from now on. */
  registerSecret(value: string): void;
  scrub(text: string): string;
  log: Logger;
}

export interface Auth {
  /** Secrets known up front (keys, client secrets, private keys) in every form they travel in. */
  readonly secrets: readonly string[];
  /** Headers for one request; may obtain or refresh a token first. */
  headers(ctx: AuthContext, signal?: AbortSignal): Promise<Readonly<Record<string, string>>>;
  /**
   * After a 401: forgets a cached token. True when a retry can carry
   * different credentials (a fresh token); static credentials say false.
   */
  invalidate?(): boolean;
}

/** No credentials (public endpoints, tests). */
export const noAuth: Auth = Object.freeze({ secrets: [], headers: async () => ({}) });

/**
 * Fixed headers (an API key header, a version header). `secrets` are the
 * values to scrub; by default every header value.
 */
export function headerAuth(headers: Readonly<Record<string, string>>, secrets: readonly string[] = Object.values(headers)): Auth {
  const fixed = Object.freeze({ ...headers });
  return { secrets: [...secrets], headers: async () => fixed };
}

/** `Authorization: Bearer <token>` with a long-lived key. */
export function bearerAuth(token: string): Auth {
  return headerAuth({ authorization: `Bearer ${token}` }, [token, `Bearer ${token}`]);
}

/** HTTP Basic (RFC 7617): the user name and password, their base64 form and the header are all secrets. */
export function basicAuth(user: string, password = ''): Auth {
  const encoded = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
  return headerAuth({ authorization: `Basic ${encoded}` }, [user, password, encoded, `Basic ${encoded}`].filter((s) => s.length > 0));
}

export interface TokenOptions {
  /** Refresh this long before the token expires, so no request goes out with one about to lapse. Default 60 s. */
  refreshBeforeMs?: number;
}

/** A token endpoint's answer (RFC 6749 5.1), or another exchange's (Jamf's `{token, expires}`). */
export interface Token {
  value: string;
  expiresAt: number;
}

/**
 * A cached bearer token got from `obtain`: fetched on first use, shared by
 * concurrent requests, refreshed `refreshBeforeMs` before it expires, and
 * dropped on a 401 so the one retry gets a fresh one. For token exchanges
 * other than the ones below, `obtain` is that exchange.
 */
export function cachedBearer(obtain: (ctx: AuthContext, signal?: AbortSignal) => Promise<Token>, secrets: readonly string[], options: TokenOptions): Auth {
  const refreshBeforeMs = options.refreshBeforeMs ?? 60_000;
  let token: Token | undefined;
  let pending: Promise<Token> | undefined;
  return {
    secrets,
    async headers(ctx, signal) {
      if (!token || ctx.now() >= token.expiresAt - refreshBeforeMs) {
        pending ??= obtain(ctx, signal).finally(() => (pending = undefined));
        token = await pending;
      }
      return { authorization: `Bearer ${token.value}` };
    },
    invalidate() {
      token = undefined;
      return true;
    },
  };
}

export interface ClientCredentials extends TokenOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes?: readonly string[];
  /** Extra form fields some servers want (`audience`, `resource`). */
  params?: Readonly<Record<string, string>>;
  /** How the client authenticates to the token endpoint (RFC 6749 2.3.1): HTTP Basic (default) or in the form body. */
  clientAuth?: 'basic' | 'body';
}

/** OAuth 2.0 client credentials grant (RFC 6749 4.4). */
export function oauthClientCredentials(options: ClientCredentials): Auth {
  // RFC 6749 2.3.1: the id and secret are form-urlencoded before they are joined for Basic.
  const basic = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64');
  const secrets = [options.clientSecret, basic, `Basic ${basic}`];
  return cachedBearer(
    (ctx, signal) => {
      const form = new URLSearchParams({ grant_type: 'client_credentials', ...options.params });
      if (options.scopes && options.scopes.length > 0) form.set('scope', options.scopes.join(' '));
      const headers: Record<string, string> = {};
      if ((options.clientAuth ?? 'basic') === 'basic') headers.authorization = `Basic ${basic}`;
      else {
        form.set('client_id', options.clientId);
        form.set('client_secret', options.clientSecret);
      }
      return requestToken(ctx, options.tokenUrl, form, headers, signal);
    },
    secrets,
    options,
  );
}

export interface GoogleServiceAccount extends TokenOptions {
  /** `client_email` of the key file. */
  clientEmail: string;
  /** `private_key` of the key file (PKCS#8 PEM). */
  privateKey: string;
  /** `token_uri` of the key file. */
  tokenUri?: string;
  scopes: readonly string[];
  /** Domain-wide delegation: the user to act as (an admin for the Reports and Directory APIs). */
  subject?: string;
  /** Assertion lifetime; Google accepts at most an hour. */
  lifetimeSeconds?: number;
}

export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/**
 * Google service-account JWT bearer grant (RFC 7523): an RS256-signed
 * assertion (iss = the account, aud = the token URI, scope, sub for
 * domain-wide delegation) exchanged for an access token.
 */
export function googleServiceAccount(options: GoogleServiceAccount): Auth {
  const key = createPrivateKey(options.privateKey);
  const tokenUri = options.tokenUri ?? GOOGLE_TOKEN_URI;
  const lifetime = options.lifetimeSeconds ?? 3600;
  return cachedBearer(
    (ctx, signal) => {
      const assertion = signedJwt(
        key,
        { iss: options.clientEmail, scope: options.scopes.join(' '), aud: tokenUri, ...(options.subject ? { sub: options.subject } : {}) },
        Math.floor(ctx.now() / 1000),
        lifetime,
      );
      // The assertion is itself a credential until it expires.
      ctx.registerSecret(assertion);
      const form = new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion });
      return requestToken(ctx, tokenUri, form, {}, signal);
    },
    [options.privateKey, ...pemBody(options.privateKey)],
    options,
  );
}

/** A compact JWS (RFC 7515) signed RS256, with iat and exp. */
export function signedJwt(key: KeyObject, claims: Readonly<Record<string, unknown>>, issuedAtSeconds: number, lifetimeSeconds: number): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ ...claims, iat: issuedAtSeconds, exp: issuedAtSeconds + lifetimeSeconds })}`;
  return `${input}.${sign('RSA-SHA256', Buffer.from(input), key).toString('base64url')}`;
}

/** The base64 lines of a PEM key: a log that quoted the key's JSON would carry them with `\n` between. */
function pemBody(pem: string): string[] {
  return pem.split(/\r?\n|\\n/).filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

async function requestToken(ctx: AuthContext, url: string, form: URLSearchParams, headers: Record<string, string>, signal?: AbortSignal): Promise<Token> {
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  const where = new URL(url);
  const what = `token endpoint ${where.origin}${where.pathname}`;
  let res: Response;
  let bytes: Buffer;
  try {
    res = await ctx.fetch(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: form.toString(),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    bytes = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    if (signal?.aborted) throw tetherError('TETHER_ABORTED', 'stopped', { cause: signal.reason });
    throw tetherError('TETHER_SOURCE_AUTH', `${what}: no answer (${timeout.aborted ? `timed out after ${ctx.timeoutMs} ms` : ctx.scrub(errorMessage(err))})`, { cause: err, retriable: true });
  }
  const decoded = decodeUtf8(bytes);
  const text = decoded.ok ? decoded.text : '';
  if (!res.ok) {
    // RFC 6749 5.2: error and error_description name the problem; nothing else of the body is quoted.
    let reason = `HTTP ${res.status}`;
    try {
      const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
      if (typeof body.error === 'string') reason += ` ${quoteSnippet(ctx.scrub(body.error), 80)}`;
      if (typeof body.error_description === 'string') reason += `: ${quoteSnippet(ctx.scrub(body.error_description), 200)}`;
    } catch {
      // not JSON: the status says enough
    }
    throw tetherError('TETHER_SOURCE_AUTH', `${what} refused the credentials: ${reason}`, { retriable: res.status >= 500 || res.status === 429, context: { status: res.status } });
  }
  let body: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw tetherError('TETHER_SOURCE_AUTH', `${what}: the answer is not JSON${decoded.ok ? '' : ` (${decoded.reason})`}`, { retriable: true });
  }
  if (typeof body.access_token !== 'string' || body.access_token === '') throw tetherError('TETHER_SOURCE_AUTH', `${what}: the answer has no access_token`);
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
    throw tetherError('TETHER_SOURCE_AUTH', `${what}: token_type ${quoteSnippet(body.token_type, 40)} is not Bearer`);
  }
  ctx.registerSecret(body.access_token);
  // Without expires_in the token is kept an hour, a common lifetime; a 401 replaces it sooner.
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : Number(body.expires_in) > 0 ? Number(body.expires_in) : 3600;
  ctx.log.debug({ tokenEndpoint: `${where.origin}${where.pathname}`, expiresInSeconds: expiresIn }, 'access token obtained');
  return { value: body.access_token, expiresAt: ctx.now() + expiresIn * 1000 };
}
