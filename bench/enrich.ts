// npm run bench:enrich [-- --identities 100000 --events 1000000]
// (a million identities: --identities 1000000; SCIM-sized people: --directory-record-bytes 1024)
// Loads N identities onto the identity topics and M raw events onto
// tether.access.raw of a fresh topic prefix, then runs the enrich service as
// its own process (as deployed) and measures, through the real broker:
//   restore   - start-up until identity state is restored (health 200);
//   backlog   - M events enriched from the backlog: events/s;
//   latency   - a paced stream (--rate events/s for --seconds): added latency
//               from the raw record's produce to the enriched record's
//               append, p50/p99;
//   memory    - the service's RSS after restore and its peak (VmHWM).
// Every event resolves (no late-identity waits). Prints numbers; asserts nothing.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commonEnvSchema, loadConfig, topicNames } from '#config';
import { freePort } from '#testkit';
import { createKafkaClient, openTopicReader, type ProduceRecord } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient, versionKey, type AccessEvent, type Codec } from '#schemas';
import { entityCount, eventAt as eventOf, identityRecords as identityVersions, population, seededRandom, YEAR_2025, type Population } from './enrich-population.ts';
import { produceAll } from './lib/produce.ts';

const { values } = parseArgs({
  options: {
    identities: { type: 'string', default: '100000' },
    events: { type: 'string', default: '1000000' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    /** directory_record bytes per directory version (SCIM writes about 1 KB); 0 as other importers. */
    'directory-record-bytes': { type: 'string', default: '0' },
    /** Writes a V8 CPU profile of the enrich process into this directory (node --cpu-prof). */
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(values.identities);
const M = Number(values.events);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const DIRECTORY_RECORD_BYTES = Number(values['directory-record-bytes']);

const config = loadConfig(commonEnvSchema);
const log = createLogger({ service: 'bench-enrich', level: 'warn' });
const prefix = `bench_enrich_${Date.now().toString(36)}.`;
const topics = topicNames(prefix);
const kafka = createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-enrich' }, log);
const reader = createKafkaClient('kafkajs', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-enrich-reader' }, log);

// Deterministic data: the same arguments always build the same identities and events.
const random = seededRandom();
const eventAt = (n: number, p: Population, time: number): AccessEvent => eventOf(n, p, time, random);

function* identityRecords(p: Population, codec: Codec): Generator<ProduceRecord> {
  for (const { role, id, value } of identityVersions(p)) {
    yield { topic: topics[role], key: versionKey(id, value.valid_from), value: codec.encode(role, value as never) };
  }
}


async function highWatermarks(topic: string): Promise<number> {
  const admin = await kafka.admin();
  try {
    return Number((await admin.topicOffsets(topic)).reduce((sum, o) => sum + o.high, 0n));
  } finally {
    await admin.close();
  }
}


/** The machine is shared: every figure is printed with the load it was measured under. */
const load = () => `load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`;

function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS') / 1024), peakMb: Math.round(kb('VmHWM') / 1024) };
}

async function poll<T>(check: () => Promise<T | undefined> | T | undefined, intervalMs = 250): Promise<T> {
  for (;;) {
    const value = await Promise.resolve().then(check).catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const p = population(N, DIRECTORY_RECORD_BYTES);
  const admin = await kafka.admin();
  await admin.createTopics(Object.entries(topics).map(([role, name]) => ({
    name,
    partitions: 3,
    compacted: role.startsWith('identity'),
    // The local node caps partitions at 256 MB; a million events would be trimmed under us.
    config: role.startsWith('identity') ? undefined : { 'retention.bytes': '-1' },
  })));
  await admin.close();
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });

  const entities = entityCount(p);
  let started = performance.now();
  const versions = await produceAll(kafka, identityRecords(p, codec));
  console.log(`identities: ${entities} entities (${versions} versions) produced in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  started = performance.now();
  const [from, to] = YEAR_2025;
  await produceAll(kafka, (function* () {
    for (let n = 0; n < M; n++) {
      const e = eventAt(n, p, from + Math.floor(((to - from) * n) / M));
      yield { topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e) };
    }
  })());
  console.log(`events: ${M} raw events produced in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const port = await freePort();
  const spawnedAt = performance.now();
  const profile = values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`] : [];
  const child = spawn(process.execPath, [...profile, path.resolve(import.meta.dirname, '../services/enrich/src/index.ts')], {
    env: {
      ...process.env,
      TETHER_TOPIC_PREFIX: prefix,
      TETHER_ENRICH_PORT: String(port),
      TETHER_LOG_LEVEL: 'warn',
      TETHER_KAFKA_BROKERS: config.TETHER_KAFKA_BROKERS.join(','),
      TETHER_SCHEMA_REGISTRY_URL: config.TETHER_SCHEMA_REGISTRY_URL,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let peakMb = 0;
  const sampler = setInterval(() => {
    try {
      peakMb = Math.max(peakMb, memoryOf(child.pid!).peakMb);
    } catch { /* exited */ }
  }, 1000);

  try {
    await poll(async () => ((await fetch(`http://127.0.0.1:${port}/health`)).status === 200 ? true : undefined));
    const restoredAt = performance.now();
    const afterRestore = memoryOf(child.pid!);
    const scraped = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(scraped)?.[1]);
    console.log(
      `restore: ${((restoredAt - spawnedAt) / 1000).toFixed(1)} s from process start to health 200 ` +
      `(state restore ${metric('tether_enrich_restore_seconds').toFixed(1)} s); RSS ${afterRestore.rssMb} MB, ` +
      `heap used ${Math.round(metric('tether_nodejs_heap_size_used_bytes') / 1048576)} MB; ${load()}`,
    );

    await poll(async () => ((await highWatermarks(topics.accessEnriched)) >= M ? true : undefined), 500);
    const backlogSeconds = (performance.now() - restoredAt) / 1000;
    console.log(`backlog: ${M} events enriched in ${backlogSeconds.toFixed(1)} s = ${Math.round(M / backlogSeconds)} events/s; ${load()}`);

    // Latency: a paced stream read back from the enriched topic.
    const latencies: number[] = [];
    const sentAt = new Map<string, number>();
    const total = RATE * SECONDS;
    let seenPaced = 0;
    // Only what is enriched from here on: the backlog's output is not read again.
    const follower = await openTopicReader(reader, {
      topics: [topics.accessEnriched],
      fromBeginning: false,
      groupId: `${prefix}reader`,
      maxWaitMs: 50,
      onBatch: async (batch) => {
        for (const m of batch.messages) {
          const value = await codec.decode('accessEnriched', m.value!);
          const sent = sentAt.get(value.event.event_id);
          if (sent !== undefined) {
            latencies.push(m.timestamp - sent);
            seenPaced++;
          }
        }
      },
    });
    const producer = await kafka.producer();
    const pacedStart = Date.now();
    for (let n = 0; n < total; n += Math.max(1, Math.floor(RATE / 100))) {
      const due = pacedStart + (n / RATE) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const chunk: ProduceRecord[] = [];
      for (let i = n; i < Math.min(total, n + Math.max(1, Math.floor(RATE / 100))); i++) {
        const e = eventAt(M + i, p, to);
        const now = Date.now();
        sentAt.set(e.event_id, now);
        chunk.push({ topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e), timestamp: now });
      }
      await producer.send(chunk);
    }
    await producer.close();
    await poll(() => (seenPaced >= total ? true : undefined), 250);
    await follower.stop();
    latencies.sort((a, b) => a - b);
    console.log(`latency: ${total} events at ${RATE}/s: added latency p50 ${percentile(latencies, 0.5)} ms, p99 ${percentile(latencies, 0.99)} ms, max ${latencies.at(-1)} ms; ${load()}`);
    const end = memoryOf(child.pid!);
    console.log(`memory: RSS after restore ${afterRestore.rssMb} MB, at end ${end.rssMb} MB, peak ${Math.max(peakMb, end.peakMb)} MB`);
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    if (!values.keep) {
      const cleanup = await kafka.admin();
      await cleanup.deleteTopics(Object.values(topics));
      await cleanup.close();
    }
  }
}

await main();
