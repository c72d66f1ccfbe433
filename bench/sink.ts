// npm run bench:sink [-- --rows 1000000 --partitions 6 --batch-rows 20000]
// Rows/s into ClickHouse through the sink path (tether.access.enriched on
// Kafka -> sink: consume, decode, map, insert JSONEachRow -> access_events)
// beside clickhouse-client inserting the very same rows from a JSONEachRow
// file into the same schema on the same server. One run; asserts nothing.
//
// The events are produced first (not timed in the headline), then the sink
// starts and is timed from joining its group to the last row stored.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commonEnvShape, loadConfig, topicNames } from '#config';
import { TABLES, createClickHouse, migrate, type ClickHouse } from '#clickhouse';
import { createKafkaClient, ensureTetherTopics } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient } from '#schemas';
import { buildSinkApp } from '../services/sink-clickhouse/src/app.ts';
import { loadSinkConfig } from '../services/sink-clickhouse/src/config.ts';
import { buildRow } from '../services/sink-clickhouse/src/request-builder.ts';
import { numberedEvent, sampleEvents } from '../services/sink-clickhouse/test/fixtures.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '6' },
    'batch-rows': { type: 'string', default: '20000' },
    'tcp-port': { type: 'string', default: '19000' },
  },
});
const ROWS = Number(values.rows);
const PARTITIONS = Number(values.partitions);
const BATCH_ROWS = values['batch-rows'];
const TCP_PORT = values['tcp-port'];
const CHUNK = 10_000;
const CLIENT_BLOCK_ROWS = 100_000;

const config = loadConfig(z.object(commonEnvShape));
const log = createLogger({ service: 'bench-sink', level: process.env.BENCH_LOG_LEVEL ?? 'warn' });
const run = Date.now().toString(36);
const prefix = `bench_sink_${run}.`;
const sinkDb = `bench_sink_${run}`;
const clientDb = `bench_sink_cc_${run}`;
const httpDb = `bench_sink_http_${run}`;
const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
const templates = sampleEvents();
const at = { topic: `${prefix}tether.access.enriched`, partition: 0, offset: 0n };

const rate = (rows: number, seconds: number) => `${Math.round(rows / seconds).toLocaleString('en-US')} rows/s`;
const count = async (ch: ClickHouse) => Number((await ch.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEvents}`))[0]!.n);

async function main() {
  const kafka = createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-sink' }, log);
  const admin = await kafka.admin();
  // No size or time retention on the bench topic: 1M enriched events exceed the local broker's per-partition cap.
  await admin.createTopics([{ name: topicNames(prefix).accessEnriched, partitions: PARTITIONS, config: { 'retention.bytes': '-1', 'retention.ms': '-1' } }]);
  const topics = await ensureTetherTopics(admin, prefix, PARTITIONS);
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  for (const database of [sinkDb, clientDb, httpDb]) await migrate({ clickhouse: server, database, log });
  const tmp = mkdtempSync(path.join(tmpdir(), 'tether-bench-sink-'));
  const file = path.join(tmp, 'rows.jsonl');

  try {
    // 1. The same rows, twice: Avro on Kafka for the sink, a JSONEachRow file for clickhouse-client.
    const producer = await kafka.producer();
    const out = createWriteStream(file);
    let produceSeconds = 0;
    let avroBytes = 0;
    for (let from = 0; from < ROWS; from += CHUNK) {
      const records = [];
      const lines: string[] = [];
      for (let n = from; n < Math.min(ROWS, from + CHUNK); n += 1) {
        const event = numberedEvent(n, templates);
        const value = codec.encode('accessEnriched', event);
        avroBytes += value.length;
        records.push({ topic: topics.accessEnriched, key: event.person?.person_id ?? event.event.event_id, value });
        lines.push(JSON.stringify(buildRow('accessEnriched', event, at).row));
      }
      if (!out.write(`${lines.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      // Batches of 500 (a produce request per partition must stay under the broker's 1 MB), several in flight.
      const t = performance.now();
      const sends = [];
      for (let i = 0; i < records.length; i += 500) sends.push(producer.send(records.slice(i, i + 500)));
      await Promise.all(sends);
      produceSeconds += (performance.now() - t) / 1000;
    }
    out.end();
    await finished(out);
    await producer.close();
    const fileBytes = statSync(file).size;
    console.log(`prepared ${ROWS.toLocaleString('en-US')} enriched events: ${(avroBytes / ROWS).toFixed(0)} B Avro each (${(avroBytes / 1e6).toFixed(0)} MB), ${(fileBytes / ROWS).toFixed(0)} B JSON each (${(fileBytes / 1e6).toFixed(0)} MB); produced at ${rate(ROWS, produceSeconds)}`);

    // 2. Through the sink.
    const sinkCh = createClickHouse({ ...server, database: sinkDb });
    const app = buildSinkApp(loadSinkConfig({
      ...process.env,
      TETHER_TOPIC_PREFIX: prefix,
      TETHER_CLICKHOUSE_DATABASE: sinkDb,
      TETHER_SINK_STREAMS: 'events',
      TETHER_SINK_BATCH_ROWS: BATCH_ROWS,
      TETHER_SINK_PORT: '0',
      TETHER_LOG_LEVEL: 'warn',
    }), { log });
    await app.start();
    const sinkStart = performance.now();
    for (let last = -1; ;) {
      const n = await count(sinkCh);
      if (n >= ROWS) break;
      if (n !== last) last = n;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const sinkSeconds = (performance.now() - sinkStart) / 1000;
    await app.stop();
    const distinct = Number((await sinkCh.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`))[0]!.n);
    await sinkCh.close();
    const version = execFileSync('clickhouse-client', ['--port', TCP_PORT, '--query', 'SELECT version()'], { encoding: 'utf8' }).trim();
    console.log(`\nClickHouse ${version}, ${PARTITIONS} partitions, sink batches of up to ${BATCH_ROWS} rows, consumer ${config.TETHER_KAFKA_CONSUMER_CLIENT}`);
    console.log(`  sink (Kafka -> decode -> JSONEachRow insert)  ${ROWS.toLocaleString('en-US')} rows in ${sinkSeconds.toFixed(1)} s: ${rate(ROWS, sinkSeconds)} (${distinct.toLocaleString('en-US')} distinct after FINAL)`);

    // 3. clickhouse-client, same rows, same schema (materialized view included), same server.
    const clientStart = performance.now();
    await new Promise<void>((resolve, reject) => {
      // Blocks of 100k rows: one block of all 1M wide rows exceeds the server's memory limit.
      const child = spawn('clickhouse-client', [
        '--port', TCP_PORT, '--database', clientDb, '--max_insert_block_size', String(CLIENT_BLOCK_ROWS),
        '--query', `INSERT INTO ${TABLES.accessEvents} FORMAT JSONEachRow`,
      ], { stdio: ['pipe', 'inherit', 'inherit'] });
      createReadStream(file).pipe(child.stdin);
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`clickhouse-client exited with ${code}`))));
    });
    const clientSeconds = (performance.now() - clientStart) / 1000;
    const clientCh = createClickHouse({ ...server, database: clientDb });
    const clientRows = await count(clientCh);
    await clientCh.close();

    console.log(`  clickhouse-client < JSONEachRow file           ${clientRows.toLocaleString('en-US')} rows in ${clientSeconds.toFixed(1)} s: ${rate(clientRows, clientSeconds)}`);
    console.log(`  sink / clickhouse-client: ${((clientSeconds / sinkSeconds) * 100).toFixed(0)} %`);

    // 4. Where the gap is: the same rows through the sink's own HTTP insert, without Kafka (parsing the file untimed).
    const httpCh = createClickHouse({ ...server, database: httpDb });
    let httpSeconds = 0;
    let batch: object[] = [];
    const insertBatch = async () => {
      const t = performance.now();
      await httpCh.insertRows(TABLES.accessEvents, batch);
      httpSeconds += (performance.now() - t) / 1000;
      batch = [];
    };
    for await (const line of createInterface({ input: createReadStream(file) })) {
      if (line) batch.push(JSON.parse(line) as object);
      if (batch.length === Number(BATCH_ROWS)) await insertBatch();
    }
    if (batch.length > 0) await insertBatch();
    const httpRows = await count(httpCh);
    await httpCh.close();
    console.log(`  (for reference) @clickhouse/client JSONEachRow, same rows and batch size, no Kafka: ${rate(httpRows, httpSeconds)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
    await admin.close();
    const ch = createClickHouse({ ...server, database: 'default' });
    for (const database of [sinkDb, clientDb, httpDb]) await ch.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch.close();
  }
}

await main();
