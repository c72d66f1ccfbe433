// The page fetchers against a local HTTP server per source, each with its
// real paging style and rate-limit answer.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { captureLogger } from '#testkit';
import { compileRetryPolicy, createHttpClient, createScrubber, nextLink, paginate, type HttpClient } from '#source';
import {
  entraPermissionGrantPages, fetchEntraAuditsPage, fetchGitHubAuditPage, fetchGoogleNamesPage, fetchGoogleTokenPage, fetchOktaLogsPage, githubCreatedPhrase,
  type GoogleNamesCursor,
} from '../src/fetch/fetchers.ts';

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
  it('polls from since, follows Link rel="next" while pages are full; a short page is caught up and resumes at its next link', async () => {
    const server = await serve((url, _req, res) => {
      const after = url.searchParams.get('after');
      const link = (to: string) => ({ link: `<${server.base}/api/v1/logs?since=x>; rel="self", <${server.base}/api/v1/logs?after=${to}&limit=2>; rel="next"` });
      if (after === null) return json(res, 200, [{ uuid: 1 }, { uuid: 2 }], { ...link('c2'), 'x-rate-limit-limit': '120', 'x-rate-limit-remaining': '119', 'x-rate-limit-reset': String(Math.floor(T0 / 1000) + 7) });
      if (after === 'c2') return json(res, 200, [{ uuid: 3 }], link('c3'));
      return json(res, 200, [], link('c3'));
    });
    const http = client(server.base);
    const first = await fetchOktaLogsPage(http, T0 - 60_000, null, 2);
    expect(first).toEqual({ items: [{ uuid: 1 }, { uuid: 2 }], next: `${server.base}/api/v1/logs?after=c2&limit=2` });
    const short = await fetchOktaLogsPage(http, T0 - 60_000, first.next as string, 2);
    expect(short).toEqual({ items: [{ uuid: 3 }], next: null, resume: `${server.base}/api/v1/logs?after=c3&limit=2` });
    // Next poll: the saved link, an empty page, the same resume point.
    expect(await fetchOktaLogsPage(http, 0, short.resume as string, 2)).toEqual({ items: [], next: null, resume: short.resume });
    expect(Object.fromEntries(server.requests[0]!.searchParams)).toEqual({ since: '2025-03-04T11:59:00.000Z', limit: '2', filter: 'eventType sw "app.oauth2"', sortOrder: 'ASCENDING' });
  });

  it('waits for X-Rate-Limit-Reset on a 429; a polling page without a next link is an error', async () => {
    let calls = 0;
    const server = await serve((_url, _req, res) => {
      calls++;
      if (calls === 1) return json(res, 429, { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit' }, { 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 2) });
      return json(res, 200, [{ uuid: calls }]);
    });
    const waits: number[] = [];
    const http = client(server.base, waits);
    await expect(fetchOktaLogsPage(http, T0, null, 2)).rejects.toThrow(/no rel="next" link/);
    expect(waits[0]).toBeGreaterThan(0);
    expect(waits[0]).toBeLessThanOrEqual(2_000);
  });

  it('parses repeated and comma-joined Link headers (as Headers joins them)', () => {
    const h = new Headers();
    h.append('link', '<https://x.okta.com/api/v1/logs?since=a>; rel="self"');
    h.append('link', '<https://x.okta.com/api/v1/logs?after=b,c>; rel="next"');
    expect(nextLink(h.get('link'))).toBe('https://x.okta.com/api/v1/logs?after=b,c');
    expect(nextLink('<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?after=Y>; rel="next"')).toBe('https://api.github.com/x?after=Y');
    expect(nextLink('<https://api.github.com/x?before=Z>; rel="prev"')).toBeNull();
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
    for await (const page of paginate<string>((n, s) => fetchGitHubAuditPage(http, 'example-co', { from: T0 - 3_600_000, to: T0 }, n, 100, s))) docs.push(...page.items);
    expect(docs).toEqual([{ _document_id: 'a' }, { _document_id: 'b' }, { _document_id: 'c' }]);
    expect(waits).toHaveLength(1);
    expect(Object.fromEntries(server.requests[1]!.searchParams)).toEqual({ phrase: 'created:2025-03-04T11:00:00Z..2025-03-04T11:59:59Z', include: 'web', order: 'asc', per_page: '100' });
  });

  it('does not retry a plain 403 (missing permission)', async () => {
    const { base } = await serve((_url, _req, res) => json(res, 403, { message: 'Must have admin rights to Repository.' }));
    const err = await fetchGitHubAuditPage(client(base), 'example-co', { from: T0 - 1000, to: T0 }, null).catch((e: unknown) => e);
    expect(TetherError.is(err) && [err.code, err.retriable]).toEqual(['TETHER_SOURCE_HTTP', false]);
  });

  it('keeps a window to its own entries, reading through pages it keeps nothing of', async () => {
    const server = await serve((url, _req, res) => {
      const at = (ms: number, id: string) => ({ '@timestamp': ms, _document_id: id });
      if (url.searchParams.get('after') === 'p2') return json(res, 200, [at(T0 - 10, 'in-2'), at(T0, 'next-window')]);
      // A server that read the qualifier by day: the first page is all before the window.
      return json(res, 200, [at(T0 - 7_200_000, 'early-1'), at(T0 - 7_100_000, 'early-2')], { link: `<${server.base}/orgs/example-co/audit-log?after=p2>; rel="next"` });
    });
    const page = await fetchGitHubAuditPage(client(server.base), 'example-co', { from: T0 - 3_600_000, to: T0 }, null);
    expect(page).toEqual({ items: [{ '@timestamp': T0 - 10, _document_id: 'in-2' }], next: null });
    expect(githubCreatedPhrase({ from: T0 + 999, to: T0 + 60_001 })).toBe('created:2025-03-04T12:00:00Z..2025-03-04T12:01:00Z');
  });
});

describe('Google grants over two event names', () => {
  it('reads authorize, then revoke, into pages that are never empty while more follow', async () => {
    const { base, requests } = await serve((url, _req, res) => {
      const name = url.searchParams.get('eventName');
      if (name === 'authorize' && url.searchParams.get('pageToken') === null) return json(res, 200, { items: [{ n: 'a1' }], nextPageToken: 'a2' });
      if (name === 'authorize') return json(res, 200, { kind: 'admin#reports#activities' });
      return json(res, 200, { items: [{ n: 'r1' }] });
    });
    const http = client(base);
    const window = { from: T0 - 1000, to: T0 };
    const pages = [];
    for await (const page of paginate<GoogleNamesCursor>((c, s) => fetchGoogleNamesPage(http, window, c, ['authorize', 'revoke'], {}, s))) pages.push(page);
    expect(pages).toEqual([{ items: [{ n: 'a1' }], next: { name: 0, token: 'a2' } }, { items: [{ n: 'r1' }], next: null }]);
    expect(requests.map((r) => [r.searchParams.get('eventName'), r.searchParams.get('pageToken')])).toEqual([['authorize', null], ['authorize', 'a2'], ['revoke', null]]);
  });
});
