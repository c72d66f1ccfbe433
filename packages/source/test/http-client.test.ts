import { describe, expect, it, vi } from 'vitest';
import { TetherError } from '#errors';
import { captureLogger } from '#testkit';
import { buildUrl, createHttpClient, parseRetryAfter } from '../src/http-client.ts';
import { compileRetryPolicy } from '../src/retry.ts';
import { createScrubber } from '../src/secrets.ts';

const SECRET = 'sk-admin-9f8e7d6c5b4a3210';

type Reply = { status: number; body: string; headers?: Record<string, string> } | 'network' | 'hang';

/** A fetch that answers from a script and records what it was asked. */
function scriptedFetch(replies: Reply[]) {
  const requests: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (url: URL | string, init: RequestInit = {}) => {
    requests.push({ url: String(url), init });
    const reply = replies.shift() ?? { status: 500, body: 'script exhausted' };
    if (reply === 'network') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    if (reply === 'hang') {
      return new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    return new Response(reply.body, { status: reply.status, headers: reply.headers });
  }) as typeof fetch;
  return { fetchFn, requests };
}

function client(replies: Reply[], extra: { timeoutMs?: number } = {}) {
  const { fetchFn, requests } = scriptedFetch(replies);
  const waits: number[] = [];
  const retried: string[] = [];
  const { log, lines } = captureLogger();
  const http = createHttpClient({
    baseUrl: 'https://api.example.com/v1/',
    headers: { authorization: `Bearer ${SECRET}` },
    timeoutMs: extra.timeoutMs ?? 1_000,
    retry: compileRetryPolicy({ maxAttempts: 4, initialDelayMs: 10, maxDelayMs: 100 }),
    scrub: createScrubber([SECRET]).text,
    log,
    fetch: fetchFn,
    sleep: async (ms) => void waits.push(ms),
    onRetry: (reason) => retried.push(reason),
  });
  return { http, requests, waits, retried, lines };
}

describe('createHttpClient', () => {
  it('retries a 429 after its Retry-After and a 500 after a backoff, then returns the JSON', async () => {
    const { http, requests, waits, retried } = client([
      { status: 429, body: '{"error":"slow down"}', headers: { 'retry-after': '2' } },
      { status: 500, body: 'oops' },
      { status: 200, body: '{"data":[1,2]}' },
    ]);
    await expect(http.getJson('/organization/audit_logs', { limit: 2 })).resolves.toEqual({ data: [1, 2] });
    expect(requests).toHaveLength(3);
    expect(waits[0]).toBe(2_000);
    // Second failure: backoff step 2 (10 ms * 2), with jitter between half and all of it.
    expect(waits[1]).toBeGreaterThanOrEqual(10);
    expect(waits[1]).toBeLessThanOrEqual(20);
    expect(retried).toEqual(['rate_limited', 'server_error']);
    expect(new Headers(requests[0]!.init.headers).get('authorization')).toBe(`Bearer ${SECRET}`);
  });

  it('retries network errors and timeouts', async () => {
    const { http, retried } = client(['network', 'hang', { status: 200, body: '{}' }], { timeoutMs: 20 });
    await expect(http.getJson('/x')).resolves.toEqual({});
    expect(retried).toEqual(['network', 'network']);
  });

  it('fails at once on a 4xx, with the status, and never shows the key', async () => {
    const { http, requests, lines } = client([{ status: 401, body: `{"error":"invalid key ${SECRET}"}` }]);
    const err = await http.getJson('/organization/users').catch((e: unknown) => e);
    expect(TetherError.is(err)).toBe(true);
    expect(err).toMatchObject({ code: 'TETHER_SOURCE_HTTP', retriable: false, context: { status: 401 } });
    expect((err as Error).message).not.toContain(SECRET);
    expect((err as Error).message).toContain('[redacted]');
    expect(requests).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('gives up after the policy allows and keeps the last status', async () => {
    const { http, requests } = client([{ status: 503, body: '' }, { status: 503, body: '' }, { status: 503, body: '' }, { status: 503, body: '' }]);
    await expect(http.getJson('/x')).rejects.toMatchObject({ code: 'TETHER_SOURCE_HTTP', context: { status: 503, attempts: 4 } });
    expect(requests).toHaveLength(4);
  });

  it('a body that is not JSON is a parse error (retried: usually a cut-off transfer)', async () => {
    const { http } = client([{ status: 200, body: '<html>gateway' }, { status: 200, body: '[]' }]);
    await expect(http.getJson('/x')).resolves.toEqual([]);
  });

  it('stops when the caller aborts, without retrying', async () => {
    const { http, requests } = client(['hang', { status: 200, body: '{}' }], { timeoutMs: 60_000 });
    const controller = new AbortController();
    const pending = http.getJson('/x', {}, controller.signal);
    await vi.waitFor(() => expect(requests).toHaveLength(1));
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'TETHER_ABORTED' });
    expect(requests).toHaveLength(1);
  });

  it('posts JSON bodies', async () => {
    const { http, requests } = client([{ status: 200, body: '{"ok":true}' }]);
    await http.postJson('/teams/filtered-usage-events', { page: 2 });
    expect(requests[0]!.init.method).toBe('POST');
    expect(requests[0]!.init.body).toBe('{"page":2}');
  });
});

describe('buildUrl', () => {
  it('keeps the base path, repeats array keys and drops absent values', () => {
    const url = buildUrl('https://api.openai.com/v1', '/organization/audit_logs', {
      'effective_at[gte]': 1767225600,
      'event_types[]': ['login.failed', 'api_key.created'],
      after: null,
      limit: 100,
    });
    expect(url.pathname).toBe('/v1/organization/audit_logs');
    expect(url.searchParams.getAll('event_types[]')).toEqual(['login.failed', 'api_key.created']);
    expect(url.searchParams.get('effective_at[gte]')).toBe('1767225600');
    expect(url.searchParams.has('after')).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-02T09:00:00Z');
  it('reads seconds, an HTTP date, or Anthropic’s reset time', () => {
    expect(parseRetryAfter(new Headers({ 'retry-after': '7' }), now)).toBe(7_000);
    expect(parseRetryAfter(new Headers({ 'retry-after': 'Mon, 02 Mar 2026 09:00:30 GMT' }), now)).toBe(30_000);
    expect(parseRetryAfter(new Headers({ 'anthropic-ratelimit-requests-reset': '2026-03-02T09:00:12Z' }), now)).toBe(12_000);
    expect(parseRetryAfter(new Headers({}), now)).toBeUndefined();
  });
});
