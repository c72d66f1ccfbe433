// npm run bench:enrich-stages [-- --identities 100000 --events 200000]
// The enrich service's CPU per stage, in this process, without the broker:
// what one core can do, so bench:enrich's figure can be read against it.
//   restore - decode + apply of every identity version (records/s), then the
//             heap and RSS the state holds (after a full GC);
//   decode  - raw AccessEvent bytes to records;
//   resolve - the temporal join against the restored state;
//   encode  - the EnrichedAccessEvent record and its wire bytes;
//   batch   - the event processor's handleBatch end to end (decode, resolve,
//             encode, metrics), into a producer that only counts.
// Prints numbers; asserts nothing. Run with --expose-gc for exact heap figures.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { commonEnvSchema, loadConfig } from '#config';
import type { ConsumedMessage, Producer, ProduceRecord } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient, versionKey, type AccessEvent, type Codec } from '#schemas';
import { deadLetterWriter } from '#service';
import { createEventProcessor } from '../services/enrich/src/event-processor.ts';
import { createEnrichMetrics } from '../services/enrich/src/metrics.ts';
import { outputKey, resolveEvent, toEnriched } from '../services/enrich/src/resolve/enrich.ts';
import { IdentityStore } from '../services/enrich/src/store/identity-store.ts';
import { entityCount, eventAt, identityRecords, population, seededRandom, YEAR_2025 } from './enrich-population.ts';

const { values } = parseArgs({
  options: {
    identities: { type: 'string', default: '100000' },
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '2000' },
    'directory-record-bytes': { type: 'string', default: '0' },
  },
});
const N = Number(values.identities);
const M = Number(values.events);
const BATCH = Number(values.batch);

const config = loadConfig(commonEnvSchema);
const log = createLogger({ service: 'bench-enrich-stages', level: 'warn' });
const prefix = `bench_stages_${Date.now().toString(36)}.`;

const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => Math.round(bytes / 1048576);
function memory(): { heapMb: number; rssMb: number } {
  gc?.();
  const m = process.memoryUsage();
  return { heapMb: mb(m.heapUsed), rssMb: mb(m.rss) };
}

async function timed<T>(label: string, count: number, run: () => Promise<T> | T): Promise<{ value: T; us: number }> {
  const started = performance.now();
  const value = await run();
  const ms = performance.now() - started;
  const us = (ms * 1000) / count;
  console.log(`${label.padEnd(8)} ${count} in ${(ms / 1000).toFixed(2)} s = ${us.toFixed(2)} µs each, ${Math.round(count / (ms / 1000))}/s`);
  return { value, us };
}

async function main(): Promise<void> {
  const codec: Codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  const p = population(N, Number(values['directory-record-bytes']));
  const before = memory();
  console.log(`identities: ${entityCount(p)} entities; load ${loadAverage()}`);

  // Encoded a chunk at a time (untimed) so only decode + apply is measured and only the state stays.
  const store = new IdentityStore();
  const versions = identityRecords(p);
  let count = 0;
  let restoreMs = 0;
  for (let done = false; !done;) {
    const chunk = [];
    for (let r = versions.next(); ; r = versions.next()) {
      if (r.done) { done = true; break; }
      chunk.push({ role: r.value.role, key: versionKey(r.value.id, r.value.value.valid_from), bytes: codec.encode(r.value.role, r.value.value as never) });
      if (chunk.length === 50_000) break;
    }
    const started = performance.now();
    for (const r of chunk) store.apply(r.role, r.key, await codec.decode(r.role, r.bytes));
    restoreMs += performance.now() - started;
    count += chunk.length;
  }
  console.log(`restore  ${count} versions decoded and applied in ${(restoreMs / 1000).toFixed(2)} s = ${((restoreMs * 1000) / count).toFixed(2)} µs each, ${Math.round(count / (restoreMs / 1000))}/s`);
  const after = memory();
  console.log(`state    heap +${after.heapMb - before.heapMb} MB (${after.heapMb} MB used), RSS ${after.rssMb} MB${gc ? '' : ' (no --expose-gc: approximate)'}`);

  const random = seededRandom();
  const [from, to] = YEAR_2025;
  const raw = Array.from({ length: M }, (_, n) => codec.encode('accessRaw', eventAt(n, p, from + Math.floor(((to - from) * n) / M), random)));

  const { value: events, us: decodeUs } = await timed('decode', M, async () => {
    const out: AccessEvent[] = [];
    for (const bytes of raw) out.push(await codec.decode('accessRaw', bytes));
    return out;
  });
  const { value: resolutions, us: resolveUs } = await timed('resolve', M, () => events.map((e) => resolveEvent(e, store)));
  const now = Date.now();
  const { us: encodeUs } = await timed('encode', M, () => {
    let bytes = 0;
    for (let i = 0; i < M; i++) {
      const enriched = toEnriched(events[i]!, resolutions[i]!, now);
      bytes += outputKey(enriched).length + codec.encode('accessEnriched', enriched).length;
    }
    return bytes;
  });
  console.log(`stages   ${(decodeUs + resolveUs + encodeUs).toFixed(2)} µs per event = ${Math.round(1e6 / (decodeUs + resolveUs + encodeUs))} events/s on one core`);

  let produced = 0;
  const producer: Producer = {
    send: async (records: readonly ProduceRecord[]) => { produced += records.length; },
    close: async () => {},
  };
  const processor = createEventProcessor({
    codec, producer, view: store, enrichedTopic: 'enriched', metrics: createEnrichMetrics(), log, now: Date.now,
    deadLetters: deadLetterWriter({ service: 'enrich', dlqTopic: 'dlq', codec, producer }),
    late: { waitMs: 30_000, maxEvents: 10_000, giveUpMs: 600_000 },
    reattribution: { maxEvents: 50_000, maxAgeMs: 86_400_000 },
  });
  const messages: ConsumedMessage[] = raw.map((value, i) => ({ topic: 'raw', partition: 0, offset: BigInt(i), key: null, value, timestamp: now, headers: {} }));
  await timed('batch', M, async () => {
    for (let i = 0; i < M; i += BATCH) await processor.handleBatch({ topic: 'raw', partition: 0, messages: messages.slice(i, i + BATCH) });
  });
  await processor.close();
  if (produced !== M) console.log(`warning: ${produced} of ${M} events produced`);
  console.log(`memory   RSS at end ${memory().rssMb} MB; load ${loadAverage()}`);
}

function loadAverage(): string {
  return loadavg().map((l) => l.toFixed(2)).join(' ');
}

await main();
