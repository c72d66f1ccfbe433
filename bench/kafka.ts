// npm run bench:kafka [-- --records 300000 --size 400]
// Produce and consume rates of both adapters through the Tether interface,
// beside Kafka's own ProducerPerformance / ConsumerPerformance, same broker,
// same record size and count, one run. Prints a table; asserts nothing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commonEnvShape, loadConfig } from '#config';
import { createKafkaClient, KAFKA_CLIENT_NAMES, type KafkaClientName } from '#kafka';
import { createLogger } from '#log';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '300000' },
    size: { type: 'string', default: '400' },
    batch: { type: 'string', default: '1000' },
    inflight: { type: 'string', default: '8' },
  },
});
const RECORDS = Number(values.records);
const SIZE = Number(values.size);
const BATCH = Number(values.batch);
const INFLIGHT = Number(values.inflight);
const config = loadConfig(z.object({ ...commonEnvShape, TETHER_STACK_DIR: z.string().default(path.resolve(import.meta.dirname, '../.tether/stack')) }));
const brokers = config.TETHER_KAFKA_BROKERS;
const log = createLogger({ service: 'bench-kafka', level: 'warn' });
const run = Date.now().toString(36);

async function produce(name: KafkaClientName, topic: string): Promise<number> {
  const client = createKafkaClient(name, { brokers, clientId: `bench-${name}` }, log);
  const admin = await client.admin();
  await admin.createTopics([{ name: topic, partitions: 3 }]);
  await admin.close();
  const producer = await client.producer();
  const value = Buffer.alloc(SIZE, 'x');
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < RECORDS) {
      const from = next;
      next = Math.min(RECORDS, next + BATCH);
      const records = [];
      for (let i = from; i < next; i++) records.push({ topic, key: `k${i}`, value });
      await producer.send(records);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  const seconds = (performance.now() - start) / 1000;
  await producer.close();
  return RECORDS / seconds;
}

async function consume(name: KafkaClientName, topic: string): Promise<number> {
  const client = createKafkaClient(name, { brokers, clientId: `bench-${name}` }, log);
  const consumer = client.consumer({ groupId: `bench-${name}-${run}-${topic}`, maxWaitMs: 100 });
  let seen = 0;
  let start = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  await consumer.run({
    topics: [topic],
    fromBeginning: true,
    maxBatchSize: 5_000,
    eachBatch: async (batch) => {
      if (start === 0) start = performance.now();
      seen += batch.messages.length;
      if (seen >= RECORDS) resolveDone();
    },
  });
  await done;
  const seconds = (performance.now() - start) / 1000;
  await consumer.stop();
  return RECORDS / seconds;
}

function javaTool(mainClass: string, args: string[]): string {
  const libs = path.join(config.TETHER_STACK_DIR, 'dist/kafka-3.9.1/libs');
  if (!existsSync(libs)) return '';
  return execFileSync('java', ['-Xmx512m', '-cp', `${libs}/*`, mainClass, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

async function kafkaOwn(): Promise<{ produce: number; consume: number } | undefined> {
  const topic = `bench.kafka-own.${run}`;
  const admin = await createKafkaClient('kafkajs', { brokers, clientId: 'bench-own' }, log).admin();
  await admin.createTopics([{ name: topic, partitions: 3 }]);
  await admin.close();
  const out = javaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic', topic, '--num-records', String(RECORDS), '--record-size', String(SIZE), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${brokers.join(',')}`, 'acks=all', 'linger.ms=5', 'batch.size=262144',
  ]);
  if (!out) return undefined;
  const produced = /([\d.]+) records\/sec/.exec(out.trim().split('\n').pop() ?? '');
  const consumed = javaTool('org.apache.kafka.tools.ConsumerPerformance', [
    '--bootstrap-server', brokers.join(','), '--topic', topic, '--messages', String(RECORDS), '--timeout', '60000',
  ]);
  // Header: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, ...
  const row = consumed.trim().split('\n').pop()?.split(',').map((s) => s.trim()) ?? [];
  return { produce: Number(produced?.[1] ?? NaN), consume: Number(row[5] ?? NaN) };
}

console.log(`bench:kafka — ${RECORDS} records of ${SIZE} B, batches of ${BATCH}, ${INFLIGHT} in flight, acks=all, 3 partitions, brokers ${brokers.join(',')}`);
const rows: [string, number, number][] = [];
for (const name of KAFKA_CLIENT_NAMES) {
  const topic = `bench.${name}.${run}`;
  const p = await produce(name, topic);
  const c = await consume(name, topic);
  rows.push([name, p, c]);
}
const own = await kafkaOwn();
if (own) rows.push(['kafka ProducerPerformance / ConsumerPerformance', own.produce, own.consume]);
const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} rec/s (${((n * SIZE) / 1e6).toFixed(1)} MB/s)`;
console.log(['client'.padEnd(48), 'produce'.padEnd(30), 'consume'].join(''));
for (const [name, p, c] of rows) console.log([name.padEnd(48), fmt(p).padEnd(30), fmt(c)].join(''));
const best = (i: 1 | 2) => rows.filter((r) => KAFKA_CLIENT_NAMES.includes(r[0] as KafkaClientName)).sort((a, b) => b[i] - a[i])[0]![0];
console.log(`fastest adapter: produce=${best(1)} consume=${best(2)} (defaults: TETHER_KAFKA_PRODUCER_CLIENT=${config.TETHER_KAFKA_PRODUCER_CLIENT}, TETHER_KAFKA_CONSUMER_CLIENT=${config.TETHER_KAFKA_CONSUMER_CLIENT})`);
process.exit(0);
