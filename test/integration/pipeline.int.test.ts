// The whole slice as deployed, bytes in at the sources and rows out of
// ClickHouse, with the identity data arriving AFTER the events: the audit
// export is imported first (every event lands unattributed), then the
// directory, the Fleet hosts and the OpenAI inventory. The running enrich
// service re-attributes the events as of their own time, and ClickHouse
// (deduplicated) answers with each event once, attributed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import { createClickHouse, migrate, TABLES } from '#clickhouse';
import { createLogger } from '#log';
import { serviceProcesses, testConfig, testKafka, uniqueName, uniqueTopicPrefix, waitFor } from '#testkit';
import { serveRecordedOpenAi } from '../../scripts/demo/recorded-api.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SAMPLES = path.join(ROOT, 'samples');
const ADMIN_KEY = 'sk-admin-pipeline-4Hq8Zr2Wv6Xm1Tn5';

describe('the pipeline with identity data that arrives after the events', () => {
  const config = testConfig();
  const prefix = uniqueTopicPrefix();
  const database = uniqueName('pipeline');
  const ch = createClickHouse({ url: config.TETHER_CLICKHOUSE_URL, database, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD });
  const env: NodeJS.ProcessEnv = { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_CLICKHOUSE_DATABASE: database, TETHER_LOG_LEVEL: 'info' };

  afterAll(async () => {
    await stopAll();
    await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await ch.close();
    const admin = await testKafka('kafkajs').admin();
    await admin.deleteTopics(Object.values(topicNames(prefix))).catch(() => undefined);
    await admin.close();
  });

  const { run, start, until, stopAll } = serviceProcesses(env);

  const rows = <T>(sql: string) => ch.queryRows<T>(sql);
  const count = async (sql: string) => Number((await rows<{ n: string }>(sql))[0]?.n ?? 0);

  it('lands every event once, unattributed at first, then attributed as of its time once the identities arrive', { timeout: 300_000 }, async () => {
    await migrate({ clickhouse: { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD }, database, log: createLogger({ service: 'test', level: 'warn' }) });
    // The export holds one malformed line among its events.
    const expected = readFileSync(path.join(SAMPLES, 'openai/audit-log-export.jsonl'), 'utf8').trim().split('\n').length - 1;

    start('services/enrich/src/index.ts', [], { TETHER_ENRICH_PORT: '0', TETHER_ENRICH_LATE_WAIT_MS: '500', TETHER_ENRICH_GIVE_UP_MS: '0' });
    start('services/sink-clickhouse/src/index.ts', [], { TETHER_SINK_PORT: '0', TETHER_SINK_BATCH_MAX_WAIT_MS: '200' });

    // 1. The events, with no identity data anywhere yet.
    await run('services/ingest-ai/src/index.ts', ['openai', 'import', path.join(SAMPLES, 'openai/audit-log-export.jsonl')]);
    await until(async () => (await count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`)) === expected || undefined, `${expected} events in ClickHouse`);
    expect(await count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL WHERE attribution_method != 'unresolved'`)).toBe(0);

    // 2. The identity data, later: directory, devices, and the OpenAI inventory through its (recorded) API.
    await run('services/ingest-directory/src/index.ts', ['import', path.join(SAMPLES, 'directory/hr-history.csv')]);
    for (const file of ['hosts-2026-03.json', 'hosts-2026-10.json']) await run('services/ingest-devices/src/index.ts', ['import', path.join(SAMPLES, 'fleet', file)]);
    const api = await serveRecordedOpenAi(path.join(SAMPLES, 'openai'), ADMIN_KEY);
    try {
      await run('services/ingest-ai/src/index.ts', ['openai', 'backfill', '--since', new Date(Date.now() - 10 * 60_000).toISOString()], {
        TETHER_OPENAI_BASE_URL: api.baseUrl, TETHER_OPENAI_ADMIN_KEY: ADMIN_KEY,
      });
    } finally {
      await api.close();
    }

    // Ana's events: two people held her address; each event names the one who held it then, in that state.
    type Row = { event_time_ms: string; person_id: string | null; person_lifecycle_state: string | null; attribution_method: string; reasons: string[] };
    const ana = () => rows<Row>(`
      SELECT toString(event_time_ms) AS event_time_ms, person_id, person_lifecycle_state, attribution_method, reasons
      FROM ${TABLES.accessEvents} FINAL
      WHERE lower(ifNull(actor_email, '')) = 'ana.lima@example.com' OR has(chain_ids, 'openai:api_key:key_ana1')
      ORDER BY event_time_ms`);
    const leftAt = Date.parse('2026-09-30T00:00:00Z');
    const reusedFrom = Date.parse('2026-11-01T00:00:00Z');
    const expectedHolder = (t: number) =>
      t < leftAt ? { person_id: 'workday:E200', person_lifecycle_state: 'active' }
        : t < reusedFrom ? { person_id: 'workday:E200', person_lifecycle_state: 'inactive' }
          : { person_id: 'workday:E400', person_lifecycle_state: 'active' };
    // Identity data lands in parts (the leaver's records before the address's next holder), so an
    // event may be re-attributed more than once on its way: wait for where the whole data leads.
    const attributed = await until(async () => {
      const now = await ana();
      const settled = now.length > 0 && now.every((r) => {
        const want = expectedHolder(Number(r.event_time_ms));
        return r.person_id === want.person_id && r.person_lifecycle_state === want.person_lifecycle_state;
      });
      return settled ? now : undefined;
    }, "Ana's events re-attributed in ClickHouse");
    for (const r of attributed) {
      expect(r.reasons).toContain('reattributed_after_late_identity');
      expect(r).toMatchObject(expectedHolder(Number(r.event_time_ms)));
    }
    expect(new Set(attributed.map((r) => r.person_id))).toEqual(new Set(['workday:E200', 'workday:E400']));

    // Each event once in query results, however often it was written; the malformed line is a dead letter.
    expect(await count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`)).toBe(expected);
    expect(await count(`SELECT uniqExact(event_id) AS n FROM ${TABLES.accessEvents}`)).toBe(expected);
    await waitFor(async () => (await count(`SELECT count() AS n FROM ${TABLES.deadLetters} WHERE service = 'ingest-ai'`)) >= 1 || undefined, { what: 'the malformed line dead-lettered' });
    expect(await count(`SELECT count() AS n FROM ${TABLES.accessEvents} WHERE position(raw, '${ADMIN_KEY}') > 0`)).toBe(0);
  });
});
