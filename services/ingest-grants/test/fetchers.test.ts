// The page fetchers against a local HTTP server per source, each with its
// real paging style and rate-limit answer.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { captureLogger } from '#testkit';
import { compileRetryPolicy, createHttpClient, createScrubber, paginate, type HttpClient } from '#source';
import {
  entraPermissionGrantPages, fetchEntraAuditsPage, fetchGitHubAuditPage, fetchGoogleTokenPage, pollWindow, readOktaRound,
} from '../src/fetch/fetchers.ts';
import { linkNext } from '../src/fetch/pages.ts';

type Handler = (url: URL, req: IncomingMessage, res: ServerResponse) => void;

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server answering from `handler`, recording every request URL. */
async function serve(handler: Handler): Promise<{ base: string; requests: URL[] }> {
  const requests: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push(url);
    handler(url, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function client(baseUrl: string, waits: number[] = []): HttpClient {
  return createHttpClient({
    baseUrl,
    headers: { authorization: 'Bearer test-token-123' },
    timeoutMs: 5_000,
    retry: compileRetryPolicy({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 5 }),
    scrub: createScrubber(['test-token-123']).text,
    log: captureLogger().log,
    sleep: async (ms) => void waits.push(ms),
  });
}

const T0 = Date.parse('2025-03-04T12:00:00Z');

describe('pollWindow', () => {
  it('re-reads the overlap, ends the lag before now, never reaches past retention', () => {
    expect(pollWindow('google', T0, T0 + 3_600_000)).toEqual({ from: T0 - 6 * 3_600_000, to: T0 + 3_600_000 - 120_000 });
    expect(pollWindow('entra', T0, T0 + 60_000)).toEqual({ from: T0 - 30 * 60_000, to: T0 - 60_000 });
    expect(pollWindow('entra', 0, T0).from).toBe(T0 - 30 * 86_400_000);
  });
});

describe('Google Reports activities.list', () => {
  it('pages by nextPageToken with the window fixed across pages, retries a 429, reads an empty page', async () => {
    let calls = 0;
    const { base, requests } = await serve((url, _req, res) => {
      calls++;
      if (calls === 2) return json(res, 429, { error: { code: 429, message: 'Quota exceeded' } }, { 'retry-after': '1' });
      const token = url.searchParams.get('pageToken');
      if (token === null) return json(res, 200, { kind: 'admin#reports#activities', items: [{ id: 1 }, { id: 2 }], nextPageToken: 'p2' });
      if (token === 'p2') return json(res, 200, { kind: 'admin#reports#activities', items: [{ id: 3 }], nextPageToken: 'p3' });
      return json(res, 200, { kind: 'admin#reports#activities' });
    });
    const waits: number[] = [];
    const http = client(`${base}/`, waits);
    const window = { from: T0 - 3_600_000, to: T0 };
    const items: unknown[] = [];
    for await (const page of paginate<string>((t, s) => fetchGoogleTokenPage(http, window, t, { eventName: 'authorize' }, s))) items.push(...page.items);
    expect(items).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(waits).toEqual([1_000]);
    expect(requests[0]!.pathname).toBe('/admin/reports/v1/activity/users/all/applications/token');
    for (const r of requests) {
      expect(r.searchParams.get('startTime')).toBe('2025-03-04T11:00:00.000Z');
      expect(r.searchParams.get('endTime')).toBe('2025-03-04T11:59:59.999Z');
      expect(r.searchParams.get('eventName')).toBe('authorize');
      expect(r.searchParams.get('maxResults')).toBe('1000');
    }
    expect(requests.map((r) => r.searchParams.get('pageToken'))).toEqual([null, 'p2', 'p2', 'p3']);
  });

  it('stops with an error on a page that is not JSON or a token that comes back', async () => {
    const { base } = await serve((url, _req, res) => {
      if (url.searchParams.get('pageToken') === 'loop') return json(res, 200, { items: [{ kind: 'admin#reports#activity' }], nextPageToken: 'loop' });
      if (url.searchParams.get('eventName') === 'revoke') return json(res, 200, '<html>proxy error</html>');
      return json(res, 200, { items: [{ kind: 'admin#reports#activity' }], nextPageToken: 'loop' });
    });
    const http = client(base);
    const window = { from: T0 - 1000, to: T0 };
    const loop = async () => {
      for await (const _ of paginate<string>((t, s) => fetchGoogleTokenPage(http, window, t, { eventName: 'authorize' }, s))) void _;
    };
    await expect(loop()).rejects.toThrow(/came back/);
    await expect(fetchGoogleTokenPage(http, window, null, { eventName: 'revoke' })).rejects.toMatchObject({ code: 'TETHER_SOURCE_PARSE' });
  });
});

describe('Microsoft Graph directoryAudits', () => {
  it('filters the first request, then follows @odata.nextLink verbatim; 429 Retry-After honoured', async () => {
    let calls = 0;
    const server = await serve((url, _req, res) => {
      calls++;
      if (calls === 1) return json(res, 429, { error: { code: 'TooManyRequests' } }, { 'retry-after': '3' });
      if (url.searchParams.has('$skiptoken')) return json(res, 200, { value: [{ id: 'b' }] });
      return json(res, 200, { value: [{ id: 'a' }], '@odata.nextLink': `${server.base}/v1.0/auditLogs/directoryAudits?$skiptoken=XyZ&$top=2` });
    });
    const waits: number[] = [];
    const http = client(`${server.base}/v1.0`, waits);
    const window = { from: T0 - 900_000, to: T0 };
    const ids: unknown[] = [];
    for await (const page of paginate<string>((n, s) => fetchEntraAuditsPage(http, window, n, 2, s))) ids.push(...page.items);
    expect(ids).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(waits).toEqual([3_000]);
    const first = server.requests[1]!;
    expect(first.searchParams.get('$filter')).toBe("category eq 'ApplicationManagement' and activityDateTime ge 2025-03-04T11:45:00.000Z and activityDateTime le 2025-03-04T11:59:59.999Z");
    expect(first.searchParams.get('$orderby')).toBe('activityDateTime asc');
    expect(server.requests[2]!.search).toBe('?$skiptoken=XyZ&$top=2');
  });

  it('refuses a next link to another host (the token stays home) and a body without value', async () => {
    const { base } = await serve((url, _req, res) => {
      if (url.pathname.endsWith('/oauth2PermissionGrants')) return json(res, 200, { value: [{ id: 'grant-1' }], '@odata.nextLink': 'https://attacker.example/steal' });
      return json(res, 200, { values: [] });
    });
    const http = client(`${base}/v1.0`);
    const pages = async () => {
      for await (const _ of entraPermissionGrantPages(http)) void _;
    };
    await expect(pages()).rejects.toThrow(/next link points to https:\/\/attacker\.example/);
    await expect(fetchEntraAuditsPage(http, { from: 0, to: 1 }, null)).rejects.toThrow(/no "value" array/);
  });
});

describe('Okta System Log', () => {
  it('polls from since, follows Link rel="next" while pages are full, resumes from the short page\'s next link', async () => {
    const server = await serve((url, _req, res) => {
      const after = url.searchParams.get('after');
      const link = (to: string) => ({ link: `<${server.base}/api/v1/logs?since=x>; rel="self", <${server.base}/api/v1/logs?after=${to}&limit=2>; rel="next"` });
      if (after === null) return json(res, 200, [{ uuid: 1 }, { uuid: 2 }], { ...link('c2'), 'x-rate-limit-limit': '120', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(Math.floor(T0 / 1000) + 7) });
      if (after === 'c2') return json(res, 200, [{ uuid: 3 }], link('c3'));
      return json(res, 200, [], link('c3'));
    });
    const waits: number[] = [];
    const http = client(server.base, waits);
    const round = await readOktaRound(http, null, { since: T0 - 60_000, limit: 2, now: () => T0, sleep: async (ms) => void waits.push(ms) });
    expect(round.pages.flatMap((p) => p.items)).toEqual([{ uuid: 1 }, { uuid: 2 }, { uuid: 3 }]);
    expect(round.resume).toBe(`${server.base}/api/v1/logs?after=c3&limit=2`);
    // The budget was spent: the second request waited for X-Rate-Limit-Reset.
    expect(waits).toEqual([7_000]);
    const first = server.requests[0]!;
    expect(Object.fromEntries(first.searchParams)).toEqual({ since: '2025-03-04T11:59:00.000Z', limit: '2', filter: 'eventType sw "app.oauth2"', sortOrder: 'ASCENDING' });
    // Next round: the saved link, an empty page, the same resume point.
    const again = await readOktaRound(http, round.resume, { since: 0, limit: 2 });
    expect(again).toEqual({ pages: [{ items: [], next: null }], resume: round.resume });
  });

  it('waits for X-Rate-Limit-Reset on a 429; stops on full pages that loop', async () => {
    let calls = 0;
    const server = await serve((_url, _req, res) => {
      calls++;
      if (calls === 1) return json(res, 429, { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit' }, { 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 2) });
      return json(res, 200, [{ uuid: calls }, { uuid: calls + 100 }], { link: `<${server.base}/api/v1/logs?after=same>; rel="next"` });
    });
    const waits: number[] = [];
    const http = client(server.base, waits);
    await expect(readOktaRound(http, null, { since: T0, limit: 2 })).rejects.toThrow(/came back/);
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(2_000);
  });

  it('parses repeated and comma-joined Link headers', () => {
    const h = new Headers();
    h.append('link', '<https://x.okta.com/api/v1/logs?since=a>; rel="self"');
    h.append('link', '<https://x.okta.com/api/v1/logs?after=b,c>; rel="next"');
    expect(linkNext(h)).toBe('https://x.okta.com/api/v1/logs?after=b,c');
    expect(linkNext(new Headers({ link: '<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?after=Y>; rel="next"' }))).toBe('https://api.github.com/x?after=Y');
    expect(linkNext(new Headers({ link: '<https://api.github.com/x?before=Z>; rel="prev"' }))).toBeNull();
    expect(linkNext(new Headers())).toBeNull();
  });
});

describe('GitHub organization audit log', () => {
  it('asks ascending from the day before the checkpoint, follows Link; a rate-limit 403 is retried after x-ratelimit-reset', async () => {
    let calls = 0;
    const server = await serve((url, _req, res) => {
      calls++;
      if (calls === 1) return json(res, 403, { message: 'API rate limit exceeded' }, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1) });
      if (url.searchParams.get('after') === 'cur2') return json(res, 200, [{ _document_id: 'c' }]);
      return json(res, 200, [{ _document_id: 'a' }, { _document_id: 'b' }], { link: `<${server.base}/orgs/example-co/audit-log?after=cur2&order=asc>; rel="next"` });
    });
    const waits: number[] = [];
    const http = client(server.base, waits);
    const docs: unknown[] = [];
    for await (const page of paginate<string>((n, s) => fetchGitHubAuditPage(http, 'example-co', T0, n, 100, s))) docs.push(...page.items);
    expect(docs).toEqual([{ _document_id: 'a' }, { _document_id: 'b' }, { _document_id: 'c' }]);
    expect(waits).toHaveLength(1);
    expect(Object.fromEntries(server.requests[1]!.searchParams)).toEqual({ phrase: 'created:>=2025-03-03', include: 'web', order: 'asc', per_page: '100' });
  });

  it('does not retry a plain 403 (missing permission)', async () => {
    const { base } = await serve((_url, _req, res) => json(res, 403, { message: 'Must have admin rights to Repository.' }));
    const err = await fetchGitHubAuditPage(client(base), 'example-co', T0, null).catch((e: unknown) => e);
    expect(TetherError.is(err) && [err.code, err.retriable]).toEqual(['TETHER_SOURCE_HTTP', false]);
  });
});
