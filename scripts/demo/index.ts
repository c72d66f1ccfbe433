// npm run demo: the main job on the bundled sample data (samples/), through
// the real services as separate processes on the real servers:
//   directory CSV + Fleet hosts + OpenAI inventory (recorded API) + OpenAI
//   audit-log export -> Kafka -> enrich -> sink -> ClickHouse -> trail + orphans.
// Each run uses fresh topics (a prefix) and recreates the `tether_demo` database.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { z } from 'zod';
import { commonEnvShape, loadConfig } from '#config';
import { upLocalStack, waitFor } from '#testkit';
import { serveRecordedOpenAi } from './recorded-api.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SAMPLES = path.join(ROOT, 'samples');
const OUT = path.join(ROOT, '.tether/demo');
const DATABASE = 'tether_demo';
// A made-up admin key for the recorded API: the demo also shows it never reaches logs or ClickHouse.
const DEMO_ADMIN_KEY = 'sk-admin-demo-7Qx2Lr9Vt4Wp8Zm3';

const say = (text: string) => process.stdout.write(`\n== ${text}\n`);

/** The columns of the trail a reader checks first; the export itself has them all. */
function printTrail(rows: Record<string, unknown>[]): void {
  const cell = (v: unknown) => (Array.isArray(v) ? v.join(' > ') : v === null || v === undefined || v === '' ? '-' : String(v));
  const columns = ['event_time_utc', 'action', 'person_id', 'person_department', 'person_lifecycle_state', 'attribution_method', 'device_id', 'device_method', 'chain_ids', 'reasons'];
  const table = [columns, ...rows.map((r) => columns.map((c) => cell(r[c])))];
  const widths = columns.map((_, i) => Math.min(44, Math.max(...table.map((r) => r[i]!.length))));
  for (const row of table) process.stdout.write(`${row.map((v, i) => v.slice(0, 44).padEnd(widths[i]!)).join('  ')}\n`);
}

function endpoints(): NodeJS.ProcessEnv {
  const given = loadConfig(z.object({ TETHER_KAFKA_BROKERS: z.string().optional(), TETHER_SCHEMA_REGISTRY_URL: z.string().optional(), TETHER_CLICKHOUSE_URL: z.string().optional(), TETHER_STACK_DIR: z.string().default(path.join(ROOT, '.tether/stack')) }));
  if (given.TETHER_KAFKA_BROKERS && given.TETHER_SCHEMA_REGISTRY_URL && given.TETHER_CLICKHOUSE_URL) return {};
  say('starting the local stack (Kafka, schema registry, ClickHouse)');
  return upLocalStack(given.TETHER_STACK_DIR);
}

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  ...endpoints(),
  TETHER_TOPIC_PREFIX: `demo.${Date.now().toString(36)}.`,
  TETHER_CLICKHOUSE_DATABASE: DATABASE,
  TETHER_LOG_LEVEL: 'error',
};
const config = loadConfig(z.object(commonEnvShape), baseEnv);
const logFile = (name: string) => path.join(OUT, `${name}.log`);

/**
 * Runs a service command to completion (its data on stdout, its summary on
 * stderr). Asynchronous: the recorded API it may call lives in this process.
 */
async function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited with ${code}`);
}

function start(name: string, script: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, script)], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => chunks.push(c));
  child.stderr!.on('data', (c: Buffer) => chunks.push(c));
  child.on('exit', () => writeFileSync(logFile(name), Buffer.concat(chunks)));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

mkdirSync(OUT, { recursive: true });
const clickhouse = createClient({ url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD });
const count = async (sql: string) => Number(((await (await clickhouse.query({ query: sql, format: 'JSONEachRow' })).json()) as { n: string }[])[0]?.n ?? 0);

say(`ClickHouse database ${DATABASE}: recreate and migrate`);
await clickhouse.command({ query: `DROP DATABASE IF EXISTS ${DATABASE}` });
await run('packages/clickhouse/src/migrate-cli.ts', []);

say('ingest: directory CSV (samples/directory), Fleet hosts (samples/fleet)');
await run('services/ingest-directory/src/index.ts', ['import', path.join(SAMPLES, 'directory/hr-history.csv')]);
for (const file of ['hosts-2026-03.json', 'hosts-2026-10.json']) {
  await run('services/ingest-devices/src/index.ts', ['import', path.join(SAMPLES, 'fleet', file)]);
}

say('ingest: OpenAI inventory through its API (recorded responses on loopback) and the audit-log export');
const api = await serveRecordedOpenAi(path.join(SAMPLES, 'openai'), DEMO_ADMIN_KEY);
const openAiEnv = { TETHER_OPENAI_BASE_URL: api.baseUrl, TETHER_OPENAI_ADMIN_KEY: DEMO_ADMIN_KEY };
try {
  await run('services/ingest-ai/src/index.ts', ['openai', 'backfill', '--since', new Date(Date.now() - 10 * 60_000).toISOString()], openAiEnv);
  await run('services/ingest-ai/src/index.ts', ['openai', 'import', path.join(SAMPLES, 'openai/audit-log-export.jsonl')], openAiEnv);
} finally {
  await api.close();
}
const expected = readFileSync(path.join(SAMPLES, 'openai/audit-log-export.jsonl'), 'utf8').trim().split('\n').length - 1;

say('enrich + sink: running until every event is in ClickHouse');
const enrich = start('enrich', 'services/enrich/src/index.ts', { TETHER_ENRICH_PORT: '0', TETHER_ENRICH_LATE_WAIT_MS: '3000' });
const sink = start('sink', 'services/sink-clickhouse/src/index.ts', { TETHER_SINK_PORT: '0', TETHER_SINK_BATCH_MAX_WAIT_MS: '200' });
try {
  const landed = await waitFor(async () => {
    const n = await count(`SELECT count() AS n FROM ${DATABASE}.access_events FINAL`);
    return n >= expected ? n : false;
  }, { timeoutMs: 240_000, what: `${expected} enriched events in ClickHouse` });
  await waitFor(async () => (await count(`SELECT count() AS n FROM ${DATABASE}.dead_letters`)) >= 2, { timeoutMs: 60_000, what: 'dead letters in ClickHouse' });
  process.stdout.write(`${landed} events attributed and stored; ${await count(`SELECT count() AS n FROM ${DATABASE}.dead_letters`)} dead letters (a bad CSV row, a host with no serial or UUID, a malformed audit record)\n`);
} finally {
  await stop(enrich);
  await stop(sink);
}

say('trail of ana.lima@example.com (two people held this address: the first left on 2026-09-30)');
const trailFile = path.join(OUT, 'trail-ana.json');
await run('services/query/src/index.ts', ['trail', '--email', 'ana.lima@example.com', '--from', '2026-01-01', '--to', '2027-01-01', '--format', 'json', '--out', trailFile]);
printTrail(JSON.parse(readFileSync(trailFile, 'utf8')) as Record<string, unknown>[]);
await run('services/query/src/index.ts', ['verify', trailFile]);

say('orphaned access: keys, service accounts and connectors whose owner is inactive');
await run('services/query/src/index.ts', ['orphans']);

say('hunt: keys used after their owner left');
await run('services/query/src/index.ts', ['hunt', 'keys-used-after-owner-left', '-p', 'since=2026-01-01']);

const leaked = await count(`SELECT count() AS n FROM ${DATABASE}.access_events WHERE position(raw, '${DEMO_ADMIN_KEY}') > 0 OR position(unmapped, '${DEMO_ADMIN_KEY}') > 0`);
process.stdout.write(`\nadmin key occurrences in ClickHouse: ${leaked}\nfiles: ${OUT}\n`);
await clickhouse.close();
