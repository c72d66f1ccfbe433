// The enrichment scenario (services/enrich/test/scenario.int.test.ts) on the
// real broker, registry and ClickHouse, through enrich -> detect -> sink ->
// query: Dana's key used after she left, plus three events this scenario adds
// for the stateful and shadow rules (Lee creating three keys within the hour,
// a contractor's platform account no directory person stands behind). The
// pack must find exactly those three, once each, in ClickHouse and through
// the query CLI and HTTP API.
import { describe, expect, it, onTestFinished } from 'vitest';
import { createClickHouse, migrate } from '#clickhouse';
import { createLogger } from '#log';
import { testConfig, uniqueName, waitFor } from '#testkit';
import { harness } from '../../enrich/test/harness.ts';
import { googleTokenEvent, openaiKeyEvent, openaiSessionEvent, anthropicSystemEvent } from '../../enrich/test/fixtures/events.ts';
import { at, connectorGrant, device, directoryPerson, nonHuman, platformAccount } from '../../enrich/test/fixtures/identities.ts';
import { buildSinkApp } from '../../sink-clickhouse/src/app.ts';
import { loadSinkConfig } from '../../sink-clickhouse/src/config.ts';
import { startApi } from '../../query/src/api.ts';
import { buildQueryApp } from '../../query/src/app.ts';
import { loadQueryConfig } from '../../query/src/config.ts';
import { PassThrough } from 'node:stream';
import { buildDetectApp } from '../src/app.ts';
import { main } from '../src/cli.ts';
import { loadDetectConfig } from '../src/config.ts';
import { loadRules } from '../src/rules/load.ts';

const danaFields = { email: 'dana@example.com', display_name: 'Dana Ruiz' };
const identities = [
  directoryPerson('00uDana', at('2025-01-06T09:00:00Z'), { ...danaFields, department: 'Sales', title: 'AE' }),
  directoryPerson('00uDana', at('2025-03-01T09:00:00Z'), { ...danaFields, department: 'Finance', title: 'Analyst' }),
  directoryPerson('00uDana', at('2025-06-30T17:00:00Z'), { ...danaFields, department: 'Finance', title: 'Analyst', active: false, lifecycle_state: 'inactive' }),
  platformAccount('openai', 'user-K9p3Lm', at('2025-01-07T10:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Ruiz' }),
  directoryPerson('00uLee', at('2024-11-01T09:00:00Z'), { email: 'lee@example.com', display_name: 'Lee Kim', department: 'Engineering' }),
  directoryPerson('00uSam', at('2024-10-01T09:00:00Z'), { email: 'sam@example.com', display_name: 'Sam Lee', department: 'Research' }),
  nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2024-12-01T00:00:00Z'), { name: 'billing-bot' }),
  nonHuman('openai', 'api_key', 'key_Zx81Qw', at('2025-01-10T12:05:00Z'), {
    name: 'dana-laptop', parent_nhi_id: 'openai:project:proj_Ab12Cd34', owner_email: 'dana@example.com',
    owner_platform_user_id: 'openai:user-K9p3Lm', created_at: at('2025-01-10T12:00:00Z'),
  }),
  device('dev-C02XK1', at('2025-01-06T08:00:00Z'), { serial: 'C02XK1', hostname: 'dana-mbp', assigned_person_id: '00uDana', ip_addresses: ['10.0.4.17'] }),
  device('dev-C02XK1', at('2025-07-05T08:00:00Z'), { serial: 'C02XK1', hostname: 'lee-mbp', assigned_person_id: '00uLee', ip_addresses: ['10.0.9.3'] }),
  connectorGrant('google', '1234567890-chatgpt.apps.googleusercontent.com', 'sam@example.com', at('2025-02-01T00:00:00Z'), {
    app_name: 'ChatGPT', granted_by_email: 'sam@example.com', scopes: ['https://www.googleapis.com/auth/drive.readonly'], ai_classification: 'ai_tool',
  }),
  // A contractor's OpenAI account: known to the platform, not to the directory.
  platformAccount('openai', 'user-Ext1', at('2025-07-01T00:00:00Z'), { email: 'contractor@gmail.com' }),
];

const events = {
  login: openaiSessionEvent({ id: 'audit_log-01', time: at('2025-01-08T09:30:00Z'), type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com', ip: '10.0.4.17' }),
  keyCreated: openaiSessionEvent({ id: 'audit_log-02', time: at('2025-01-10T12:00:00Z'), type: 'api_key.created', userId: 'user-K9p3Lm', email: 'dana@example.com', ip: '10.0.4.17', projectId: 'proj_Ab12Cd34' }),
  keyAfterMove: openaiKeyEvent({ id: 'audit_log-03', time: at('2025-04-02T15:00:00Z'), type: 'project.updated', keyId: 'key_Zx81Qw', userId: 'user-K9p3Lm', email: 'dana@example.com', projectId: 'proj_Ab12Cd34' }),
  keyAfterLeaving: openaiKeyEvent({ id: 'audit_log-05', time: at('2025-08-01T02:14:00Z'), type: 'project.archived', keyId: 'key_Zx81Qw', projectId: 'proj_Ab12Cd34', ip: '10.0.9.3' }),
  connector: googleTokenEvent({ id: '-8812', time: at('2025-08-02T10:00:00Z'), clientId: '1234567890-chatgpt.apps.googleusercontent.com', appName: 'ChatGPT', ip: '198.51.100.24' }),
  system: anthropicSystemEvent({ id: 'activity_01JB', time: at('2025-08-03T00:00:00Z') }),
  // Added for detection: three keys by Lee in 40 minutes from his managed laptop, and the contractor.
  leeKey1: openaiSessionEvent({ id: 'audit_log-10', time: at('2025-09-02T10:00:00Z'), type: 'api_key.created', userId: 'user-Lee', email: 'lee@example.com', ip: '10.0.9.3' }),
  leeKey2: openaiSessionEvent({ id: 'audit_log-11', time: at('2025-09-02T10:20:00Z'), type: 'api_key.created', userId: 'user-Lee', email: 'lee@example.com', ip: '10.0.9.3' }),
  leeKey3: openaiSessionEvent({ id: 'audit_log-12', time: at('2025-09-02T10:40:00Z'), type: 'api_key.created', userId: 'user-Lee', email: 'lee@example.com', ip: '10.0.9.3' }),
  contractor: openaiSessionEvent({ id: 'audit_log-13', time: at('2025-09-03T08:00:00Z'), type: 'login.succeeded', userId: 'user-Ext1', email: 'contractor@gmail.com', ip: '203.0.113.50' }),
};

const TOKEN = 'detect-scenario-token-0123456789abcdef';

describe('detection on the enrichment scenario, real broker and ClickHouse', () => {
  it('finds exactly the expected findings, once each, queryable in ClickHouse and through the API', { timeout: 300_000 }, async () => {
    const h = await harness();
    const base = testConfig();
    const database = uniqueName('detect');
    const log = createLogger({ service: 'test', level: 'warn' });
    await migrate({ clickhouse: { url: base.TETHER_CLICKHOUSE_URL, username: base.TETHER_CLICKHOUSE_USER, password: base.TETHER_CLICKHOUSE_PASSWORD }, database, log });
    const ch = createClickHouse({ url: base.TETHER_CLICKHOUSE_URL, database, username: base.TETHER_CLICKHOUSE_USER, password: base.TETHER_CLICKHOUSE_PASSWORD });
    onTestFinished(async () => {
      await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await ch.close();
    });
    const env = { ...process.env, TETHER_TOPIC_PREFIX: h.prefix, TETHER_CLICKHOUSE_DATABASE: database, TETHER_LOG_LEVEL: 'warn' };

    await h.writeIdentities(identities);
    await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '0' });
    const sink = buildSinkApp(loadSinkConfig({ ...env, TETHER_SINK_PORT: '0', TETHER_SINK_STREAMS: 'events,findings', TETHER_SINK_BATCH_MAX_WAIT_MS: '100' }), { log });
    const detect = buildDetectApp(loadDetectConfig({ ...env, TETHER_DETECT_PORT: '0' }), { log, pack: loadRules() });
    onTestFinished(async () => {
      await detect.stop();
      await sink.stop();
    });
    await Promise.all([sink.start(), detect.start()]);
    expect(detect.health().state).toBe('running');

    await h.writeEvents(Object.values(events));
    const count = async (sql: string) => Number((await ch.queryRows<{ n: string }>(sql))[0]?.n ?? 0);
    await waitFor(async () => (await count('SELECT count() AS n FROM access_events FINAL')) === Object.keys(events).length || undefined, { what: 'every event in ClickHouse' });
    // Detect has read everything enrich produced once its group is committed to the end.
    await waitFor(async () => {
      const admin = await h.kafka.admin();
      try {
        const ends = await admin.topicOffsets(h.topics.accessEnriched);
        const done = await admin.groupOffsets(`${h.prefix}tether-detect`, h.topics.accessEnriched);
        return ends.every((p) => p.high === p.low || (done.get(p.partition) ?? -1n) >= p.high) || undefined;
      } finally {
        await admin.close();
      }
    }, { what: 'detect to commit the enriched topic to its end' });
    await waitFor(async () => (await count('SELECT count() AS n FROM findings FINAL')) >= 3 || undefined, { what: 'three findings' });
    // The sink has written everything detect produced.
    await waitFor(async () => {
      const admin = await h.kafka.admin();
      try {
        const ends = await admin.topicOffsets(h.topics.findings);
        const done = await admin.groupOffsets(`${h.prefix}tether-sink-clickhouse-findings`, h.topics.findings);
        return ends.every((p) => p.high === p.low || (done.get(p.partition) ?? -1n) >= p.high) || undefined;
      } finally {
        await admin.close();
      }
    }, { what: 'the sink to commit the findings topic to its end' });

    const rows = await ch.queryRows<{ finding_id: string; rule_id: string; event_ids: string[]; person_id: string | null; nhi_id: string | null; device_id: string | null; summary: string; severity: string }>(
      'SELECT finding_id, rule_id, event_ids, person_id, nhi_id, device_id, summary, severity FROM findings FINAL ORDER BY rule_id',
    );
    expect(rows.map((r) => [r.rule_id, r.event_ids])).toEqual([
      ['tether.api-key-burst', [events.leeKey1.event_id, events.leeKey2.event_id, events.leeKey3.event_id]],
      ['tether.nhi-used-after-owner-left', [events.keyAfterLeaving.event_id]],
      ['tether.shadow-access', [events.contractor.event_id]],
    ]);
    const [burst, leaver, shadow] = rows;
    expect(burst).toMatchObject({ person_id: '00uLee', severity: 'medium' });
    expect(burst!.summary).toContain('lee@example.com created 3 API keys within 1h');
    expect(leaver).toMatchObject({ person_id: '00uDana', nhi_id: 'openai:api_key:key_Zx81Qw', device_id: 'dev-C02XK1', severity: 'high' });
    expect(leaver!.summary).toBe('api_key openai:api_key:key_Zx81Qw used (project.archived on openai) after its owner 00uDana (dana@example.com) was inactive');
    // platform_account_only: the platform account stands in for a person no directory knows.
    expect(shadow).toMatchObject({ person_id: 'openai:user-Ext1', severity: 'medium' });
    expect(shadow!.summary).toContain('contractor@gmail.com attributed to no person (platform_account_only');

    // The query layer: the app (CLI's backend) and the HTTP API answer the same three, once each.
    const queryConfig = loadQueryConfig({ ...env, TETHER_QUERY_API_TOKEN: TOKEN });
    const query = buildQueryApp(queryConfig, { log, clickhouse: ch });
    const api = await startApi(query, { token: TOKEN, host: '127.0.0.1', port: 0, maxRows: 100 });
    onTestFinished(() => api.close());
    const res = await fetch(`http://127.0.0.1:${api.port}/v1/findings?since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: Array<{ rule_id: string; finding_id: string }>; row_count: number };
    expect(body.row_count).toBe(3);
    expect(body.rows.map((r) => r.rule_id).sort()).toEqual(['tether.api-key-burst', 'tether.nhi-used-after-owner-left', 'tether.shadow-access']);
    const high = await fetch(`http://127.0.0.1:${api.port}/v1/findings?since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&severity=high`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(((await high.json()) as { rows: Array<{ rule_id: string }> }).rows.map((r) => r.rule_id)).toEqual(['tether.nhi-used-after-owner-left']);
    const byRule = await query.findings({ fromMs: at('2025-01-01T00:00:00Z'), toMs: at('2026-01-01T00:00:00Z'), rule: 'tether.api-key-burst', minSeverity: 'info', person: '', limit: 10 });
    expect(byRule).toHaveLength(1);
    expect(byRule[0]).toMatchObject({ person_id: '00uLee', event_ids: [events.leeKey1.event_id, events.leeKey2.event_id, events.leeKey3.event_id] });

    // A backtest over the same events in ClickHouse finds the same findings, with the same ids.
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    const code = await main(['rules', 'backtest', '--since', '2025-01-01T00:00:00Z', '--until', '2026-01-01T00:00:00Z', '--format', 'json'], { stdout, stderr: process.stderr, env });
    expect(code).toBe(0);
    const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: number; findings: Array<{ finding_id: string; rule_id: string }> };
    expect(result.events).toBe(Object.keys(events).length);
    expect(result.findings.map((f) => [f.rule_id, f.finding_id]).sort()).toEqual(rows.map((r) => [r.rule_id, r.finding_id]));
  });
});
