// The query layer on a real ClickHouse 18.16: migrations applied by the
// #clickhouse runner into a database of this file's own, the small world of
// fixtures.ts inserted as the sink writes it (with redeliveries), then every
// hunt, report and trail checked against what that world implies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '#clickhouse';
import { createLogger } from '#log';
import { testConfig } from '#testkit';
import { buildQueryApp, type QueryApp } from '../src/app.ts';
import { loadQueryConfig } from '../src/config.ts';
import { EXPORT_FORMATS, parseExport } from '../src/export-format.ts';
import { verifyExport, type TrailRequest } from '../src/trail.ts';
import { EVENTS, REDELIVERIES, seededDatabase, t } from './fixtures.ts';

let db: Awaited<ReturnType<typeof seededDatabase>>;
let app: QueryApp;
const NOW = new Date('2026-02-01T00:00:00Z');
const JANUARY = { fromMs: t('2026-01-01T00:00:00Z'), toMs: t('2026-02-01T00:00:00Z') };

beforeAll(async () => {
  db = await seededDatabase();
  const config = loadQueryConfig({ ...process.env, TETHER_CLICKHOUSE_URL: testConfig().TETHER_CLICKHOUSE_URL, TETHER_CLICKHOUSE_DATABASE: db.database });
  app = buildQueryApp(config, { log: createLogger({ service: 'test', level: 'warn' }), clickhouse: db.ch, now: () => NOW });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function trailRows(request: TrailRequest): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  await app.trail(request, 'ndjson', (c) => void chunks.push(c));
  return chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const ids = (rows: readonly Record<string, unknown>[], key = 'event_id') => rows.map((r) => r[key]);

describe('the seeded tables', () => {
  it('hold the redeliveries as extra rows that queries must collapse', async () => {
    const [raw] = await db.ch.queryRows<{ n: string }>('SELECT count() AS n FROM access_events');
    expect(Number(raw!.n)).toBe(EVENTS.length + REDELIVERIES.length);
  });
});

describe('hunts', () => {
  const run = async (name: string, raw: Record<string, string | string[]> = {}) => (await app.hunt(name, { since: '2026-01-01', ...raw })).rows;

  it('AI admin actions from unmanaged devices: unmanaged and unknown devices, admin objects only', async () => {
    // e01 key created on a BYOD laptop; e05 user updated and e06 project updated (by bob's key) from no known device.
    // Not: e02/e03 (managed Mac), e04 (a login), e14 (a file upload), e07/e08/e10/e12/e17 (reads).
    expect(ids(await run('ai-admin-actions-unmanaged-devices'))).toEqual(['e01', 'e05', 'e06']);
    expect(ids(await run('ai-admin-actions-unmanaged-devices', { include_unknown: '0' }))).toEqual(['e01']);
    expect(ids(await run('ai-admin-actions-unmanaged-devices', { platforms: ['anthropic', 'cursor'] }))).toEqual([]);
    const [e01] = await run('ai-admin-actions-unmanaged-devices', { include_unknown: '0' });
    expect(e01).toMatchObject({ person_id: 'okta:00u_alice', person_email: 'alice@acme.test', device_state: 'unmanaged', device_id: 'dev-byod-9' });
  });

  it('new API keys per person: a renamed person counts once, most keys first', async () => {
    const rows = await run('new-api-keys-per-person');
    expect(rows.map((r) => [r.who, Number(r.keys_created), [...(r.key_ids as string[])].sort()])).toEqual([
      ['okta:00u_alice', 2, ['key_new1', 'key_new2']],
      ['okta:00u_bob', 1, ['key_bob']],
    ]);
    expect(rows[0]).toMatchObject({ latest_email: 'alice.smith@acme.test', from_unmanaged_or_unknown_device: 1 });
    expect(ids(await run('new-api-keys-per-person', { min_keys: '2' }), 'who')).toEqual(['okta:00u_alice']);
  });

  it('events from unattributed actors: the latest enrichment wins', async () => {
    // e10 was unresolved at first; its redelivery, enriched after late identity data, names dave.
    const rows = await run('unattributed-actors');
    expect(rows.map((r) => [r.source_platform, r.actor_kind, r.claimed_email, r.service_account, Number(r.events)])).toEqual([
      ['anthropic', 'human', 'mallory@external.test', '', 1],
      ['anthropic', 'service_account', '', 'svc_x', 1],
    ]);
  });

  it('keys used after their owner left: by the chain at the time, and by later identity data', async () => {
    const rows = await run('keys-used-after-owner-left');
    expect(rows.map((r) => [r.event_id, r.acting_id, r.owner_person_id])).toEqual([
      ['e07', 'openai:api_key:key_sa', 'okta:00u_bob'],
      // A connector (OAuth grant) used after its granting person left counts like a key.
      ['e09', 'google:chatgpt-client:bob@acme.test', 'okta:00u_bob'],
      ['e06', 'openai:api_key:key_bob', 'okta:00u_bob'],
      // Erin was out on Jan 9 (back since): the use still counts.
      ['e12', 'openai:api_key:key_erin', 'okta:00u_erin'],
      // Enriched while the chain still said active; the first carol had left on Jan 5.
      ['e17', 'openai:api_key:key_carol_old', 'okta:00u_carol1'],
    ]);
    expect(rows.find((r) => r.event_id === 'e17')).toMatchObject({ owner_state_at_event: 'active', finding: 'owner left before the event (identity data)' });
  });

  it('unsanctioned AI connectors: live, AI, not on the allow list', async () => {
    expect(ids(await app.hunt('unsanctioned-ai-connectors', {}).then((r) => r.rows), 'connector_id')).toEqual(['google:chatgpt-client:bob@acme.test']);
  });

  it('refuses unknown hunts and parameters by name', async () => {
    await expect(app.hunt('no-such-hunt', {})).rejects.toMatchObject({ code: 'TETHER_QUERY_UNKNOWN' });
    await expect(app.hunt('unattributed-actors', { sinse: '2026-01-01' })).rejects.toThrow(/no parameter "sinse"/);
    await expect(app.hunt('unattributed-actors', { since: "2026-01-01' OR 1=1" })).rejects.toMatchObject({ code: 'TETHER_QUERY_BIND' });
  });
});

describe('connectors', () => {
  it('lists every grant with its granting person resolved as of the grant', async () => {
    const rows = await app.connectors({ provider: '', classification: '', state: 'all', sanctioned: 'any' });
    expect(rows.map((r) => [r.connector_id, r.granting_person_id, r.granting_person_state, r.revoked, r.sanctioned, r.uses])).toEqual([
      ['google:calendly-client:alice.smith@acme.test', 'okta:00u_alice', 'active', false, null, 0],
      ['google:chatgpt-client:bob@acme.test', 'okta:00u_bob', 'inactive', false, false, 1],
      // Granted under alice's old address: still her.
      ['google:claude-client:alice@acme.test', 'okta:00u_alice', 'active', true, true, 0],
    ]);
    const chatgpt = rows[1]!;
    expect(chatgpt).toMatchObject({ ai_classification: 'ai_tool', first_used_ms: t('2026-01-16T13:00:00Z'), last_used_ms: t('2026-01-16T13:00:00Z') });
    expect(chatgpt.scopes).toEqual(['https://www.googleapis.com/auth/drive.readonly', 'https://www.googleapis.com/auth/gmail.readonly']);
    expect(rows[2]).toMatchObject({ revoked_at_ms: t('2026-01-12T00:00:00Z'), granted_at_ms: t('2026-01-04T00:00:00Z') });
  });

  it('filters by state, classification and allow-list status', async () => {
    const pick = async (f: Partial<Parameters<QueryApp['connectors']>[0]>) =>
      ids(await app.connectors({ provider: '', classification: '', state: 'all', sanctioned: 'any', ...f }), 'connector_id');
    expect(await pick({ state: 'revoked' })).toEqual(['google:claude-client:alice@acme.test']);
    expect(await pick({ classification: 'other' })).toEqual(['google:calendly-client:alice.smith@acme.test']);
    expect(await pick({ sanctioned: 'no', state: 'active' })).toEqual(['google:chatgpt-client:bob@acme.test']);
    expect(await pick({ sanctioned: 'unknown' })).toEqual(['google:calendly-client:alice.smith@acme.test']);
    expect(await pick({ provider: 'entra' })).toEqual([]);
  });
});

describe('orphans', () => {
  it('lists live access whose owner is inactive now, with uses after the owner left', async () => {
    const rows = await app.orphans({ kind: '', platform: '', minUsesAfterLeft: 0 });
    const byId = Object.fromEntries(rows.map((r) => [r.identity_id, r]));
    // Not: alice's key (still here, under her old address), bob's revoked key, erin's key (back),
    // the project (no owner), the revoked or alice-granted connectors.
    expect(Object.keys(byId).sort()).toEqual([
      'google:chatgpt-client:bob@acme.test',
      'openai:api_key:key_bob',
      'openai:api_key:key_carol_old',
      'openai:api_key:key_sa',
      'openai:service_account:svc_bob',
    ]);
    const bobLeft = t('2026-01-15T00:00:00Z');
    expect(byId['openai:api_key:key_bob']).toMatchObject({ owner_person_id: 'okta:00u_bob', owner_left_at_ms: bobLeft, uses: 2, uses_after_left: 1, last_used_ms: t('2026-01-16T12:00:00Z') });
    // Owned through its service account; the platform saw a later use than any event.
    expect(byId['openai:api_key:key_sa']).toMatchObject({ owner_via: 'parent', uses_after_left: 1, last_used_ms: t('2026-01-19T00:00:00Z') });
    // carol@ belongs to the second carol now; the key was the first carol's.
    expect(byId['openai:api_key:key_carol_old']).toMatchObject({ owner_person_id: 'okta:00u_carol1', owner_left_at_ms: t('2026-01-05T00:00:00Z'), uses_after_left: 1 });
    expect(byId['google:chatgpt-client:bob@acme.test']).toMatchObject({ identity_kind: 'connector', owner_via: 'grant', uses_after_left: 1 });
  });

  it('filters by kind and by uses after leaving', async () => {
    expect(ids(await app.orphans({ kind: 'connector', platform: '', minUsesAfterLeft: 0 }), 'identity_id')).toEqual(['google:chatgpt-client:bob@acme.test']);
    expect(await app.orphans({ kind: '', platform: '', minUsesAfterLeft: 2 })).toEqual([]);
  });
});

describe('trail', () => {
  it('follows a person across a rename, by either address, each event once', async () => {
    const byNew = await trailRows({ subject: 'email', value: 'alice.smith@acme.test', ...JANUARY });
    const byOld = await trailRows({ subject: 'email', value: 'ALICE@acme.test', ...JANUARY });
    expect(ids(byNew)).toEqual(['e01', 'e02', 'e03', 'e04', 'e05']);
    expect(ids(byOld)).toEqual(ids(byNew));
    // Person state as it was at each event's time.
    expect(byNew.map((r) => r.person_email)).toEqual(['alice@acme.test', 'alice.smith@acme.test', 'alice.smith@acme.test', 'alice.smith@acme.test', 'alice.smith@acme.test']);
    expect(byNew[0]).toMatchObject({ device_id: 'dev-byod-9', device_managed: false, src_user_agent: "curl/8 ' OR 1=1 --" });
  });

  it('a reused address shows both people, each row naming its own', async () => {
    const rows = await trailRows({ subject: 'email', value: 'carol@acme.test', ...JANUARY });
    expect(rows.map((r) => [r.event_id, r.person_id])).toEqual([['e15', 'okta:00u_carol1'], ['e17', 'okta:00u_carol1'], ['e16', 'okta:00u_carol2']]);
    expect(ids(await trailRows({ subject: 'person', value: 'okta:00u_carol2', ...JANUARY }))).toEqual(['e16']);
  });

  it('an NHI trail holds its creation and every use through it, with the chain as it was', async () => {
    const rows = await trailRows({ subject: 'nhi', value: 'openai:api_key:key_bob', ...JANUARY });
    expect(ids(rows)).toEqual(['e00', 'e08', 'e06']);
    expect(rows[2]).toMatchObject({ chain_ids: ['openai:api_key:key_bob', 'openai:project:proj_1', 'okta:00u_bob'], chain_link_statuses: ['active', 'active', 'inactive'] });
    expect(ids(await trailRows({ subject: 'connector', value: 'google:chatgpt-client:bob@acme.test', ...JANUARY }))).toEqual(['e09']);
  });

  it('keeps to the range: from inclusive, to exclusive, to the millisecond', async () => {
    const e02 = t('2026-01-11T09:00:00Z');
    const e03 = t('2026-01-11T09:30:00Z');
    expect(ids(await trailRows({ subject: 'person', value: 'okta:00u_alice', fromMs: e02, toMs: e03 }))).toEqual(['e02']);
    expect(ids(await trailRows({ subject: 'person', value: 'okta:00u_alice', fromMs: e02 + 1, toMs: e03 + 1 }))).toEqual(['e03']);
  });

  it.each(EXPORT_FORMATS)('a %s export verifies, and a modified row is named', async (format) => {
    const chunks: string[] = [];
    const manifest = await app.trail({ subject: 'person', value: 'okta:00u_bob', ...JANUARY }, format, (c) => void chunks.push(c));
    const text = chunks.join('');
    expect(manifest.row_count).toBe(5);
    expect(manifest.time_range).toEqual({ from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' });
    expect(manifest.query).toContain("person_id = 'okta:00u_bob'");
    expect(verifyExport(text, manifest)).toEqual({ ok: true, rowCount: 5, finalDigest: manifest.final_digest });

    // A reviewer's copy with bob's third event quietly moved to another action.
    const rows = parseExport(format, text, manifest.columns);
    const action = manifest.columns.findIndex((c) => c.name === 'action');
    const third = rows[2]![action] as string;
    const tampered = text.replace(format === 'csv' ? `"${third}"` : `"action":"${third}"`, format === 'csv' ? '"files.delete"' : '"action":"files.delete"');
    expect(tampered).not.toBe(text);
    expect(verifyExport(tampered, manifest)).toMatchObject({ ok: false, reason: 'row_modified', firstBadRow: 3 });
  });

  it('binds a hostile subject as a value: no extra rows', async () => {
    for (const value of ["x' OR 1=1 --", "okta:00u_bob' OR '1'='1", "') OR person_id IS NOT NULL OR ('"]) {
      expect(await trailRows({ subject: 'person', value, ...JANUARY })).toEqual([]);
      expect(await trailRows({ subject: 'email', value, ...JANUARY })).toEqual([]);
    }
  });
});
