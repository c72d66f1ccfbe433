// End to end on the real servers: a person grants an AI connector in Google
// Workspace, its token is used from the vendor's servers, she revokes it,
// grants it again, leaves the company, and the token is used once more. The
// directory import, the Google source (its CLI backfill against a local
// Reports API with the JWT token exchange), enrichment and the ClickHouse
// sink run as the services they are; the query CLI answers. The inventory
// shows the lifecycle with its times, every use is the granting person's
// with no device, the late use is flagged and is in `orphans` and in the
// owner-left hunt.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import { createClickHouse, migrate, TABLES } from '#clickhouse';
import { createLogger } from '#log';
import { testConfig, testKafka, uniqueName, uniqueTopicPrefix, waitFor } from '#testkit';
import { CLIENT, DANA, serveFakeGrantApi, type FakeGrantApi, type Step } from '../../services/ingest-grants/test/fake-grant-apis.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const DAY = 86_400_000;
const CONNECTOR = `google:${CLIENT.google}:${DANA.googleProfileId}`;

describe('a connector granted, used, revoked, granted again and used after its owner left', () => {
  const config = testConfig();
  const prefix = uniqueTopicPrefix();
  const database = uniqueName('grants_e2e');
  const ch = createClickHouse({ url: config.TETHER_CLICKHOUSE_URL, database, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD });
  const env: NodeJS.ProcessEnv = { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_CLICKHOUSE_DATABASE: database, TETHER_LOG_LEVEL: 'info' };
  const services: ChildProcess[] = [];
  const logs = new Map<string, Buffer[]>();
  let fake: FakeGrantApi | undefined;

  afterAll(async () => {
    for (const child of services) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    }
    await fake?.close();
    await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await ch.close();
    const admin = await testKafka('kafkajs').admin();
    await admin.deleteTopics(Object.values(topicNames(prefix))).catch(() => undefined);
    await admin.close();
  });

  async function run(script: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<string> {
    const child = spawn(process.execPath, [path.join(ROOT, script), ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => out.push(c));
    child.stderr!.on('data', (c: Buffer) => err.push(c));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}:\n${Buffer.concat([...out, ...err]).toString().slice(-3_000)}`);
    return Buffer.concat(out).toString();
  }

  function start(script: string, extra: NodeJS.ProcessEnv): void {
    const child = spawn(process.execPath, [path.join(ROOT, script)], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    logs.set(script, output);
    child.stdout!.on('data', (c: Buffer) => output.push(c));
    child.stderr!.on('data', (c: Buffer) => output.push(c));
    services.push(child);
  }

  async function until<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
    try {
      return await waitFor(check, { timeoutMs: 180_000, what });
    } catch (err) {
      const said = [...logs].map(([script, output]) => `--- ${script}\n${Buffer.concat(output).toString().slice(-3_000)}`).join('\n');
      throw new Error(`${(err as Error).message}\n${said}`);
    }
  }

  const rows = <T>(sql: string) => ch.queryRows<T>(sql);
  const query = async <T>(args: string[]) => JSON.parse(await run('services/query/src/index.ts', [...args, '--format', 'json'])) as T;

  it('shows the lifecycle, attributes every use to the grantor without a device, and reports the late use', { timeout: 300_000 }, async () => {
    await migrate({ clickhouse: { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD }, database, log: createLogger({ service: 'test', level: 'warn' }) });
    const t0 = Date.now() - 20 * DAY;
    const day = (d: number) => t0 + d * DAY;
    // Days after t0: grant, use, revoke, grant again, (Dana leaves on day 14), use.
    const steps: [Step, number][] = [['grant', 0], ['use', 1 * 1440], ['revoke', 5 * 1440], ['grant', 10 * 1440], ['use', 11 * 1440], ['use', 17 * 1440]];
    fake = await serveFakeGrantApi({ provider: 'google', t0, steps });

    start('services/enrich/src/index.ts', { TETHER_ENRICH_PORT: '0', TETHER_ENRICH_LATE_WAIT_MS: '500', TETHER_ENRICH_GIVE_UP_MS: '0' });
    start('services/sink-clickhouse/src/index.ts', { TETHER_SINK_PORT: '0', TETHER_SINK_BATCH_MAX_WAIT_MS: '200' });

    // The directory: Dana, from before the grant, terminated on day 14.
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-grants-e2e-'));
    const csv = path.join(dir, 'hr.csv');
    const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    writeFileSync(csv, [
      'email,external_id,status,source,updated_at,employee_number,given_name,family_name,display_name,department,title,manager_email,start_date,end_date,aliases',
      `${DANA.email},E300,active,workday,${new Date(day(-100)).toISOString()},300,Dana,Ruiz,,Research,Engineer,,${date(day(-100))},,`,
      `${DANA.email},E300,terminated,workday,${new Date(day(14)).toISOString()},300,Dana,Ruiz,,Research,Engineer,,${date(day(-100))},${date(day(14))},`,
    ].join('\n') + '\n');
    await run('services/ingest-directory/src/index.ts', ['import', csv]);

    await run('services/ingest-ai/src/index.ts', ['google', 'backfill', '--since', new Date(day(-1)).toISOString()], fake.env);

    // Every use in ClickHouse, attributed to Dana (the grantor), with the connector in the chain and no device.
    type Use = { time_ms: string; person_id: string | null; state: string | null; method: string; device_id: string | null; chain_ids: string[]; chain_statuses: (string | null)[]; reasons: string[] };
    const uses = await until(async () => {
      const found = await rows<Use>(`
        SELECT toString(event_time_ms) AS time_ms, person_id, person_lifecycle_state AS state, attribution_method AS method, device_id,
               chain_ids, chain_statuses, reasons
        FROM ${TABLES.accessEvents} FINAL WHERE source_platform = 'google' AND action = 'oauth.use' AND has(chain_ids, '${CONNECTOR}')
        ORDER BY event_time_ms`);
      return found.length === 3 && found.every((u) => u.person_id !== null) && found[2]!.state === 'inactive' ? found : undefined;
    }, 'three attributed uses in ClickHouse');
    expect(uses.map((u) => [Number(u.time_ms) - t0, u.person_id, u.state, u.method, u.device_id])).toEqual([
      [1 * DAY, 'workday:E300', 'active', 'connector_grant', null],
      [11 * DAY, 'workday:E300', 'active', 'connector_grant', null],
      [17 * DAY, 'workday:E300', 'inactive', 'connector_grant', null],
    ]);
    expect(uses.map((u) => u.reasons.some((r) => r.startsWith(`nhi_owner_inactive: ${CONNECTOR}`)))).toEqual([false, false, true]);

    // The inventory's whole lifecycle, with its times.
    type Version = { valid_from_ms: string; status: string; granted_at_ms: string | null; revoked_at_ms: string | null; last_used_at_ms: string | null; ai_tool_id: string | null };
    const versions = await until(async () => {
      const found = await rows<Version>(`
        SELECT toString(valid_from_ms) AS valid_from_ms, status, toString(granted_at_ms) AS granted_at_ms, toString(revoked_at_ms) AS revoked_at_ms,
               toString(last_used_at_ms) AS last_used_at_ms, ai_tool_id
        FROM ${TABLES.connectorsHistory} FINAL WHERE connector_id = '${CONNECTOR}' ORDER BY valid_from_ms`);
      return found.length === 3 && found[2]!.last_used_at_ms === String(day(17)) ? found : undefined;
    }, 'the connector lifecycle in ClickHouse');
    const ms = (v: string | null) => (v === null ? null : Number(v) - t0);
    expect(versions.map((v) => [ms(v.valid_from_ms), v.status, ms(v.granted_at_ms), ms(v.revoked_at_ms), ms(v.last_used_at_ms), v.ai_tool_id])).toEqual([
      [0, 'granted', 0, null, 1 * DAY, 'chatgpt'],
      [5 * DAY, 'revoked', 0, 5 * DAY, null, 'chatgpt'],
      [10 * DAY, 'granted', 10 * DAY, null, 17 * DAY, 'chatgpt'],
    ]);

    // The query CLI: the inventory, the orphan report and the owner-left hunt.
    type Row = Record<string, unknown>;
    const connectors = await query<Row[]>(['connectors', '--provider', 'google', '--classification', 'ai_tool']);
    expect(connectors.find((c) => c.connector_id === CONNECTOR)).toMatchObject({
      granting_person_id: 'workday:E300', granting_person_state: 'inactive', status: 'granted', revoked: false,
      granted_at_ms: day(10), last_used_ms: day(17), uses: 3, sanctioned: false,
    });
    const orphans = await query<Row[]>(['orphans', '--kind', 'connector']);
    expect(orphans.find((o) => o.identity_id === CONNECTOR)).toMatchObject({ owner_person_id: 'workday:E300', uses_after_left: 1, last_used_ms: day(17) });
    const hunt = await query<Row[]>(['hunt', 'keys-used-after-owner-left', '-p', 'since=now-30d']);
    expect(hunt.filter((h) => h.acting_id === CONNECTOR).map((h) => [h.owner_person_id, h.acting_kind])).toEqual([['workday:E300', 'connector']]);
  });
});
