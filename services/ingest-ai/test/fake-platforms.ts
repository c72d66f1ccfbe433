// A stand-in for the three admin APIs that speaks their real pagination
// (OpenAI `after` / has_more, Anthropic `after_id` / has_more, Cursor page
// numbers / hasNextPage), filters by their time parameters, checks their auth
// header, and can fail (429 with Retry-After, 500) or hold a page on cue.
// Served by node:http for integration tests and the bench, or called
// directly as a fetch for unit tests.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Platform } from '../src/normalise/common.ts';

/** The AI platforms a fake is served for (the IdP history sources have their own fixtures). */
export type FakedPlatform = Extract<Platform, 'openai' | 'anthropic' | 'cursor'>;
import { cursorBasicAuth } from '../src/platforms/cursor/source.ts';
import { usageEventId } from '../src/platforms/cursor/usage.ts';
import { fixture, fixtureLines } from './fixtures.ts';

export interface FakeOptions {
  platform: Platform;
  key: string;
  /** Audit events to serve, good and bad. */
  events: number;
  /** Time of the first event; later ones follow `spacingMs` apart. */
  start: number;
  spacingMs?: number;
  /** Indices of events served malformed (they fail normalisation). */
  bad?: readonly number[];
  /** Audit-endpoint request number (1-based, retries counted) -> failure. */
  failures?: Readonly<Record<number, 'rate_limit' | 'server_error'>>;
  /** Hold the n-th successful audit page (1-based) until release(). */
  holdPage?: number;
  /** Cursor only: usage events to serve. */
  usageEvents?: number;
  /** Source ids of events the platform has not written yet (delete one to publish it late). */
  unpublished?: Set<string>;
  /** Index of an event that (hostile or careless) carries the key in a field. */
  leakKeyAt?: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
}

interface Stored {
  time: number;
  id: string;
  element: Record<string, unknown>;
  /** Served malformed. */
  bad?: true;
  /** Position in generation order (what `bad` and `leakKeyAt` count). */
  index?: number;
}

export interface FakePlatform {
  handle(method: string, url: URL, headers: Headers, body: string): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  /** A fetch answering from this fake, for unit tests. */
  fetch: typeof fetch;
  requests: FakeRequest[];
  /** Source ids of the well-formed audit (and usage) events. */
  goodIds: string[];
  /** Exact JSON of each malformed element, as the API serves it. */
  badElements: string[];
  /** Resolves with the held request's query when the held page has been asked for. */
  holding: Promise<URLSearchParams>;
  release(): void;
}

const json = (status: number, value: unknown, headers: Record<string, string> = {}) => ({ status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) });

export function fakePlatform(options: FakeOptions): FakePlatform {
  const spacing = options.spacingMs ?? 60_000;
  const bad = new Set(options.bad ?? []);
  const published = newestFirst(generateEvents(options.platform, options.events, options.start, spacing, bad));
  const leaked = published.find((e) => e.index === options.leakKeyAt);
  if (leaked) leaked.element = { ...leaked.element, note: `rotated key ${options.key}` };
  const usage = options.platform === 'cursor' ? newestFirst(generateUsage(options.usageEvents ?? 0, options.start, spacing)) : [];
  const requests: FakeRequest[] = [];
  let auditRequests = 0;
  let auditPages = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let holdStarted!: (query: URLSearchParams) => void;
  const holding = new Promise<URLSearchParams>((resolve) => (holdStarted = resolve));

  const authorised = (headers: Headers) => {
    switch (options.platform) {
      case 'openai':
        return headers.get('authorization') === `Bearer ${options.key}`;
      case 'anthropic':
        return headers.get('x-api-key') === options.key && headers.get('anthropic-version') !== null;
      case 'cursor':
        return headers.get('authorization') === cursorBasicAuth(options.key);
    }
  };

  async function audit(query: URLSearchParams, respond: () => ReturnType<typeof json>): Promise<ReturnType<typeof json>> {
    auditRequests++;
    const failure = options.failures?.[auditRequests];
    if (failure === 'rate_limit') return json(429, { error: { type: 'rate_limit_error', message: 'Too Many Requests' } }, { 'retry-after': '1' });
    if (failure === 'server_error') return json(500, { error: { message: 'internal error' } });
    auditPages++;
    if (auditPages === options.holdPage) {
      holdStarted(query);
      await released;
    }
    return respond();
  }

  async function route(method: string, url: URL, body: string): Promise<ReturnType<typeof json>> {
    const q = url.searchParams;
    const events = published.filter((e) => !options.unpublished?.has(e.id));
    const p = url.pathname;
    if (options.platform === 'openai') {
      if (p === '/v1/organization/audit_logs') {
        return audit(q, () => afterIdList(inWindow(events, Number(q.get('effective_at[gte]')) * 1000, Number(q.get('effective_at[lt]')) * 1000), q.get('after'), limitOf(q), true));
      }
      const pages: Record<string, string> = {
        '/v1/organization/users': 'users-page.json',
        '/v1/organization/projects': 'projects-page.json',
        '/v1/organization/admin_api_keys': 'admin-api-keys-page.json',
        '/v1/organization/projects/proj_Ab12Cd34/users': 'project-users-page.json',
        '/v1/organization/projects/proj_Ab12Cd34/service_accounts': 'service-accounts-page.json',
        '/v1/organization/projects/proj_Ab12Cd34/api_keys': 'api-keys-page.json',
      };
      if (pages[p]) return json(200, fixture('openai', pages[p]));
      if (/^\/v1\/organization\/projects\/[^/]+\/(users|service_accounts|api_keys)$/.test(p)) return json(200, { object: 'list', data: [], first_id: null, last_id: null, has_more: false });
    }
    if (options.platform === 'anthropic') {
      if (p === '/v1/compliance/activities') {
        return audit(q, () => afterIdList(inWindow(events, Date.parse(q.get('created_at.gte')!), Date.parse(q.get('created_at.lt')!)), q.get('after_id'), limitOf(q), false));
      }
      const pages: Record<string, string> = {
        '/v1/organizations/users': 'users-page.json',
        '/v1/organizations/invites': 'invites-page.json',
        '/v1/organizations/workspaces': 'workspaces-page.json',
        '/v1/organizations/workspaces/wrkspc_01FakeW1/members': 'workspace-members-page.json',
        '/v1/organizations/api_keys': 'api-keys-page.json',
      };
      if (pages[p]) return json(200, fixture('anthropic', pages[p]));
      if (/^\/v1\/organizations\/workspaces\/[^/]+\/members$/.test(p)) return json(200, { data: [], has_more: false, first_id: null, last_id: null });
    }
    if (options.platform === 'cursor') {
      if (p === '/teams/audit-logs') {
        return audit(q, () => {
          const from = Number(q.get('startTime'));
          const to = Number(q.get('endTime'));
          const list = numberedPage(inWindow(events, from, to + 1), Number(q.get('page') ?? 1), Number(q.get('pageSize') ?? 100));
          return json(200, { events: list.items, pagination: list.pagination, params: { teamId: 424242, startDate: from, endDate: to } });
        });
      }
      if (p === '/teams/filtered-usage-events' && method === 'POST') {
        const b = JSON.parse(body) as { startDate: number; endDate: number; page?: number; pageSize?: number };
        const list = numberedPage(inWindow(usage, b.startDate, b.endDate + 1), b.page ?? 1, b.pageSize ?? 100);
        return json(200, {
          totalUsageEventsCount: list.pagination.totalCount,
          pagination: { numPages: list.pagination.totalPages, currentPage: list.pagination.page, pageSize: list.pagination.pageSize, hasNextPage: list.pagination.hasNextPage, hasPreviousPage: list.pagination.hasPreviousPage },
          period: { startDate: b.startDate, endDate: b.endDate },
          usageEvents: list.items,
        });
      }
      if (p === '/teams/members') return json(200, fixture('cursor', 'members.json'));
    }
    return json(404, { error: 'not found', path: p });
  }

  async function handle(method: string, url: URL, headers: Headers, body: string) {
    let response: ReturnType<typeof json>;
    if (!authorised(headers)) response = json(401, { error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    else response = await route(method, url, body);
    requests.push({ method, path: url.pathname, query: url.searchParams, status: response.status });
    return response;
  }

  return {
    handle,
    requests,
    holding,
    release,
    goodIds: [...published.filter((e) => !e.bad).map((e) => e.id), ...usage.map((u) => u.id)],
    badElements: published.filter((e) => e.bad).map((e) => JSON.stringify(e.element)),
    fetch: (async (input: URL | string, init: RequestInit = {}) => {
      const answer = handle(init.method ?? 'GET', new URL(String(input)), new Headers(init.headers), typeof init.body === 'string' ? init.body : '').then(
        (r) => new Response(r.body, { status: r.status, headers: r.headers }),
      );
      const signal = init.signal;
      if (!signal) return answer;
      // Like a real fetch, an abort (caller or timeout) ends the wait for a held page.
      return Promise.race([
        answer,
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      ]);
    }) as typeof fetch,
  };
}

/** Serves a fake on 127.0.0.1 (a free port); `baseUrl` is what the platform's *_BASE_URL should be. */
export async function serveFake(fake: FakePlatform, platform: Platform): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      fake
        .handle(req.method ?? 'GET', new URL(req.url ?? '/', 'http://127.0.0.1'), headers, Buffer.concat(chunks).toString())
        .then((r) => {
          res.writeHead(r.status, r.headers);
          res.end(r.body);
        })
        .catch(() => {
          // The client went away (killed while a page was held).
          res.destroy();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const root = `http://127.0.0.1:${port}`;
  return {
    baseUrl: platform === 'openai' ? `${root}/v1` : root,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------- generation ---

function generateEvents(platform: Platform, count: number, start: number, spacing: number, bad: Set<number>): Stored[] {
  const templates = fixtureLines(platform, platform === 'anthropic' ? 'activities.jsonl' : 'audit-logs.jsonl').map((l) => l.record);
  const out: Stored[] = [];
  for (let i = 0; i < count; i++) {
    const time = start + i * spacing;
    const template = templates[i % templates.length]!;
    const n = String(i).padStart(6, '0');
    if (platform === 'openai') {
      const id = `audit_log-gen${n}`;
      const element = bad.has(i) ? { id, type: 404, effective_at: Math.floor(time / 1000) } : { ...template, id, effective_at: Math.floor(time / 1000) };
      out.push({ time: Math.floor(time / 1000) * 1000, id, element, index: i, ...(bad.has(i) ? { bad: true as const } : {}) });
    } else if (platform === 'anthropic') {
      const id = `activity_gen${n}`;
      const created = new Date(time).toISOString();
      const element = bad.has(i) ? { id, created_at: created, type: 'sso_login_succeeded', actor: 'not-an-object' } : { ...template, id, created_at: created };
      out.push({ time, id, element, index: i, ...(bad.has(i) ? { bad: true as const } : {}) });
    } else {
      const id = `evt_gen${n}`;
      const stamp = new Date(time).toISOString();
      const element = bad.has(i) ? { event_id: id, timestamp: 'not-a-time', event_type: 'login', event_data: {} } : { ...template, event_id: id, timestamp: stamp };
      out.push({ time, id, element, index: i, ...(bad.has(i) ? { bad: true as const } : {}) });
    }
  }
  return out;
}

function generateUsage(count: number, start: number, spacing: number): Stored[] {
  const templates = fixture<{ usageEvents: Record<string, unknown>[] }>('cursor', 'usage-events-page.json').usageEvents;
  const out: Stored[] = [];
  for (let i = 0; i < count; i++) {
    const time = start + i * spacing + 17;
    const element = { ...templates[i % templates.length]!, timestamp: String(time), conversationId: `conv_gen${i}` };
    // Usage events carry no id; the ingest side's content hash is the id to expect.
    out.push({ time, id: usageEventId(element), element });
  }
  return out;
}

/** Newest first, as the APIs list by default; `items` are kept in that order already. */
function inWindow(items: Stored[], from: number, to: number): Stored[] {
  return items.filter((e) => e.time >= from && e.time < to);
}

function newestFirst(items: Stored[]): Stored[] {
  return items.sort((a, b) => b.time - a.time || (a.id < b.id ? 1 : -1));
}

function limitOf(q: URLSearchParams): number {
  return Number(q.get('limit') ?? 20);
}

function afterIdList(items: Stored[], after: string | null, limit: number, openai: boolean) {
  const start = after ? items.findIndex((e) => e.id === after) + 1 : 0;
  const slice = items.slice(start, start + limit);
  return json(200, {
    ...(openai ? { object: 'list' } : {}),
    data: slice.map((e) => e.element),
    first_id: slice[0]?.id ?? null,
    last_id: slice.at(-1)?.id ?? null,
    has_more: start + limit < items.length,
  });
}

function numberedPage(items: Stored[], page: number, pageSize: number) {
  const totalPages = Math.max(1, Math.ceil(items.length / pageSize));
  return {
    items: items.slice((page - 1) * pageSize, page * pageSize).map((e) => e.element),
    pagination: { page, pageSize, totalCount: items.length, totalPages, hasNextPage: page < totalPages, hasPreviousPage: page > 1 },
  };
}
