// npm run bench:restart [-- --rounds 3 --rate 200 --client platformatic]
// Back to work after a crash: enrich and the ClickHouse sink run as their own
// processes (as deployed) on a fresh topic prefix and database while raw
// events arrive at a steady rate; each is killed with SIGKILL and started
// again at once, and the seconds from the kill until its output resumes are
// measured through the real servers:
//   enrich - until tether.access.enriched grows past its end at the kill;
//   sink   - until access_events holds more rows than at the kill.
// Finally the events stop and every one must be in ClickHouse exactly once
// after deduplication. --client kafkajs runs the consumers on kafkajs, which
// cannot be a static group member, for the before/after comparison.
// Prints numbers; asserts nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { TABLES, createClickHouse, migrate } from '#clickhouse';
import { commonEnvSchema, loadConfig, topicNames } from '#config';
import { createKafkaClient, ensureTetherTopics, type KafkaClient } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient } from '#schemas';
import { openaiSessionEvent } from '../services/enrich/test/fixtures/events.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '200' },
    client: { type: 'string', default: 'platformatic' },
  },
});
const ROUNDS = Number(values.rounds);
const RATE = Number(values.rate);
const CONSUMER_CLIENT = values.client === 'kafkajs' ? 'kafkajs' : 'platformatic';
const ROOT = path.resolve(import.meta.dirname, '..');

const config = loadConfig(commonEnvSchema);
const log = createLogger({ service: 'bench-restart', level: 'warn' });
const prefix = `bench_restart_${Date.now().toString(36)}.`;
const database = `bench_restart_${Date.now().toString(36)}`;
const topics = topicNames(prefix);
const kafka: KafkaClient = createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-restart' }, log);
const ch = createClickHouse({ url: config.TETHER_CLICKHOUSE_URL, database, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD });

const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  TETHER_TOPIC_PREFIX: prefix,
  TETHER_CLICKHOUSE_DATABASE: database,
  TETHER_KAFKA_CONSUMER_CLIENT: CONSUMER_CLIENT,
  TETHER_LOG_LEVEL: 'warn',
  TETHER_KAFKA_BROKERS: config.TETHER_KAFKA_BROKERS.join(','),
  TETHER_SCHEMA_REGISTRY_URL: config.TETHER_SCHEMA_REGISTRY_URL,
  TETHER_CLICKHOUSE_URL: config.TETHER_CLICKHOUSE_URL,
  // Events are emitted at once (unresolved; no identity data here): output follows input directly.
  TETHER_ENRICH_LATE_WAIT_MS: '0',
  TETHER_ENRICH_PORT: '0',
  TETHER_SINK_PORT: '0',
  TETHER_SINK_STREAMS: 'events',
  TETHER_SINK_BATCH_MAX_WAIT_MS: '200',
};

const SERVICES = {
  enrich: 'services/enrich/src/index.ts',
  sink: 'services/sink-clickhouse/src/index.ts',
} as const;
type ServiceName = keyof typeof SERVICES;

function start(service: ServiceName): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, SERVICES[service])], { env: childEnv, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function killHard(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

async function stopGracefully(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function enrichedEnd(): Promise<bigint> {
  const admin = await kafka.admin();
  try {
    return (await admin.topicOffsets(topics.accessEnriched)).reduce((sum, p) => sum + p.high, 0n);
  } finally {
    await admin.close();
  }
}

async function count(sql: string): Promise<number> {
  const [row] = await ch.queryRows<{ n: string }>(sql);
  return Number(row?.n ?? 0);
}
const rows = () => count(`SELECT count() AS n FROM ${TABLES.accessEvents}`);

/** Polls `check` every 50 ms until it says true; the time it took, in seconds. */
async function secondsUntil(check: () => Promise<boolean>, timeoutMs = 180_000): Promise<number> {
  const startedAt = performance.now();
  while (!(await check().catch(() => false))) {
    if (performance.now() - startedAt > timeoutMs) return Number.POSITIVE_INFINITY;
    await new Promise((r) => setTimeout(r, 50));
  }
  return (performance.now() - startedAt) / 1000;
}

async function main(): Promise<void> {
  const admin = await kafka.admin();
  await ensureTetherTopics(admin, prefix, config.TETHER_TOPIC_PARTITIONS);
  await admin.close();
  await migrate({ clickhouse: { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD }, database, log });
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });

  // A steady stream of raw events for the whole run, 10 sends a second.
  const producer = await kafka.producer();
  let produced = 0;
  let producing = true;
  const perTick = Math.max(1, Math.round(RATE / 10));
  const stream = (async () => {
    for (let tick = 0; producing; tick++) {
      const due = performance.now() + 100;
      const chunk = Array.from({ length: perTick }, (_, i) => {
        const n = produced + i;
        return openaiSessionEvent({ id: `restart-${n}`, time: Date.UTC(2025, 5, 1) + n, type: 'login.succeeded', userId: `user-${n % 50}`, email: `person${n % 50}@example.com` });
      });
      await producer.send(chunk.map((e) => ({ topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e) })));
      produced += chunk.length;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
  })();

  const running: Record<ServiceName, ChildProcess> = { enrich: start('enrich'), sink: start('sink') };
  const results: Record<ServiceName, number[]> = { enrich: [], sink: [] };
  try {
    const firstRows = await secondsUntil(async () => (await rows()) > 0);
    console.log(`pipeline up: first rows in ClickHouse ${firstRows.toFixed(1)} s after start (${CONSUMER_CLIENT} consumers, ${RATE} events/s)`);

    for (let round = 1; round <= ROUNDS; round++) {
      for (const service of ['enrich', 'sink'] as const) {
        // Let the restarted pipeline settle into steady output before the next kill.
        const before = await rows();
        await secondsUntil(async () => (await rows()) > before + RATE);
        await killHard(running[service]);
        const atKill = service === 'enrich' ? await enrichedEnd() : BigInt(await rows());
        running[service] = start(service);
        const seconds = await secondsUntil(async () => (service === 'enrich' ? await enrichedEnd() : BigInt(await rows())) > atKill);
        results[service].push(seconds);
        console.log(`round ${round}: ${service} killed -9 and restarted: output resumed after ${seconds.toFixed(2)} s`);
      }
    }

    producing = false;
    await stream;
    await producer.close();
    const distinct = await secondsUntil(async () => (await count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`)) >= produced, 120_000);
    const final = await count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`);
    const unique = await count(`SELECT uniqExact(event_id) AS n FROM ${TABLES.accessEvents}`);
    const raw = await rows();
    console.log(`delivery: ${produced} events produced; ${final} rows after dedup, ${unique} distinct event ids (${raw} rows before dedup)${Number.isFinite(distinct) ? '' : ' — NOT all arrived within 120 s'}`);
    for (const service of ['enrich', 'sink'] as const) {
      const sorted = [...results[service]].sort((a, b) => a - b);
      console.log(`${service}: restart to output ${sorted.map((s) => s.toFixed(2)).join(', ')} s (median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} s, max ${sorted.at(-1)!.toFixed(2)} s)`);
    }
  } finally {
    producing = false;
    await stream.catch(() => undefined);
    await Promise.all(Object.values(running).map(stopGracefully));
    await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await ch.close();
    const cleanup = await kafka.admin();
    await cleanup.deleteTopics(Object.values(topics)).catch(() => undefined);
    await cleanup.close();
  }
}

await main();
