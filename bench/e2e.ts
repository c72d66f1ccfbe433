// npm run bench:e2e [-- --events 1000000 --identities 100000 --rate 10000 --seconds 60 --trail-events 10000000 --runs 20]
// The whole pipeline as deployed, on the real servers, in one run:
//   1. backlog: N raw AccessEvents (about 400 B) and an identity population
//      are produced first; then enrich and the sink start as their own
//      processes; events/s from their start to the last event queryable in
//      ClickHouse (deduplicated count), beside Kafka's own
//      ProducerPerformance at the same record size and count;
//   2. freshness: with the pipeline running, a steady --rate events/s for
//      --seconds; one event in 50 is sampled and its produce -> queryable
//      latency measured (ClickHouse polled every 50 ms), p50/p99/max;
//   3. trail: --trail-events events of --identities people over 30 days
//      loaded straight into a database of their own (INSERT ... SELECT on the
//      server: the bench of the query path, not of the sink), then one
//      person's 30-day trail --runs times through `tether query trail` (the
//      services/query CLI, a process per run), the HTTP API, and the same SQL
//      in clickhouse-client: p50/p99.
// Prints every figure with its anchor and ratio; asserts nothing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commonEnvShape, loadConfig, topicNames } from '#config';
import { TABLES, createClickHouse, migrate, type ClickHouse } from '#clickhouse';
import { createKafkaClient, type ProduceRecord } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient } from '#schemas';
import { freePort } from '#testkit';
import { trailQuery } from '../services/query/src/trail.ts';
import { producerPerformance } from './lib/kafka-perf.ts';
import { identityRecords, personId, prng, rawEvent } from './lib/population.ts';
import { produceAll } from './lib/produce.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    identities: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '60' },
    'trail-events': { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '20' },
    partitions: { type: 'string', default: '3' },
    'tcp-port': { type: 'string', default: '19000' },
  },
});
const EVENTS = Number(values.events);
const IDENTITIES = Number(values.identities);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const TRAIL_EVENTS = Number(values['trail-events']);
const RUNS = Number(values.runs);
const PARTITIONS = Number(values.partitions);
const SAMPLE_EVERY = 50;

const ROOT = path.resolve(import.meta.dirname, '..');
const config = loadConfig(z.object({ ...commonEnvShape, TETHER_STACK_DIR: z.string().default(path.join(ROOT, '.tether/stack')) }));
const log = createLogger({ service: 'bench-e2e', level: 'warn' });
const runId = Date.now().toString(36);
const prefix = `bench_e2e_${runId}.`;
const database = `bench_e2e_${runId}`;
const trailDatabase = `bench_e2e_trail_${runId}`;
const topics = topicNames(prefix);
const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
const kafka = createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-e2e' }, log);
const execFileAsync = promisify(execFile);

const WINDOW_FROM = Date.UTC(2026, 0, 1);
const WINDOW_MS = 30 * 86_400_000;

const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
const quantile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll<T>(check: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(intervalMs);
  }
}


function startService(name: string, entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, entry)], {
    env: {
      ...process.env, ...env,
      TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn', TETHER_TOPIC_PARTITIONS: String(PARTITIONS),
      TETHER_KAFKA_BROKERS: config.TETHER_KAFKA_BROKERS.join(','), TETHER_SCHEMA_REGISTRY_URL: config.TETHER_SCHEMA_REGISTRY_URL,
      TETHER_CLICKHOUSE_URL: config.TETHER_CLICKHOUSE_URL,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal === null) console.error(`${name} exited with ${code}`);
  });
  return child;
}

async function stopService(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const distinctEvents = async (ch: ClickHouse) => Number((await ch.queryRows<{ n: string }>(`SELECT uniqExact(event_id) AS n FROM ${TABLES.accessEvents}`))[0]!.n);

async function backlogAndFreshness(): Promise<void> {
  const admin = await kafka.admin();
  await admin.createTopics(Object.entries(topics).map(([role, name]) => ({
    name, partitions: PARTITIONS, compacted: role.startsWith('identity'),
    config: role.startsWith('identity') ? undefined : { 'retention.bytes': '-1', 'retention.ms': '-1' },
  })));
  const perfTopic = `${prefix}producer-performance`;
  await admin.createTopics([{ name: perfTopic, partitions: PARTITIONS, config: { 'retention.bytes': '-1' } }]);
  await admin.close();
  await migrate({ clickhouse: server, database, log });
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  const ch = createClickHouse({ ...server, database });

  // 1. Identities, then the raw backlog.
  let started = performance.now();
  const versions = await produceAll(kafka, identityRecords(IDENTITIES, codec, topics), 2_000);
  console.log(`identities: ${n0(IDENTITIES)} people (${n0(versions)} versions: directory, OpenAI account, device, API key) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const random = prng(0xe2e);
  let rawBytes = 0;
  started = performance.now();
  await produceAll(kafka, (function* () {
    for (let n = 0; n < EVENTS; n++) {
      const e = rawEvent(runId, n, Math.floor(random() * IDENTITIES), WINDOW_FROM + Math.floor((WINDOW_MS * n) / EVENTS));
      const value = codec.encode('accessRaw', e);
      rawBytes += value.length;
      yield { topic: topics.accessRaw, key: e.event_id, value };
    }
  })(), 2_000);
  const recordSize = Math.round(rawBytes / EVENTS);
  console.log(`raw events: ${n0(EVENTS)} of ${recordSize} B (Avro, wire format) produced in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const kafkaOwn = await producerPerformance({ stackDir: config.TETHER_STACK_DIR, brokers: config.TETHER_KAFKA_BROKERS, topic: perfTopic, records: EVENTS, recordSize });

  const enrichPort = await freePort();
  const sinkPort = await freePort();
  const spawnedAt = performance.now();
  const enrich = startService('enrich', 'services/enrich/src/index.ts', { TETHER_ENRICH_PORT: String(enrichPort) });
  const sink = startService('sink', 'services/sink-clickhouse/src/index.ts', {
    TETHER_SINK_PORT: String(sinkPort), TETHER_CLICKHOUSE_DATABASE: database, TETHER_SINK_STREAMS: 'events',
  });
  try {
    await poll(async () => ((await fetch(`http://127.0.0.1:${enrichPort}/health`)).status === 200 ? true : undefined));
    const restoredAt = performance.now();
    let firstRowAt = 0;
    await poll(async () => {
      const n = await distinctEvents(ch);
      if (n > 0 && firstRowAt === 0) firstRowAt = performance.now();
      return n >= EVENTS ? true : undefined;
    }, 250);
    const doneAt = performance.now();
    const e2e = EVENTS / ((doneAt - spawnedAt) / 1000);
    const afterRestore = EVENTS / ((doneAt - restoredAt) / 1000);
    console.log(`\n1. backlog, ${n0(EVENTS)} events, ${n0(IDENTITIES)} identities, ${PARTITIONS} partitions`);
    console.log(`   end to end (enrich + sink start -> last event queryable, uniqExact)  ${n0(e2e)} events/s in ${((doneAt - spawnedAt) / 1000).toFixed(1)} s`);
    console.log(`     of which identity restore ${((restoredAt - spawnedAt) / 1000).toFixed(1)} s; from restore on: ${n0(afterRestore)} events/s; first row after ${((firstRowAt - spawnedAt) / 1000).toFixed(1)} s`);
    if (kafkaOwn) {
      console.log(`   Kafka ProducerPerformance, ${n0(EVENTS)} x ${recordSize} B, acks=all         ${n0(kafkaOwn.recordsPerSecond)} records/s (${kafkaOwn.mbPerSecond.toFixed(1)} MB/s)`);
      console.log(`   end to end / raw produce: ${pct(e2e, kafkaOwn.recordsPerSecond)} (from restore on: ${pct(afterRestore, kafkaOwn.recordsPerSecond)}; goal >= 40 %)`);
    } else {
      console.log('   Kafka ProducerPerformance: the stack\'s Kafka jars were not found (TETHER_STACK_DIR)');
    }

    // 2. Freshness at a steady rate.
    const producer = await kafka.producer();
    const pending = new Map<string, number>();
    const latencies: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling || pending.size > 0) {
        await sleep(50);
        if (pending.size === 0) continue;
        const ids = [...pending.keys()];
        const seen = await ch.queryRows<{ event_id: string }>(
          `SELECT DISTINCT event_id FROM ${TABLES.accessEvents} WHERE event_id IN (${ids.map((id) => `'${id}'`).join(',')})`,
        ).catch(() => []);
        const now = Date.now();
        for (const { event_id: id } of seen) {
          const sent = pending.get(id);
          if (sent !== undefined) {
            latencies.push(now - sent);
            pending.delete(id);
          }
        }
      }
    })();
    const total = RATE * SECONDS;
    const tick = Math.max(1, Math.floor(RATE / 100)); // 100 sends a second
    const pacedStart = Date.now();
    for (let n = 0; n < total; n += tick) {
      const wait = pacedStart + (n / RATE) * 1000 - Date.now();
      if (wait > 0) await sleep(wait);
      const chunk: ProduceRecord[] = [];
      const sampled: string[] = [];
      for (let i = n; i < Math.min(total, n + tick); i++) {
        const e = rawEvent(`${runId}-live`, i, Math.floor(random() * IDENTITIES), WINDOW_FROM + WINDOW_MS - 1);
        if (i % SAMPLE_EVERY === 0) sampled.push(e.event_id);
        chunk.push({ topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e) });
      }
      await producer.send(chunk);
      const sentAt = Date.now();
      for (const id of sampled) pending.set(id, sentAt);
    }
    const achieved = total / ((Date.now() - pacedStart) / 1000);
    sampling = false;
    await sampler;
    await producer.close();
    latencies.sort((a, b) => a - b);
    console.log(`\n2. freshness, ${n0(total)} events at ${n0(RATE)}/s for ${SECONDS} s (offered ${n0(achieved)}/s); ${latencies.length} sampled events, ClickHouse polled every 50 ms`);
    console.log(`   produce acknowledged -> queryable in ClickHouse: p50 ${quantile(latencies, 0.5)} ms, p99 ${quantile(latencies, 0.99)} ms, max ${latencies.at(-1)} ms (goal p99 < 2000 ms)`);
  } finally {
    await Promise.all([stopService(enrich), stopService(sink)]);
    await ch.close();
  }
}

/** Runs `fn` `runs` times; milliseconds, sorted. */
async function timed(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

async function trail(): Promise<void> {
  await migrate({ clickhouse: server, database: trailDatabase, log });
  const ch = createClickHouse({ ...server, database: trailDatabase, requestTimeoutMs: 600_000 });
  const started = performance.now();
  // Wide rows as the sink writes them (every column a real event fills), in blocks of 1M.
  for (let from = 0; from < TRAIL_EVENTS; from += 1_000_000) {
    const rows = Math.min(1_000_000, TRAIL_EVENTS - from);
    await ch.command(`
      INSERT INTO ${TABLES.accessEvents} (event_id, person_key, event_time, event_time_ms, time_raw, source_platform, source_feed, source_event_id,
        source_ingest_version, ingested_at, ingested_at_ms, action, source_type, outcome, category_uid, class_uid, activity_id, type_uid, severity_id,
        actor_kind, actor_platform_user_id, actor_email, src_ip, src_user_agent, raw, raw_encoding, unmapped,
        person_id, person_email, person_display_name, person_department, person_lifecycle_state, person_version_valid_from_ms, person_version_source,
        device_id, device_hostname, device_managed, device_version_valid_from_ms, attribution_method, confidence, device_method, device_confidence,
        enrichment_version, enriched_at, enriched_at_ms)
      SELECT concat('ev-', toString(n)), p, toDateTime(intDiv(ms, 1000)), ms, toString(intDiv(ms, 1000)), 'openai', 'audit_logs', concat('audit_log-', toString(n)),
        'bench', toDateTime(intDiv(ms, 1000) + 60), ms + 60000, 'login.succeeded', 'login.succeeded', 'success', 3, 3002, 1, 300201, 1,
        'human', concat('user-', toString(who)), concat('person', toString(who), '@example.com'), '10.0.0.1', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)',
        concat('{"id":"audit_log-', toString(n), '","type":"login.succeeded","effective_at":', toString(intDiv(ms, 1000)), ',"actor":{"type":"session","session":{"user":{"id":"user-', toString(who), '","email":"person', toString(who), '@example.com"},"ip_address":"10.0.0.1"}}}'),
        'utf8', '{}', p, concat('person', toString(who), '@example.com'), concat('Person ', toString(who)), 'Engineering', 'active', 1735689600000, 'okta/users',
        concat('dev-', toString(who)), concat('host-', toString(who)), 1, 1735689600000, 'direct_email', 0.9, 'ip_observation', 0.6,
        'bench', toDateTime(intDiv(ms, 1000) + 120), ms + 120000
      FROM (SELECT number + ${from} AS n, cityHash64(n) % ${IDENTITIES} AS who, concat('00u', toString(who)) AS p,
                   ${WINDOW_FROM} + intDiv(n * ${WINDOW_MS}, ${TRAIL_EVENTS}) AS ms FROM system.numbers LIMIT ${rows})`);
  }
  const loadSeconds = (performance.now() - started) / 1000;
  const person = '00u42';
  const [{ n: personEvents } = { n: '0' }] = await ch.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEvents} WHERE person_id = '${person}'`);
  console.log(`\n3. trail: ${n0(TRAIL_EVENTS)} events of ${n0(IDENTITIES)} people over 30 days loaded in ${loadSeconds.toFixed(0)} s (INSERT ... SELECT on the server); person ${person} has ${personEvents}`);

  const from = new Date(WINDOW_FROM).toISOString();
  const to = new Date(WINDOW_FROM + WINDOW_MS).toISOString();
  const { sql } = trailQuery({ subject: 'person', value: person, fromMs: WINDOW_FROM, toMs: WINDOW_FROM + WINDOW_MS });
  const env = { ...process.env, TETHER_CLICKHOUSE_URL: config.TETHER_CLICKHOUSE_URL, TETHER_CLICKHOUSE_DATABASE: trailDatabase, TETHER_LOG_LEVEL: 'warn' };
  const tmp = mkdtempSync(path.join(tmpdir(), 'tether-bench-e2e-'));
  const token = 'bench-e2e-token-0123456789abcdef';
  const port = await freePort();
  const api = spawn(process.execPath, [path.join(ROOT, 'services/query/src/index.ts'), 'serve'], {
    env: { ...env, TETHER_QUERY_API_TOKEN: token, TETHER_QUERY_PORT: String(port) }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    const out = path.join(tmp, 'trail.ndjson');
    const cli = await timed(RUNS, () => execFileAsync(process.execPath, [
      path.join(ROOT, 'services/query/src/index.ts'), 'trail', '--person', person, '--from', from, '--to', to, '--format', 'ndjson', '--out', out,
    ], { env }));
    // The process's own start (Node, modules, config) without a query: what the CLI costs beside the trail.
    const bare = await timed(Math.min(RUNS, 5), () => execFileAsync(process.execPath, [path.join(ROOT, 'services/query/src/index.ts'), '--help'], { env }));
    await poll(async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined));
    const url = `http://127.0.0.1:${port}/v1/trail?person=${encodeURIComponent(person)}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&format=ndjson`;
    let apiRows = 0;
    const http = await timed(RUNS, async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      const text = await res.text();
      if (!res.ok) throw new Error(`trail API answered ${res.status}: ${text.slice(0, 200)}`);
      apiRows = (JSON.parse(text) as { manifest: { row_count: number } }).manifest.row_count;
    });
    const client = await timed(RUNS, () => execFileAsync('clickhouse-client', ['--port', values['tcp-port']!, '--database', trailDatabase, '--query', `${sql} FORMAT Null`]));
    const line = (name: string, ms: number[], anchor?: number[]) =>
      console.log(`   ${name.padEnd(58)} p50 ${quantile(ms, 0.5).toFixed(0).padStart(5)} ms  p99 ${quantile(ms, 0.99).toFixed(0).padStart(5)} ms${anchor ? `  (${(quantile(ms, 0.5) / quantile(anchor, 0.5)).toFixed(2)}x clickhouse-client)` : ''}`);
    console.log(`   one person, 30 days, ${RUNS} runs each (${apiRows} rows per answer)`);
    line('clickhouse-client, the same SQL (process per run)', client);
    line('tether query trail (CLI, a process per run)', cli, client);
    line('  of which the CLI process without a query (--help)', bare);
    line('HTTP API GET /v1/trail', http, client);
    console.log(`   goal: p50 < 500 ms through the project's query path`);
  } finally {
    await stopService(api);
    rmSync(tmp, { recursive: true, force: true });
    await ch.close();
  }
}

try {
  await backlogAndFreshness();
  await trail();
} finally {
  const admin = await kafka.admin();
  await admin.deleteTopics([...Object.values(topics), `${prefix}producer-performance`]).catch(() => undefined);
  await admin.close();
  const ch = createClickHouse({ ...server, database: 'default' });
  for (const db of [database, trailDatabase]) await ch.command(`DROP DATABASE IF EXISTS ${db}`);
  await ch.close();
}
process.exit(0);
