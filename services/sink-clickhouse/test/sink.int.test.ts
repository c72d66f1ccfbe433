// The sink on the real servers: Kafka (enriched events, identity versions,
// dead letters) -> sink -> ClickHouse 18.16, read back deduplicated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLES, VIEWS, accessEventFromRow } from '#clickhouse';
import type { DeadLetter, EnrichedAccessEvent } from '#schemas';
import { captureLogger, waitFor } from '#testkit';
import { buildSinkApp, type SinkApp } from '../src/app.ts';
import {
  connectorVersion, deadLetter, deviceVersion, humanKeyCreated, nhiVersion, numberedEvent, personVersion, sampleEvents,
} from './fixtures.ts';
import { sinkTestEnv, type SinkTestEnv } from './helpers.ts';

const SECRET = 'sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q';

describe('sink-clickhouse on the real servers', () => {
  let env: SinkTestEnv;
  let app: SinkApp;
  const { log, lines } = captureLogger('sink-clickhouse');

  beforeAll(async () => {
    env = await sinkTestEnv();
    app = buildSinkApp(env.config({ TETHER_SINK_BATCH_MAX_WAIT_MS: '200', TETHER_SINK_BATCH_ROWS: '500' }), { log });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await env?.close();
  });

  /** What a consumer of the topic decodes: Avro floats are float32. */
  async function asDecoded(event: EnrichedAccessEvent): Promise<EnrichedAccessEvent> {
    return env.codec.decode('accessEnriched', env.codec.encode('accessEnriched', event));
  }

  it('lands every field of an enriched event, once, however often it is delivered', async () => {
    const events = sampleEvents();
    const byKey = (e: EnrichedAccessEvent) => e.person?.person_id ?? e.event.event_id;
    await env.produce('accessEnriched', events, byKey);
    await env.produce('accessEnriched', events, byKey); // a redelivery of the same records

    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.accessEvents}`)) >= events.length * 2, {
      what: 'both deliveries inserted',
    });
    await env.settled('sinkEvents', 'accessEnriched');
    const rows = await env.ch.queryRows(`SELECT * FROM ${TABLES.accessEvents} FINAL ORDER BY event_time`);
    expect(rows).toHaveLength(events.length);
    const expected = await Promise.all(events.map(asDecoded));
    expect(rows.map(accessEventFromRow)).toEqual(expected.sort((a, b) => a.event.time - b.event.time));

    // The person-first copy holds the same events under their person key.
    const byPerson = await env.ch.queryRows<{ person_key: string; event_id: string }>(
      `SELECT person_key, event_id FROM ${TABLES.accessEventsByPerson} FINAL ORDER BY person_key, event_time`,
    );
    expect(byPerson).toHaveLength(events.length);
    expect(byPerson.map((r) => r.person_key).sort()).toEqual(['00u1dana', '00u1dana', '00u2lee', 'cursor:api_key:key_9Jf2']);

    const daily = await env.ch.queryRows<{ person_key: string; events: string }>(
      `SELECT person_key, events FROM ${VIEWS.personDailyEvents} WHERE person_key = '00u1dana'`,
    );
    expect(daily).toEqual([{ person_key: '00u1dana', events: '2' }]);
  });

  it('lands identity versions and dead letters, skips tombstones, and serves the latest-state views', async () => {
    const revoked = connectorVersion(false, Date.UTC(2026, 0, 3));
    await env.produce('identityUsers', [personVersion(), personVersion()], (v) => `${v.person_id}@${v.valid_from}`);
    await env.produceRaw('identityUsers', [null], '00u1dana@1');
    await env.produce('identityDevices', [deviceVersion()], (v) => `${v.device_id}@${v.valid_from}`);
    await env.produce('identityNhi', [nhiVersion()], (v) => `${v.nhi_id}@${v.valid_from}`);
    await env.produce('identityConnectors', [connectorVersion(), revoked, connectorVersion()], (v) => `${v.connector_id}@${v.valid_from}`);
    await env.produce('dlq', [deadLetter(), deadLetter()], (d) => d.source);

    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.connectorsHistory}`)) >= 3, { what: 'connector versions' });
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.deadLetters}`)) >= 2, { what: 'dead letters' });
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.personsHistory}`)) >= 2, { what: 'person versions' });
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.nhiHistory}`)) >= 1, { what: 'nhi versions' });
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.devicesHistory}`)) >= 1, { what: 'device versions' });

    expect(await env.count(`SELECT count() AS n FROM ${TABLES.personsHistory} FINAL`)).toBe(1);
    expect(await env.count(`SELECT count() AS n FROM ${TABLES.connectorsHistory} FINAL`)).toBe(2);
    expect(await env.count(`SELECT count() AS n FROM ${TABLES.deadLetters} FINAL WHERE service = 'ingest-ai'`)).toBe(1);

    const [person] = await env.ch.queryRows(`SELECT * FROM ${VIEWS.personsLatest}`);
    expect(person).toMatchObject({
      person_id: '00u1dana', active: 0, lifecycle_state: 'inactive', alias_kinds: ['email', 'platform_user_id'],
      alias_values: ['dana.nunez@example.com', 'openai:user-K9p3Lm'], valid_from_ms: String(personVersion().valid_from),
    });
    const [device] = await env.ch.queryRows(`SELECT * FROM ${VIEWS.devicesLatest}`);
    expect(device).toMatchObject({ device_id: 'dev-C02XK1ABJGH5', managed: 1, compliant: null, ip_addresses: ['10.0.4.17', '198.51.100.24'] });
    const [nhi] = await env.ch.queryRows(`SELECT * FROM ${VIEWS.nhiLatest}`);
    expect(nhi).toMatchObject({ nhi_id: 'openai:api_key:key_Sv55Hk', parent_nhi_id: 'openai:service_account:svc_acct_Pq7Yt', last_used_at_ms: null });

    // The connector was granted, then revoked; its own grant event is not a use of it (migration 0008), so no use is counted.
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`)) >= 4, { what: 'events of the first test' });
    const [inventory] = await env.ch.queryRows(`SELECT * FROM ${VIEWS.connectorInventory}`);
    expect(inventory).toMatchObject({
      connector_id: connectorVersion().connector_id, revoked: 1, status: 'revoked', granted_by_email: 'lee@example.com',
      granted_at_ms: String(connectorVersion().valid_from), revoked_at_ms: String(revoked.valid_from),
      ai_classification: 'ai_tool', sanctioned: 0, uses: '0', first_used_ms: null,
    });

    const [letter] = await env.ch.queryRows(`SELECT * FROM ${TABLES.deadLetters} FINAL WHERE service = 'ingest-ai'`);
    expect(letter).toMatchObject({ stage: 'normalising', reason_code: 'TETHER_NORMALISE_INVALID', original_topic: null });
    expect(Buffer.from(String(letter!.original_base64), 'base64')).toEqual(deadLetter().original);
  });

  it('dead-letters what ClickHouse rejects or cannot decode, with the reason, while the rest of the batch lands', async () => {
    const good = [numberedEvent(1001), numberedEvent(1002), numberedEvent(1003)];
    const negativeWait = numberedEvent(1004);
    negativeWait.enrichment = { ...negativeWait.enrichment, waited_ms: -1 }; // UInt64 column: the server refuses it
    const beyondDateTime = numberedEvent(1005);
    beyondDateTime.event = { ...beyondDateTime.event, time: 2 ** 32 * 1000 + 5 }; // DateTime would wrap silently
    const garbage = Buffer.from('{"not":"avro"}');
    await env.producer.send([
      ...[good[0]!, negativeWait, good[1]!, beyondDateTime, good[2]!].map((e) => ({
        topic: env.topics.accessEnriched, key: 'same-partition', value: env.codec.encode('accessEnriched', e),
      })),
      { topic: env.topics.accessEnriched, key: 'same-partition', value: garbage },
    ]);

    const ids = good.map((e) => `'${e.event.event_id}'`).join(',');
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL WHERE event_id IN (${ids})`)) === 3, { what: 'the good rows' });
    const sinkLetters = () => env.ch.queryRows<Record<string, unknown>>(
      `SELECT stage, reason_code, message, original_base64, original_topic FROM ${TABLES.deadLetters} FINAL WHERE service = 'sink-clickhouse' ORDER BY original_offset`,
    );
    await waitFor(async () => (await sinkLetters()).length === 3, { what: 'three dead letters from the sink' });
    const letters = await sinkLetters();
    expect(letters.map((l) => [l.stage, l.reason_code])).toEqual([
      ['writing', 'TETHER_SINK_ROW_REJECTED'],
      ['writing', 'TETHER_SINK_ROW_REJECTED'],
      ['parsing', 'TETHER_DECODE'],
    ]);
    // RowBinary carries no types: a value its column cannot hold is refused before sending, naming the column.
    expect(letters[0]!.message).toMatch(/enrichment_waited_ms -1 does not fit the column's type UInt64/);
    expect(letters[1]!.message).toMatch(/outside the DateTime range/);
    expect(letters.every((l) => l.original_topic === env.topics.accessEnriched)).toBe(true);
    const rejected = await env.codec.decode('accessEnriched', Buffer.from(String(letters[0]!.original_base64), 'base64'));
    expect(rejected.event.event_id).toBe(negativeWait.event.event_id);
    expect(Buffer.from(String(letters[2]!.original_base64), 'base64')).toEqual(garbage);
    expect(await env.count(`SELECT count() AS n FROM ${TABLES.accessEvents} WHERE event_id IN ('${negativeWait.event.event_id}', '${beyondDateTime.event.event_id}')`)).toBe(0);
  });

  it('keeps secret-shaped tokens out of ClickHouse and payloads out of the logs', async () => {
    const leaky = numberedEvent(2001);
    const raw = JSON.stringify({ id: 'audit_log-leak', type: 'api_key.created', effective_at: 1767312000, note: `pasted ${SECRET} by mistake`, headers: { Authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U' } });
    leaky.event = { ...leaky.event, raw: Buffer.from(raw), unmapped: JSON.stringify({ note: SECRET }) };
    const letter: DeadLetter = { ...deadLetter(), original: Buffer.from(`{"key":"${SECRET}"}`), message: `bad key ${SECRET}` };
    await env.produce('accessEnriched', [leaky], (e) => e.event.event_id);
    await env.produce('dlq', [letter], (d) => d.source);

    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.accessEvents} WHERE event_id = '${leaky.event.event_id}'`)) === 1, { what: 'the leaky event' });
    await waitFor(async () => (await env.count(`SELECT count() AS n FROM ${TABLES.deadLetters} WHERE message LIKE 'bad key%'`)) === 1, { what: 'the leaky dead letter' });
    const [row] = await env.ch.queryRows<{ raw: string; unmapped: string }>(`SELECT raw, unmapped FROM ${TABLES.accessEvents} WHERE event_id = '${leaky.event.event_id}'`);
    expect(row!.raw).toContain('pasted [redacted] by mistake');
    expect(row!.raw).toContain('Bearer [redacted]');
    expect(row!.unmapped).toBe('{"note":"[redacted]"}');
    const [stored] = await env.ch.queryRows<{ message: string; original_base64: string }>(`SELECT message, original_base64 FROM ${TABLES.deadLetters} WHERE message LIKE 'bad key%'`);
    expect(stored!.message).toBe('bad key [redacted]');
    expect(Buffer.from(stored!.original_base64, 'base64').toString()).toBe('{"key":"[redacted]"}');

    const everything = await env.ch.queryRows<{ n: string }>(
      `SELECT count() AS n FROM (SELECT raw AS t FROM ${TABLES.accessEvents} UNION ALL SELECT unmapped AS t FROM ${TABLES.accessEvents} UNION ALL SELECT message AS t FROM ${TABLES.deadLetters}) WHERE position(t, '${SECRET}') > 0`,
    );
    expect(everything).toEqual([{ n: '0' }]);
    // 18.16 has no base64Decode: the originals are checked here.
    const originals = await env.ch.queryRows<{ original_base64: string }>(`SELECT original_base64 FROM ${TABLES.deadLetters}`);
    expect(originals.filter((o) => Buffer.from(o.original_base64, 'base64').includes(SECRET))).toEqual([]);
    const logged = lines.join('\n');
    expect(logged).not.toContain(SECRET);
    expect(logged).not.toContain('audit_log-7Qm2xZ'); // no raw payload of any event
    expect(logged).not.toContain('pasted');
  });

  it('reports liveness, readiness from a real query on its tables and its dependencies, and the metrics contract', async () => {
    const live = await fetch(`http://127.0.0.1:${app.port()}/health`);
    expect(live.status).toBe(200);
    expect(((await live.json()) as { checks: unknown }).checks).toEqual({
      'kafka:events': { ok: true },
      'kafka:identity': { ok: true },
      'kafka:dlq': { ok: true },
      'kafka:findings': { ok: true },
    });
    const res = await fetch(`http://127.0.0.1:${app.port()}/ready`);
    const body = (await res.json()) as { state: string; checks: Record<string, { ok: boolean }> };
    expect(res.status).toBe(200);
    expect(body.state).toBe('running');
    expect(body.checks).toEqual({
      'clickhouse:access_events': { ok: true },
      'clickhouse:dead_letters': { ok: true },
      'clickhouse:findings': { ok: true },
      'clickhouse:persons_history': { ok: true },
      'kafka:events': { ok: true },
      'kafka:identity': { ok: true },
      'kafka:dlq': { ok: true },
      'kafka:findings': { ok: true },
      kafka: { ok: true },
      registry: { ok: true },
      clickhouse: { ok: true },
      schema_migrated: { ok: true },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${app.port()}/metrics`)).text();
    expect(metrics).toMatch(/tether_events_sent_total\{component="events",service="sink-clickhouse"\} \d+/);
    expect(metrics).toMatch(/tether_events_dropped_total\{component="events",intentional="false",service="sink-clickhouse"\} 3/);
    // The negative wait and the time beyond DateTime of the rejection test: both refused for their columns.
    expect(metrics).toMatch(/tether_sink_rows_rejected_total\{table="access_events",service="sink-clickhouse"\} 2/);
  });
});
