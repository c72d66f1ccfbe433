// A person's trail reads the person-first copy (access_events_by_person) and
// must still show each event once, under the person of its latest
// enrichment: a redelivered event once, a re-enriched event with its newest
// values, an event re-attributed to someone else not at all in the old
// person's trail. Checked on the real 18.16 server while the copies sit in
// separate parts (before any merge) and again after OPTIMIZE ... FINAL, and
// against the table of record (access_events FINAL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, accessEventRow, createClickHouse, migrate, type ClickHouse } from '#clickhouse';
import { createLogger } from '#log';
import { testConfig, uniqueName } from '#testkit';
import { buildQueryApp, type QueryApp } from '../src/app.ts';
import { loadQueryConfig } from '../src/config.ts';
import type { TrailRequest } from '../src/trail.ts';
import { enriched, personAt, t } from './fixtures.ts';

const ALICE = personAt('okta:00u_alice', 'alice@acme.test', 'active', '2026-01-01T00:00:00Z');
const ALICE_MOVED = { ...ALICE, department: 'Finance', version_valid_from: t('2026-01-05T00:00:00Z') };
const BOB = personAt('okta:00u_bob', 'bob@acme.test', 'active', '2026-01-01T00:00:00Z');
const JANUARY = { fromMs: t('2026-01-01T00:00:00Z'), toMs: t('2026-02-01T00:00:00Z') };

const at = '2026-01-10T09:00:00Z';
const event = (id: string, person: typeof ALICE, enrichedAt: string, when = at) =>
  enriched({ id, at: when, action: 'files.list', person, enrichedAt });

/** Deliveries in order, each its own insert (its own part), as the sink writes them over time. */
const DELIVERIES = [
  // x1: alice first, then re-attributed to bob by a later enrichment.
  [event('x1', ALICE, '2026-01-10T10:00:00Z')],
  // x2: bob's, delivered twice with the same enrichment.
  [event('x2', BOB, '2026-01-10T10:00:00Z', '2026-01-11T09:00:00Z')],
  [event('x2', BOB, '2026-01-10T10:00:00Z', '2026-01-11T09:00:00Z')],
  // x3: alice's, enriched again for alice after her department changed: the newer values win.
  [event('x3', ALICE, '2026-01-12T10:00:00Z', '2026-01-12T09:00:00Z')],
  [event('x3', ALICE_MOVED, '2026-01-13T10:00:00Z', '2026-01-12T09:00:00Z')],
  // x4: bob first, then alice, then (an older enrichment redelivered late) bob again: alice's is the latest.
  [event('x4', BOB, '2026-01-14T10:00:00Z', '2026-01-14T09:00:00Z')],
  [event('x4', ALICE, '2026-01-15T10:00:00Z', '2026-01-14T09:00:00Z')],
  [event('x4', BOB, '2026-01-14T10:00:00Z', '2026-01-14T09:00:00Z')],
  [event('x1', BOB, '2026-01-11T10:00:00Z')],
  // x5: alice's, outside the range asked for.
  [event('x5', ALICE, '2026-02-02T10:00:00Z', '2026-02-02T09:00:00Z')],
];

let ch: ClickHouse;
let database: string;
let app: QueryApp;

beforeAll(async () => {
  const config = testConfig();
  const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
  database = uniqueName('tether_trail');
  await migrate({ clickhouse: server, database, log: createLogger({ service: 'test', level: 'warn' }) });
  ch = createClickHouse({ ...server, database });
  // No background merge may collapse the copies before the first checks.
  for (const table of [TABLES.accessEvents, TABLES.accessEventsByPerson]) await ch.command(`SYSTEM STOP MERGES ${database}.${table}`);
  for (const rows of DELIVERIES) await ch.insertRows(TABLES.accessEvents, rows.map(accessEventRow));
  app = buildQueryApp(loadQueryConfig({ ...process.env, TETHER_CLICKHOUSE_DATABASE: database }), {
    log: createLogger({ service: 'test', level: 'warn' }), clickhouse: ch, now: () => new Date('2026-02-03T00:00:00Z'),
  });
});

afterAll(async () => {
  await app?.close();
  await ch?.command(`DROP DATABASE IF EXISTS ${database}`);
  await ch?.close();
});

async function trail(request: TrailRequest): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  await app.trail(request, 'ndjson', (c) => void chunks.push(c));
  return chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The same question asked of the table of record. */
async function ofRecord(person: string): Promise<string[]> {
  const rows = await ch.queryRows<{ event_id: string }>(
    `SELECT event_id FROM ${TABLES.accessEvents} FINAL WHERE person_id = '${person}' AND event_time_ms >= ${JANUARY.fromMs} AND event_time_ms < ${JANUARY.toMs} ORDER BY event_time_ms, event_id`,
  );
  return rows.map((r) => r.event_id);
}

function checks() {
  it("shows each event once, under its latest attribution, and nothing re-attributed away", async () => {
    const alice = await trail({ subject: 'person', value: ALICE.person_id, ...JANUARY });
    const bob = await trail({ subject: 'person', value: BOB.person_id, ...JANUARY });
    expect(alice.map((r) => r.event_id)).toEqual(['x3', 'x4']);
    expect(bob.map((r) => r.event_id)).toEqual(['x1', 'x2']);
    expect(alice.map((r) => r.event_id)).toEqual(await ofRecord(ALICE.person_id));
    expect(bob.map((r) => r.event_id)).toEqual(await ofRecord(BOB.person_id));
  });

  it('carries the values of the latest enrichment', async () => {
    const [x3] = await trail({ subject: 'person', value: ALICE.person_id, fromMs: t('2026-01-12T00:00:00Z'), toMs: t('2026-01-13T00:00:00Z') });
    expect(x3).toMatchObject({ event_id: 'x3', person_department: 'Finance', enriched_at_ms: t('2026-01-13T10:00:00Z') + 300_000 });
  });
}

describe("a person's trail before the copies are merged", () => {
  it('reads a table that still holds every delivery', async () => {
    const [row] = await ch.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEventsByPerson}`);
    expect(Number(row!.n)).toBe(DELIVERIES.length);
  });
  checks();
});

describe("a person's trail after the merges", () => {
  beforeAll(async () => {
    for (const table of [TABLES.accessEvents, TABLES.accessEventsByPerson]) await ch.command(`SYSTEM START MERGES ${database}.${table}`);
    await ch.command(`OPTIMIZE TABLE ${TABLES.accessEvents} FINAL`);
    await ch.command(`OPTIMIZE TABLE ${TABLES.accessEventsByPerson} FINAL`);
  });
  it('reads tables merged down to one row per key', async () => {
    const [row] = await ch.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEventsByPerson}`);
    // x1 and x4 stay under both people; x2 and x3 collapse.
    expect(Number(row!.n)).toBe(7);
  });
  checks();
});
