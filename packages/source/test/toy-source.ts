// A source defined in a test file, the way a new source is written: its own
// variables, its auth, an event feed paged Google-style (items /
// nextPageToken) in time windows, and an inventory of accounts paged by a
// Link header and importable from an exported listing. The fake API checks
// the token the client credentials grant gave.
import { z } from 'zod';
import { env } from '#config';
import { tetherError } from '#errors';
import { deriveEventId, type AccessEvent } from '#schemas';
import {
  accessEventRecord, defineSource, inventory, linkHeaderPage, nextPageTokenPage, oauthClientCredentials, paginate,
  type EntityResult, type NormaliseResult,
} from '../src/index.ts';

export const TOY_SECRET = 'toy-client-secret-8d7c6b5a';
export const TOY_TOKEN = 'toy-access-token-0123456789abcdef';

interface Account {
  email: string | null;
}

export const toySource = defineSource({
  name: 'toy',
  description: 'a toy source for tests',
  env: {
    TETHER_TOY_CLIENT_ID: env.optionalString(),
    TETHER_TOY_CLIENT_SECRET: env.optionalString(),
    TETHER_TOY_BASE_URL: env.url('http://toy.invalid'),
    TETHER_TOY_PAGE_SIZE: z.coerce.number().int().min(1).default(2),
  },
  endpoint: (config) =>
    config.TETHER_TOY_CLIENT_ID && config.TETHER_TOY_CLIENT_SECRET
      ? {
          baseUrl: config.TETHER_TOY_BASE_URL,
          auth: oauthClientCredentials({ tokenUrl: `${config.TETHER_TOY_BASE_URL}/oauth/token`, clientId: config.TETHER_TOY_CLIENT_ID, clientSecret: config.TETHER_TOY_CLIENT_SECRET }),
        }
      : null,
  feeds: (deps) => ({
    eventFeeds: [
      {
        feed: 'activity',
        maxWindowMs: 86_400_000,
        lagMs: 60_000,
        async fetchPage(window, token, signal) {
          const body = await deps.http.getJson('/activity', { from: window.from, to: window.to, pageToken: token as string | null, size: 2 }, signal);
          return nextPageTokenPage(body, '/activity');
        },
        normalise: toyEvent,
      },
    ],
    inventories: [
      inventory<Account>({
        feed: 'accounts',
        async *pages(signal) {
          const pages = paginate<string>(async (next, s) => {
            const res = await deps.http.get(next ?? '/accounts', {}, s);
            return linkHeaderPage(res.body, res.headers.get('link'), '/accounts');
          }, { signal, what: '/accounts' });
          for await (const page of pages) yield page.items;
        },
        process: toyAccount,
        emit: (change) => [accessEventRecord(event(`${change.id}:${change.kind}:${change.validFrom}`, change.validFrom, `account.${change.kind}`, change.current.email, Buffer.from(change.id), 'accounts'))],
        importable: true,
      }),
    ],
    importFeeds: { activity: toyEvent },
    defaultImportFeed: 'activity',
    accountsFeed: 'accounts',
  }),
});

function toyEvent(record: unknown, ctx: { ingestedAt: number; rawBytes: Buffer }): NormaliseResult {
  const r = record as { id?: unknown; at?: unknown; what?: unknown; who?: unknown };
  if (typeof r.id !== 'string' || typeof r.at !== 'number') {
    return { ok: false, error: tetherError('TETHER_NORMALISE_INVALID', 'toy record without id or at') };
  }
  return { ok: true, event: { ...event(r.id, r.at, String(r.what ?? 'thing.done'), typeof r.who === 'string' ? r.who : null, ctx.rawBytes, 'activity'), source: { platform: 'toy', feed: 'activity', source_event_id: r.id, ingested_at: ctx.ingestedAt, ingest_version: 'toy/1' } } };
}

function toyAccount(item: unknown): EntityResult<Account> {
  const a = item as { id?: unknown; email?: unknown };
  if (typeof a.id !== 'string') return { ok: false, stage: 'normalising', error: new Error('toy account without id') };
  const email = typeof a.email === 'string' ? a.email : null;
  return { ok: true, entities: [{ id: `toy:${a.id}`, content: { email }, tracked: { email }, createdAt: null }] };
}

function event(id: string, time: number, action: string, email: string | null, raw: Buffer, feed: string): AccessEvent {
  return {
    event_id: deriveEventId('toy', feed, id),
    source: { platform: 'toy', feed, source_event_id: id, ingested_at: time, ingest_version: 'toy/1' },
    time,
    time_raw: String(time),
    action,
    source_type: action,
    outcome: 'success',
    ocsf: { category_uid: 6, class_uid: 6003, activity_id: 99, type_uid: 600399, severity_id: 1 },
    actor: { kind: email ? 'human' : 'unknown', platform_user_id: null, email, name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
    targets: [],
    scope: { organization_id: null, project_id: null, workspace_id: null },
    src: { ip: null, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
    connector: null,
    raw,
    unmapped: '{}',
  };
}

/** The toy API: token endpoint, time-windowed activity paged by token, accounts paged by Link header. */
export function toyApi(records: readonly { id: string; at: number; who?: string }[], accounts: readonly { id: string; email: string }[]) {
  const requests: string[] = [];
  const handle = (method: string, url: URL, headers: Headers, body: string): { status: number; headers?: Record<string, string>; body: string } => {
    requests.push(`${method} ${url.pathname}${url.search}`);
    if (url.pathname === '/oauth/token') {
      const ok = headers.get('authorization') === `Basic ${Buffer.from(`toy-client:${TOY_SECRET}`).toString('base64')}` && new URLSearchParams(body).get('grant_type') === 'client_credentials';
      return ok ? { status: 200, body: JSON.stringify({ access_token: TOY_TOKEN, token_type: 'Bearer', expires_in: 3600 }) } : { status: 401, body: '{"error":"invalid_client"}' };
    }
    if (headers.get('authorization') !== `Bearer ${TOY_TOKEN}`) return { status: 401, body: '{}' };
    if (url.pathname === '/activity') {
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      const start = Number(url.searchParams.get('pageToken') ?? 0);
      const size = Number(url.searchParams.get('size'));
      const inWindow = records.filter((r) => r.at >= from && r.at < to);
      const page = inWindow.slice(start, start + size);
      return { status: 200, body: JSON.stringify({ kind: 'toy#activity', ...(page.length ? { items: page } : {}), ...(start + size < inWindow.length ? { nextPageToken: String(start + size) } : {}) }) };
    }
    if (url.pathname === '/accounts') {
      const at = Number(url.searchParams.get('after') ?? 0);
      const page = accounts.slice(at, at + 1);
      const link: Record<string, string> = at + 1 < accounts.length ? { link: `<${url.origin}/accounts?after=${at + 1}>; rel="next"` } : {};
      return { status: 200, headers: link, body: JSON.stringify(page) };
    }
    return { status: 404, body: '{}' };
  };
  const fetchFn = (async (input: URL | string, init: RequestInit = {}) => {
    const r = handle(init.method ?? 'GET', new URL(String(input)), new Headers(init.headers), typeof init.body === 'string' ? init.body : '');
    return new Response(r.body, { status: r.status, headers: { 'content-type': 'application/json', ...r.headers } });
  }) as typeof fetch;
  return { fetch: fetchFn, handle, requests };
}
