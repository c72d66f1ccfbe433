// Devices over time, bytes in at the sources and rows out of ClickHouse:
// osquery results (tailed from a file) say which laptop or desktop held
// which address when and who used it; a directory export names the people;
// Cursor's audit export holds logins, some naming nobody but an address.
// One person on a laptop in the morning and a desktop in the afternoon, the
// laptop's address leased to someone else's laptop the next day, the
// desktop's to a third person's the day after, the laptop re-imaged and
// handed to a fourth: every event gets the device and the person of its own
// time.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import { createClickHouse, migrate, TABLES } from '#clickhouse';
import { createLogger } from '#log';
import { deriveEventId } from '#schemas';
import { serviceProcesses, testConfig, testKafka, uniqueName, uniqueTopicPrefix } from '#testkit';


const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);
let counter = 0;
const result = (host: string, name: string, time: string, action: 'added' | 'removed', columns: Record<string, string>) =>
  JSON.stringify({ name, hostIdentifier: host, unixTime: at(time), epoch: 0, counter: counter++, numerics: false, decorations: {}, columns, action });
const info = (host: string, serial: string, time: string) => result(host, 'pack/it/system_info', time, 'added', { hostname: `${host}.corp.example.com`, uuid: `U-${serial}`, hardware_serial: serial, cpu_brand: 'x' });
const login = (host: string, user: string, time: string) => result(host, 'pack/it/logged_in_users', time, 'added', { type: 'user', user, tty: 'console', host: '', time: String(at(time)) });
const lease = (host: string, address: string, time: string, action: 'added' | 'removed') => result(host, 'pack/it/interface_addresses', time, action, { interface: 'en0', address, mask: '255.255.0.0' });

const OSQUERY = [
  info('lt-ana', 'LAPA', '2026-03-02T07:00:00Z'), login('lt-ana', 'ana', '2026-03-02T07:00:00Z'), lease('lt-ana', '10.20.0.5', '2026-03-02T07:00:00Z', 'added'),
  lease('lt-ana', '10.20.0.5', '2026-03-02T12:00:00Z', 'removed'),
  info('dt-ana', 'DSKA', '2026-03-02T12:30:00Z'), login('dt-ana', 'ana', '2026-03-02T12:30:00Z'), lease('dt-ana', '10.20.0.9', '2026-03-02T12:30:00Z', 'added'),
  result('dt-ana', 'pack/it/ai_processes', '2026-03-02T14:00:00Z', 'added', { pid: '4711', name: 'ChatGPT', path: '/Applications/ChatGPT.app/Contents/MacOS/ChatGPT', cmdline: '', uid: '501' }),
  info('lt-ben', 'LAPB', '2026-03-03T08:00:00Z'), login('lt-ben', 'ben', '2026-03-03T08:00:00Z'), lease('lt-ben', '10.20.0.5', '2026-03-03T08:00:00Z', 'added'),
  lease('dt-ana', '10.20.0.9', '2026-03-03T18:00:00Z', 'removed'),
  info('lt-carla', 'LAPC', '2026-03-04T09:00:00Z'), login('lt-carla', 'carla', '2026-03-04T09:00:00Z'), lease('lt-carla', '10.20.0.9', '2026-03-04T09:00:00Z', 'added'),
  // Ana's laptop re-imaged (a new osquery instance, counter back to 0) and handed to Dana.
  info('lt-reimaged', 'LAPA', '2026-03-05T08:00:00Z'), login('lt-reimaged', 'dana', '2026-03-05T08:00:00Z'), lease('lt-reimaged', '10.20.0.40', '2026-03-05T08:00:00Z', 'added'),
];

const DIRECTORY = [
  'email,external_id,status,source,updated_at,employee_number,given_name,family_name,display_name,department,title,manager_email,start_date,end_date,aliases',
  'ana@example.com,E1,active,workday,2026-01-01T00:00:00Z,1,Ana,Lima,,Research,Engineer,,2026-01-01,,',
  'ben@example.com,E2,active,workday,2026-01-01T00:00:00Z,2,Ben,Okafor,,Research,Engineer,,2026-01-01,,',
  'carla@example.com,E3,active,workday,2026-01-01T00:00:00Z,3,Carla,Diaz,,Sales,Manager,,2026-01-01,,',
  'dana@example.com,E4,active,workday,2026-01-01T00:00:00Z,4,Dana,Boss,,Sales,Manager,,2026-01-01,,',
];

const cursor = (id: string, time: string, email: string, ip: string) =>
  JSON.stringify({ event_id: id, timestamp: time, ip_address: ip, user_email: email, event_type: 'login', event_data: { login_type: 'sso', success: email !== 'unknown' } });
const CURSOR = [
  cursor('c-morning', '2026-03-02T09:00:00.000Z', 'ana@example.com', '10.20.0.5'),
  cursor('c-afternoon', '2026-03-02T15:00:00.000Z', 'unknown', '10.20.0.9'),
  cursor('c-evening-gap', '2026-03-02T20:00:00.000Z', 'unknown', '10.20.0.5'),
  cursor('c-next-day', '2026-03-03T10:00:00.000Z', 'unknown', '::ffff:10.20.0.5'),
  cursor('c-day-three', '2026-03-04T10:00:00.000Z', 'unknown', '10.20.0.9'),
  cursor('c-after-reimage', '2026-03-05T10:00:00.000Z', 'unknown', '10.20.0.40'),
];

describe('devices over time, end to end', () => {
  const config = testConfig();
  const prefix = uniqueTopicPrefix();
  const database = uniqueName('devices');
  const ch = createClickHouse({ url: config.TETHER_CLICKHOUSE_URL, database, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD });
  const env: NodeJS.ProcessEnv = { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_CLICKHOUSE_DATABASE: database, TETHER_LOG_LEVEL: 'info' };
  const dir = mkdtempSync(path.join(tmpdir(), 'tether-devices-e2e-'));

  afterAll(async () => {
    await stopAll();
    await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await ch.close();
    const admin = await testKafka('kafkajs').admin();
    await admin.deleteTopics(Object.values(topicNames(prefix))).catch(() => undefined);
    await admin.close();
  });

  const { run, start, until, stopAll } = serviceProcesses(env);

  it('gives every event the device and person of its own time', { timeout: 300_000 }, async () => {
    await migrate({ clickhouse: { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD }, database, log: createLogger({ service: 'test', level: 'warn' }) });
    const files = { osquery: path.join(dir, 'osqueryd.results.log'), directory: path.join(dir, 'directory.csv'), cursor: path.join(dir, 'cursor-audit.jsonl') };
    writeFileSync(files.osquery, `${OSQUERY.join('\n')}\n`);
    writeFileSync(files.directory, `${DIRECTORY.join('\n')}\n`);
    writeFileSync(files.cursor, `${CURSOR.join('\n')}\n`);

    // Identity first, then the events: this test is about time, not arrival order (the pipeline test covers that).
    await run('services/ingest-directory/src/index.ts', ['import', files.directory]);
    start('services/ingest-osquery/src/index.ts', ['tail', files.osquery], { TETHER_OSQUERY_PORT: '0', TETHER_OSQUERY_POLL_MS: '100', TETHER_OSQUERY_USER_DOMAIN: 'example.com' });
    start('services/enrich/src/index.ts', [], { TETHER_ENRICH_PORT: '0', TETHER_ENRICH_LATE_WAIT_MS: '500', TETHER_ENRICH_GIVE_UP_MS: '0' });
    start('services/sink-clickhouse/src/index.ts', [], { TETHER_SINK_PORT: '0', TETHER_SINK_BATCH_MAX_WAIT_MS: '200' });
    await run('services/ingest-ai/src/index.ts', ['cursor', 'import', files.cursor]);

    const id = (sourceId: string) => deriveEventId('cursor', 'audit_logs', sourceId);
    const want: Record<string, [string | null, string | null, string]> = {
      [id('c-morning')]: ['serial:LAPA', 'workday:E1', 'direct_email'],
      [id('c-afternoon')]: ['serial:DSKA', 'workday:E1', 'device_user'],
      [id('c-evening-gap')]: [null, null, 'unresolved'],
      [id('c-next-day')]: ['serial:LAPB', 'workday:E2', 'device_user'],
      [id('c-day-three')]: ['serial:LAPC', 'workday:E3', 'device_user'],
      // The re-imaged laptop is the same device, its history split at the re-image: Dana's after, Ana's before.
      [id('c-after-reimage')]: ['serial:LAPA', 'workday:E4', 'device_user'],
    };
    type Row = { event_id: string; device_id: string | null; person_id: string | null; attribution_method: string; reasons: string[]; source_platform: string; action: string };
    const read = () => ch.queryRows<Row>(`SELECT event_id, device_id, person_id, attribution_method, reasons, source_platform, action FROM ${TABLES.accessEvents} FINAL`);
    const rows = await until(async () => {
      const now = await read();
      const byId = new Map(now.map((r) => [r.event_id, r]));
      const settled = Object.entries(want).every(([eventId, [device, person, method]]) => {
        const r = byId.get(eventId);
        return r && r.device_id === device && r.person_id === person && r.attribution_method === method;
      });
      return settled && now.some((r) => r.source_platform === 'osquery') ? now : undefined;
    }, 'every event attributed as of its time');
    expect(rows.find((r) => r.event_id === id('c-evening-gap'))!.reasons).toContain('ip_not_observed: 10.20.0.5');
    // The desktop's own evidence: ChatGPT running there in the afternoon, Ana's.
    const evidence = rows.filter((r) => r.source_platform === 'osquery');
    expect(evidence.map((r) => [r.action, r.device_id, r.person_id, r.attribution_method])).toEqual([['endpoint.ai_app.running', 'serial:DSKA', 'workday:E1', 'device_user']]);
    expect(rows).toHaveLength(Object.keys(want).length + 1);
  });
});
