// IdP change history as person history: Okta System Log user events and
// Entra directoryAudits user changes, imported from exported files and read
// over the APIs (Link rel="next" with since/until; @odata.nextLink), become
// PersonVersions valid from when each change happened, on one stable person
// per IdP user; events before and after each change are then attributed to
// that person as they were at the time.
import { describe, expect, it } from 'vitest';
import type { PersonVersion } from '#schemas';
import { versionKey } from '#schemas';
import { resolveEvent } from '../../enrich/src/resolve/enrich.ts';
import { lifecycleOf } from '../../enrich/src/resolve/person.ts';
import { IdentityStore } from '../../enrich/src/store/identity-store.ts';
import { cursorAuditEvent } from '../../enrich/test/fixtures/events.ts';
import { decoded } from '../src/platforms/entra-users/directory-audits.ts';
import { fixture, fixturePath } from './fixtures.ts';
import { offlineApp } from './offline-app.ts';

const NOW = Date.parse('2025-08-01T00:00:00Z');
const DAY = 86_400_000;
const signal = () => new AbortController().signal;
const OKTA_ID = 'okta:00u1ab2CdExAmPlE3f4';
const ENTRA_ID = 'entra:5f2c0d1e-8a47-4b7e-9d3c-2e6f1a0b9c84';
const iso = (ms: number) => new Date(ms).toISOString();

function storeOf(versions: readonly PersonVersion[]): IdentityStore {
  const store = new IdentityStore();
  for (const v of versions) store.apply('identityUsers', versionKey(v.person_id, v.valid_from), structuredClone(v));
  return store;
}

/** Who an event by `email` at `time` is attributed to, and as whom. */
function attributed(store: IdentityStore, email: string, time: string) {
  const r = resolveEvent(cursorAuditEvent({ id: `${email}@${time}`, time: Date.parse(time), email }), store);
  return { person: r.person?.person_id ?? null, state: r.person ? lifecycleOf(r.person) : null, name: r.person?.display_name ?? null, department: r.person?.department ?? null, method: r.method, confidence: r.confidence };
}

describe('Okta System Log user history', () => {
  it('imports lifecycle steps and profile updates as versions valid from `published`, on one person', async () => {
    const { app, on } = await offlineApp({ env: { TETHER_OKTA_USERS_ORG_URL: 'https://example.okta.com', TETHER_OKTA_USERS_API_TOKEN: 'okta-token-7f3a9c2e41d0' }, key: 'okta-token-7f3a9c2e41d0', now: () => NOW });
    const summary = await app.importFile('okta-users', 'system_log', fixturePath('okta-users', 'system-log.json'), signal());
    expect(summary.feeds.map((f) => [f.dead, f.error])).toEqual([[0, null]]);
    const versions = await on('identityUsers');
    expect(versions.map((v) => [iso(v.valid_from), v.lifecycle_state, v.email])).toEqual([
      ['2025-02-03T08:00:05.120Z', 'active', 'dana.ruiz@example.com'],
      ['2025-02-03T08:00:06.004Z', 'active', 'dana.ruiz@example.com'],
      // the failed suspend of 2025-03-10 changed nothing; the session start is no user change
      ['2025-04-01T12:30:00.000Z', 'active', 'dana.lee@example.com'],
      ['2025-05-05T09:00:00.000Z', 'suspended', 'dana.lee@example.com'],
      ['2025-05-12T09:00:00.000Z', 'active', 'dana.lee@example.com'],
      ['2025-06-30T17:00:00.000Z', 'inactive', 'dana.lee@example.com'],
      ['2025-07-30T17:00:00.000Z', 'inactive', 'dana.lee@example.com'],
    ]);
    expect(new Set(versions.map((v) => v.person_id))).toEqual(new Set([OKTA_ID]));
    expect(versions.every((v) => v.source.platform === 'okta' && v.source.feed === 'system_log' && v.record_kind === 'directory')).toBe(true);
    expect(versions[2]!.aliases).toEqual(expect.arrayContaining([
      { kind: 'external_id', value: '00u1ab2CdExAmPlE3f4' }, { kind: 'email', value: 'dana.lee@example.com' }, { kind: 'former_email', value: 'dana.ruiz@example.com' },
    ]));
    expect(versions[5]!.active).toBe(false);

    const store = storeOf(versions);
    // Before the record existed (a joiner's first AI use, within the provisioning lag), then each stretch between changes.
    expect(attributed(store, 'dana.ruiz@example.com', '2025-02-01T09:00:00Z')).toMatchObject({ person: OKTA_ID, method: 'direct_email', confidence: 0.7 });
    expect(attributed(store, 'dana.ruiz@example.com', '2025-03-01T09:00:00Z')).toMatchObject({ person: OKTA_ID, state: 'active', name: 'Dana Ruiz', confidence: 0.9 });
    expect(attributed(store, 'dana.lee@example.com', '2025-04-15T09:00:00Z')).toMatchObject({ person: OKTA_ID, state: 'active', name: 'Dana Lee', confidence: 0.9 });
    expect(attributed(store, 'dana.ruiz@example.com', '2025-04-15T09:00:00Z')).toMatchObject({ person: OKTA_ID, confidence: 0.6 });
    expect(attributed(store, 'dana.lee@example.com', '2025-05-06T09:00:00Z')).toMatchObject({ person: OKTA_ID, state: 'suspended' });
    expect(attributed(store, 'dana.lee@example.com', '2025-05-20T09:00:00Z')).toMatchObject({ person: OKTA_ID, state: 'active' });
    expect(attributed(store, 'dana.lee@example.com', '2025-07-01T09:00:00Z')).toMatchObject({ person: OKTA_ID, state: 'inactive' });
  });

  it('backfills over /api/v1/logs: bounded since/until windows, the eventType filter, Link rel="next" pages', async () => {
    const rows = fixture<Array<{ published: string; eventType: string }>>('okta-users', 'system-log.json');
    const requests: URL[] = [];
    const fetchFn = (async (input: URL | string) => {
      const url = new URL(String(input));
      requests.push(url);
      const since = Date.parse(url.searchParams.get('since')!);
      const until = Date.parse(url.searchParams.get('until')!);
      const after = Number(url.searchParams.get('after') ?? 0);
      const limit = Number(url.searchParams.get('limit'));
      const inWindow = rows.filter((r) => Date.parse(r.published) >= since && Date.parse(r.published) <= until && (r.eventType.startsWith('user.lifecycle.') || r.eventType.startsWith('user.account.')));
      const page = inWindow.slice(after, after + limit);
      const next = new URL(url);
      next.searchParams.set('after', String(after + limit));
      // Okta adds a next link to full pages, and repeats `self`.
      const link = [`<${url}>; rel="self"`, ...(page.length === limit ? [`<${next}>; rel="next"`] : [])].join(', ');
      return new Response(JSON.stringify(page), { status: 200, headers: { 'content-type': 'application/json', link, 'x-rate-limit-limit': '120', 'x-rate-limit-remaining': '100', 'x-rate-limit-reset': String(Math.floor(NOW / 1000)) } });
    }) as typeof fetch;
    const { app, on } = await offlineApp({
      env: { TETHER_OKTA_USERS_ORG_URL: 'https://example.okta.com', TETHER_OKTA_USERS_API_TOKEN: 'okta-token-7f3a9c2e41d0', TETHER_INGEST_PAGE_LIMIT: '1', TETHER_INGEST_BACKFILL_WINDOW_MS: String(30 * DAY), TETHER_OKTA_USERS_REQUESTS_PER_MINUTE: '0' },
      key: 'okta-token-7f3a9c2e41d0', fetch: fetchFn, now: () => NOW,
    });
    const summary = await app.backfill(['okta-users'], { since: Date.parse('2025-02-01T00:00:00Z'), until: null }, signal());
    expect(summary.feeds.map((f) => [f.feed, f.error])).toEqual([['okta-users/system_log', null]]);
    const versions = await on('identityUsers');
    expect(versions.map((v) => iso(v.valid_from))).toEqual([
      '2025-02-03T08:00:05.120Z', '2025-02-03T08:00:06.004Z', '2025-04-01T12:30:00.000Z', '2025-05-05T09:00:00.000Z',
      '2025-05-12T09:00:00.000Z', '2025-06-30T17:00:00.000Z', '2025-07-30T17:00:00.000Z',
    ]);
    const first = requests[0]!;
    expect(first.pathname).toBe('/api/v1/logs');
    expect(first.searchParams.get('filter')).toMatch(/^eventType sw "user\.lifecycle\." or eventType eq "user\.account\.update_profile"/);
    expect(first.searchParams.get('sortOrder')).toBe('ASCENDING');
    expect(requests.some((u) => u.searchParams.has('after'))).toBe(true);
    // Windows never overlap: each until is one millisecond before the next since.
    const firsts = requests.filter((u) => !u.searchParams.has('after'));
    for (let i = 1; i < firsts.length; i++) expect(Date.parse(firsts[i]!.searchParams.get('since')!) - Date.parse(firsts[i - 1]!.searchParams.get('until')!)).toBe(1);
  });
});

describe('Entra directoryAudits user history', () => {
  it('folds Add, Update, Disable, Delete and Restore user into versions valid from activityDateTime', async () => {
    const { app, on } = await offlineApp({ env: { TETHER_ENTRA_USERS_TENANT_ID: 't-1', TETHER_ENTRA_USERS_CLIENT_ID: 'c-1', TETHER_ENTRA_USERS_CLIENT_SECRET: 'entra-secret-9c1d' }, key: 'entra-secret-9c1d', now: () => NOW });
    const summary = await app.importFile('entra-users', 'directory_audits', fixturePath('entra-users', 'directory-audits.json'), signal());
    expect(summary.feeds.map((f) => [f.dead, f.error])).toEqual([[0, null]]);
    const versions = await on('identityUsers');
    expect(versions.map((v) => [iso(v.valid_from), v.lifecycle_state, v.email, v.display_name, v.department, v.title])).toEqual([
      ['2025-02-03T08:00:02.553Z', 'active', 'lee.park@example.com', 'Lee Park', 'Sales', null],
      ['2025-03-15T10:20:00.000Z', 'active', 'lee.park@example.com', 'Lee Park', 'Finance', 'Analyst'],
      // the failed update to Legal changed nothing
      ['2025-04-10T14:00:00.123Z', 'active', 'lee.kim@example.com', 'Lee Kim', 'Finance', 'Analyst'],
      ['2025-06-01T09:00:00.000Z', 'inactive', 'lee.kim@example.com', 'Lee Kim', 'Finance', 'Analyst'],
      // deleted: a leaver that keeps the addresses it held (the log's UPN is prefixed with the object id)
      ['2025-06-02T09:00:00.000Z', 'inactive', 'lee.kim@example.com', 'Lee Kim', 'Finance', 'Analyst'],
      ['2025-06-20T09:00:00.000Z', 'active', 'lee.kim@example.com', 'Lee Kim', 'Finance', 'Analyst'],
    ]);
    expect(new Set(versions.map((v) => v.person_id))).toEqual(new Set([ENTRA_ID]));
    expect(versions[2]!.aliases).toEqual(expect.arrayContaining([
      { kind: 'upn', value: 'lee.kim@example.com' }, { kind: 'employee_number', value: 'E-2231' },
      { kind: 'former_email', value: 'lee.park@example.com' }, { kind: 'former_upn', value: 'lee.park@example.com' },
    ]));

    const store = storeOf(versions);
    expect(attributed(store, 'lee.park@example.com', '2025-03-01T09:00:00Z')).toMatchObject({ person: ENTRA_ID, state: 'active', department: 'Sales' });
    expect(attributed(store, 'lee.park@example.com', '2025-03-25T09:00:00Z')).toMatchObject({ person: ENTRA_ID, department: 'Finance' });
    expect(attributed(store, 'lee.kim@example.com', '2025-04-11T09:00:00Z')).toMatchObject({ person: ENTRA_ID, name: 'Lee Kim', confidence: 0.9 });
    expect(attributed(store, 'lee.kim@example.com', '2025-06-01T12:00:00Z')).toMatchObject({ person: ENTRA_ID, state: 'inactive' });
    expect(attributed(store, 'lee.kim@example.com', '2025-06-10T12:00:00Z')).toMatchObject({ person: ENTRA_ID, state: 'inactive' });
    expect(attributed(store, 'lee.kim@example.com', '2025-06-21T12:00:00Z')).toMatchObject({ person: ENTRA_ID, state: 'active' });
  });

  it('backfills over auditLogs/directoryAudits: UserManagement in activityDateTime windows, @odata.nextLink verbatim', async () => {
    const rows = fixture<Array<{ activityDateTime: string; category: string }>>('entra-users', 'directory-audits.json');
    const requests: URL[] = [];
    const fetchFn = (async (input: URL | string, init?: RequestInit) => {
      const url = new URL(String(input));
      requests.push(url);
      if (url.pathname === '/t-1/oauth2/v2.0/token') {
        expect(String(init?.body)).toContain('grant_type=client_credentials');
        return new Response(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'graph-token-1' }), { status: 200, headers: { 'content-type': 'application/json' } });
      }
      expect(new Headers(init?.headers).get('authorization')).toBe('Bearer graph-token-1');
      const filter = url.searchParams.get('$filter');
      const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
      const base = filter ?? url.searchParams.get('f')!;
      const [, from, to] = /activityDateTime ge (\S+) and activityDateTime le (\S+)/.exec(base)!;
      const matching = rows.filter((r) => r.category === 'UserManagement' && r.activityDateTime >= from! && r.activityDateTime <= to!.replace('Z', '9999Z'));
      // One record a page; Graph may end with an empty page that has no next link.
      const page = matching.slice(skip, skip + 1);
      const next = skip < matching.length ? `https://graph.example/v1.0/auditLogs/directoryAudits?f=${encodeURIComponent(base)}&$skiptoken=${skip + 1}` : undefined;
      return new Response(JSON.stringify({ '@odata.context': 'x', value: page, ...(next ? { '@odata.nextLink': next } : {}) }), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const { app, on } = await offlineApp({
      env: {
        TETHER_ENTRA_USERS_TENANT_ID: 't-1', TETHER_ENTRA_USERS_CLIENT_ID: 'c-1', TETHER_ENTRA_USERS_CLIENT_SECRET: 'entra-secret-9c1d',
        TETHER_ENTRA_USERS_GRAPH_URL: 'https://graph.example/v1.0', TETHER_ENTRA_USERS_LOGIN_URL: 'https://login.example',
        TETHER_ENTRA_USERS_REQUESTS_PER_MINUTE: '0', TETHER_INGEST_BACKFILL_WINDOW_MS: String(60 * DAY),
      },
      key: 'entra-secret-9c1d', fetch: fetchFn, now: () => NOW,
    });
    const summary = await app.backfill(['entra-users'], { since: Date.parse('2025-02-01T00:00:00Z'), until: null }, signal());
    expect(summary.feeds.map((f) => [f.feed, f.error])).toEqual([['entra-users/directory_audits', null]]);
    const versions = await on('identityUsers');
    expect(versions).toHaveLength(6);
    expect(versions.map((v) => v.lifecycle_state)).toEqual(['active', 'active', 'active', 'inactive', 'inactive', 'active']);
    const first = requests.find((u) => u.pathname === '/v1.0/auditLogs/directoryAudits')!;
    expect(first.searchParams.get('$filter')).toMatch(/^category eq 'UserManagement' and activityDateTime ge \S+Z and activityDateTime le \S+Z$/);
    expect(first.searchParams.get('$orderby')).toBe('activityDateTime asc');
    expect(requests.some((u) => u.searchParams.has('$skiptoken'))).toBe(true);
  });

  it('reads modifiedProperties values as Graph encodes them', () => {
    expect(decoded('["Finance"]')).toBe('Finance');
    expect(decoded('[false]')).toBe(false);
    expect(decoded('"True"')).toBe(true);
    expect(decoded('[]')).toBeNull();
    expect(decoded('plain text')).toBe('plain text');
    expect(decoded(undefined)).toBeUndefined();
  });
});
