// npm run bench:osquery [-- --lines 200000 --hosts 2000]
// osquery result lines per second from a results file to Kafka through the
// deployed tailer (the filesystem transport: read, parse, device state, AI
// evidence, Avro, produce, checkpoint), beside Kafka's own
// ProducerPerformance at the same record size in the same run. Lines in the
// real shapes: system_info, interface_addresses leases, logged_in_users and
// processes (a tenth of them an AI app). Prints numbers; asserts nothing.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalogue } from '#catalogue';
import { createLogger } from '#log';
import { createMetrics, deadLetterWriter } from '#service';
import { connectPipeline } from '#service/pipeline';
import { createKafkaCheckpointStore, createPageSink, createScrubber } from '#source';
import { endpointCatalogue } from '../services/ingest-osquery/src/endpoint-catalogue.ts';
import { loadOsqueryConfig } from '../services/ingest-osquery/src/config.ts';
import { drainFile } from '../services/ingest-osquery/src/tail-files.ts';
import { producerPerformance } from './lib/kafka-perf.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' }, hosts: { type: 'string', default: '2000' } } });
const LINES = Number(values.lines);
const HOSTS = Number(values.hosts);
const run = Date.now().toString(36);
const prefix = `bench-osquery-${run}.`;
const config = loadOsqueryConfig({ ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn', TETHER_OSQUERY_USER_DOMAIN: 'example.com' });
const log = createLogger({ service: 'bench-osquery', level: 'warn' });
const T0 = 1_772_438_400;

/** One line of host `h` at step `i`, in the filesystem logger's event format. */
function line(i: number): string {
  const h = i % HOSTS;
  const host = `host-${h}`;
  const step = Math.floor(i / HOSTS);
  const at = T0 + step * 60;
  const base = { hostIdentifier: host, calendarTime: '', unixTime: at, epoch: 0, counter: step, numerics: false, decorations: { host_uuid: `U-${h}` } };
  const kind = step % 4;
  if (step === 0) return JSON.stringify({ ...base, name: 'pack/it/system_info', columns: { hostname: `${host}.corp.example.com`, uuid: `U-${h}`, hardware_serial: `SER${h}`, cpu_brand: 'Apple M3' }, action: 'added' });
  if (kind === 1) return JSON.stringify({ ...base, name: 'pack/it/interface_addresses', columns: { interface: 'en0', address: `10.${(h >> 8) & 255}.${h & 255}.${step % 200}`, mask: '255.255.0.0', broadcast: '' }, action: step % 8 === 1 ? 'added' : 'removed' });
  if (kind === 2) return JSON.stringify({ ...base, name: 'pack/it/logged_in_users', columns: { type: 'user', user: `user${h}`, tty: 'console', host: '', time: String(at), pid: '412' }, action: 'added' });
  const ai = i % 10 === 0;
  return JSON.stringify({ ...base, name: 'pack/it/processes', columns: { pid: String(1000 + step), name: ai ? 'ChatGPT' : 'zsh', path: ai ? '/Applications/ChatGPT.app/Contents/MacOS/ChatGPT' : '/bin/zsh', cmdline: '', uid: '501', start_time: String(at - 5) }, action: 'added' });
}

const dir = mkdtempSync(path.join(tmpdir(), 'tether-bench-osquery-'));
const file = path.join(dir, 'osqueryd.results.log');
const text = Array.from({ length: LINES }, (_, i) => line(i)).join('\n') + '\n';
writeFileSync(file, text);
const recordSize = Math.round(statSync(file).size / LINES);

const pipeline = await connectPipeline(config, 'bench-osquery', log);
const producer = await pipeline.kafka.producer.producer();
try {
  const metrics = createMetrics('bench-osquery', { defaultMetrics: false });
  const checkpoints = createKafkaCheckpointStore({ producer, codec: pipeline.codec, topic: pipeline.topics.ingestCheckpoints, restored: new Map() });
  const scrubber = createScrubber([]);
  const deadLetters = deadLetterWriter({ service: 'bench-osquery', dlqTopic: pipeline.topics.dlq, codec: pipeline.codec, producer, scrub: scrubber.text });
  const sink = createPageSink({ producer, codec: pipeline.codec, topics: pipeline.topics, checkpoints, deadLetters, metrics, log });
  const catalogue = endpointCatalogue(loadCatalogue());
  const started = performance.now();
  const delivered = await drainFile(file, {
    sink, checkpoints, log, pollMs: 1_000,
    options: () => ({ catalogue, ingestedAt: Date.now(), observedAt: Date.now(), userDomain: 'example.com' }),
  });
  const seconds = (performance.now() - started) / 1000;
  const sent = (await metrics.sent.get()).values.reduce((n, v) => n + v.value, 0);
  // The broker creates no topic on its own: ProducerPerformance would wait for one for ever.
  const perfAdmin = await pipeline.kafka.admin.admin();
  await perfAdmin.createTopics([{ name: `${prefix}perf`, partitions: config.TETHER_TOPIC_PARTITIONS }]);
  await perfAdmin.close();
  const perf = await producerPerformance({ stackDir: path.resolve(import.meta.dirname, '../.tether/stack'), brokers: config.TETHER_KAFKA_BROKERS, topic: `${prefix}perf`, records: LINES, recordSize });
  const rate = delivered / seconds;
  console.log(`osquery file -> Kafka: ${delivered} lines (${recordSize} B each, ${HOSTS} hosts) in ${seconds.toFixed(1)} s = ${Math.round(rate).toLocaleString('en')} lines/s; ${sent} records produced (device versions and AI events)`);
  if (perf) console.log(`Kafka ProducerPerformance, ${LINES} x ${recordSize} B, same run: ${Math.round(perf.recordsPerSecond).toLocaleString('en')} records/s -> tailer at ${((rate / perf.recordsPerSecond) * 100).toFixed(0)} %`);
  else console.log('Kafka ProducerPerformance: the stack\'s Kafka jars are not installed here (npm run stack -- install)');
} finally {
  await producer.close();
  const admin = await pipeline.kafka.admin.admin();
  await admin.deleteTopics((await admin.listTopics()).filter((t) => t.startsWith(prefix))).catch(() => undefined);
  await admin.close();
  rmSync(dir, { recursive: true, force: true });
}
