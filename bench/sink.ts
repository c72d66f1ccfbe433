// npm run bench:sink [-- --rows 1000000 --partitions 6 --batch-rows 20000 --profile sink.cpuprofile]
// Rows/s into ClickHouse through the sink (tether.access.enriched on Kafka
// -> sink: consume, transcode to RowBinary, insert -> access_events) beside,
// in the same run, on the same rows, schema and server:
//   clickhouse-client reading a RowBinary file and a JSONEachRow file;
//   a bare HTTP insert: the same RowBinary, one POST per batch of the
//   sink's size, no Kafka (what the sink could reach if it cost nothing).
// Each writer gets a database of its own. One run; asserts nothing.
// --profile writes a CPU profile of the sink's window only (node:inspector).
//
// The events are produced first (not timed in the headline), then the sink
// starts and is timed from joining its group to the last row stored.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commonEnvShape, loadConfig, topicNames } from '#config';
import {
  ACCESS_EVENT_COLUMNS, RowBinaryWriter, TABLES, accessEventRow, createClickHouse, migrate, writeAccessEventRow, type ClickHouse,
} from '#clickhouse';
import { createKafkaClient, ensureTetherTopics } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient } from '#schemas';
import { numberedEvent, sampleEvents } from '#testkit';
import { buildSinkApp } from '../services/sink-clickhouse/src/app.ts';
import { loadSinkConfig } from '../services/sink-clickhouse/src/config.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    partitions: { type: 'string', default: '6' },
    'batch-rows': { type: 'string', default: '20000' },
    'tcp-port': { type: 'string', default: '19000' },
    profile: { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const PARTITIONS = Number(values.partitions);
const BATCH_ROWS = Number(values['batch-rows']);
const TCP_PORT = values['tcp-port'];
const CHUNK = 10_000;
const CLIENT_BLOCK_ROWS = 100_000;
const COLUMNS = ACCESS_EVENT_COLUMNS.map(([name]) => name).join(', ');

const config = loadConfig(z.object(commonEnvShape));
const log = createLogger({ service: 'bench-sink', level: process.env.BENCH_LOG_LEVEL ?? 'warn' });
const run = Date.now().toString(36);
const prefix = `bench_sink_${run}.`;
const databases = { sink: `bench_sink_${run}`, ccBinary: `bench_sink_ccrb_${run}`, ccJson: `bench_sink_ccjs_${run}`, http: `bench_sink_http_${run}` };
const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
const templates = sampleEvents();

const perSecond = (rows: number, seconds: number) => rows / seconds;
const fmt = (rate: number) => `${Math.round(rate).toLocaleString('en-US')} rows/s`;
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)} %`;
const count = async (ch: ClickHouse) => Number((await ch.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEvents}`))[0]!.n);
const countIn = async (database: string) => {
  const ch = createClickHouse({ ...server, database });
  try {
    return await count(ch);
  } finally {
    await ch.close();
  }
};

/** clickhouse-client reading a file into access_events of `database`; seconds. */
async function clickhouseClient(database: string, file: string, format: 'RowBinary' | 'JSONEachRow'): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    // Blocks of 100k rows: one block of all 1M wide rows exceeds the server's memory limit.
    const child = spawn('clickhouse-client', [
      '--port', TCP_PORT, '--database', database, '--max_insert_block_size', String(CLIENT_BLOCK_ROWS),
      '--query', `INSERT INTO ${TABLES.accessEvents} (${COLUMNS}) FORMAT ${format}`,
    ], { stdio: ['pipe', 'inherit', 'inherit'] });
    createReadStream(file).pipe(child.stdin);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`clickhouse-client exited with ${code}`))));
  });
  return (performance.now() - started) / 1000;
}

/** One plain HTTP POST per batch of pre-encoded RowBinary, one at a time; seconds spent in the POSTs. */
async function bareHttp(database: string, batches: readonly Buffer[]): Promise<number> {
  const query = `INSERT INTO ${TABLES.accessEvents} (${COLUMNS}) FORMAT RowBinary`;
  const url = `${server.url}/?database=${encodeURIComponent(database)}&query=${encodeURIComponent(query)}`;
  const headers = { 'X-ClickHouse-User': server.username, 'X-ClickHouse-Key': server.password };
  let seconds = 0;
  for (const body of batches) {
    const started = performance.now();
    const res = await fetch(url, { method: 'POST', body, headers });
    const text = await res.text();
    if (!res.ok) throw new Error(`bare insert failed: HTTP ${res.status} ${text.slice(0, 200)}`);
    seconds += (performance.now() - started) / 1000;
  }
  return seconds;
}

/** Writes and waits for the stream's buffer to drain (listening before anything can drain it). */
function writeOut(stream: NodeJS.WritableStream, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(chunk)) resolve();
    else stream.once('drain', () => resolve());
  });
}

async function main() {
  const kafka = createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-sink' }, log);
  const admin = await kafka.admin();
  // No size or time retention on the bench topic: 1M enriched events exceed the local broker's per-partition cap.
  await admin.createTopics([{ name: topicNames(prefix).accessEnriched, partitions: PARTITIONS, config: { 'retention.bytes': '-1', 'retention.ms': '-1' } }]);
  const topics = await ensureTetherTopics(admin, prefix, PARTITIONS);
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  for (const database of Object.values(databases)) await migrate({ clickhouse: server, database, log });
  const tmp = mkdtempSync(path.join(tmpdir(), 'tether-bench-sink-'));
  const jsonFile = path.join(tmp, 'rows.jsonl');
  const binaryFile = path.join(tmp, 'rows.bin');

  try {
    // 1. The same rows three ways: Avro on Kafka for the sink, RowBinary and JSONEachRow files, RowBinary batches for the bare POSTs.
    const producer = await kafka.producer();
    const json = createWriteStream(jsonFile);
    const binary = createWriteStream(binaryFile);
    const writer = new RowBinaryWriter();
    const batches: Buffer[] = [];
    let batchRows: Buffer[] = [];
    let produceSeconds = 0;
    let avroBytes = 0;
    for (let from = 0; from < ROWS; from += CHUNK) {
      const records = [];
      const lines: string[] = [];
      const rows: Buffer[] = [];
      for (let n = from; n < Math.min(ROWS, from + CHUNK); n += 1) {
        const value = codec.encode('accessEnriched', numberedEvent(n, templates));
        // The rows as the sink sees them: decoded from the wire (Avro floats are float32).
        const event = await codec.decode('accessEnriched', value);
        avroBytes += value.length;
        records.push({ topic: topics.accessEnriched, key: event.person?.person_id ?? event.event.event_id, value });
        lines.push(JSON.stringify(accessEventRow(event)));
        const row = Buffer.from(writeAccessEventRow(writer, event));
        rows.push(row);
        batchRows.push(row);
        if (batchRows.length === BATCH_ROWS) {
          batches.push(Buffer.concat(batchRows));
          batchRows = [];
        }
      }
      await Promise.all([writeOut(json, `${lines.join('\n')}\n`), writeOut(binary, Buffer.concat(rows))]);
      // Batches of 500 (a produce request per partition must stay under the broker's 1 MB), several in flight.
      const t = performance.now();
      const sends = [];
      for (let i = 0; i < records.length; i += 500) sends.push(producer.send(records.slice(i, i + 500)));
      await Promise.all(sends);
      produceSeconds += (performance.now() - t) / 1000;
    }
    if (batchRows.length > 0) batches.push(Buffer.concat(batchRows));
    json.end();
    binary.end();
    await Promise.all([finished(json), finished(binary)]);
    await producer.close();
    const jsonBytes = statSync(jsonFile).size;
    const binaryBytes = statSync(binaryFile).size;
    console.log(
      `prepared ${ROWS.toLocaleString('en-US')} enriched events: ${(avroBytes / ROWS).toFixed(0)} B Avro, ${(binaryBytes / ROWS).toFixed(0)} B RowBinary, ` +
      `${(jsonBytes / ROWS).toFixed(0)} B JSONEachRow a row; produced at ${fmt(perSecond(ROWS, produceSeconds))}`,
    );

    // 2. Through the sink.
    const sinkCh = createClickHouse({ ...server, database: databases.sink });
    const app = buildSinkApp(loadSinkConfig({
      ...process.env,
      TETHER_TOPIC_PREFIX: prefix,
      TETHER_CLICKHOUSE_DATABASE: databases.sink,
      TETHER_SINK_STREAMS: 'events',
      TETHER_SINK_BATCH_ROWS: String(BATCH_ROWS),
      TETHER_SINK_PORT: '0',
      TETHER_LOG_LEVEL: 'warn',
    }), { log });
    const profiler = values.profile ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    await app.start();
    const sinkStart = performance.now();
    while ((await count(sinkCh)) < ROWS) await new Promise((resolve) => setTimeout(resolve, 100));
    const sinkSeconds = (performance.now() - sinkStart) / 1000;
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(values.profile!, JSON.stringify(profile));
      profiler.disconnect();
    }
    await app.stop();
    const distinct = Number((await sinkCh.queryRows<{ n: string }>(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`))[0]!.n);
    await sinkCh.close();
    const sink = perSecond(ROWS, sinkSeconds);

    // 3. clickhouse-client, both formats; 4. bare HTTP POSTs of the same RowBinary.
    const ccBinarySeconds = await clickhouseClient(databases.ccBinary, binaryFile, 'RowBinary');
    const ccBinary = perSecond(await countIn(databases.ccBinary), ccBinarySeconds);
    const ccJsonSeconds = await clickhouseClient(databases.ccJson, jsonFile, 'JSONEachRow');
    const ccJson = perSecond(await countIn(databases.ccJson), ccJsonSeconds);
    const httpSeconds = await bareHttp(databases.http, batches);
    const http = perSecond(await countIn(databases.http), httpSeconds);

    const version = execFileSync('clickhouse-client', ['--port', TCP_PORT, '--query', 'SELECT version()'], { encoding: 'utf8' }).trim();
    console.log(`\nClickHouse ${version}, ${PARTITIONS} partitions, batches of up to ${BATCH_ROWS} rows, consumer ${config.TETHER_KAFKA_CONSUMER_CLIENT}`);
    console.log(`  sink (Kafka -> RowBinary insert)          ${fmt(sink).padStart(16)}  ${ROWS.toLocaleString('en-US')} rows in ${sinkSeconds.toFixed(1)} s (${distinct.toLocaleString('en-US')} distinct after FINAL)`);
    console.log(`  clickhouse-client < RowBinary file        ${fmt(ccBinary).padStart(16)}  in ${ccBinarySeconds.toFixed(1)} s`);
    console.log(`  clickhouse-client < JSONEachRow file      ${fmt(ccJson).padStart(16)}  in ${ccJsonSeconds.toFixed(1)} s`);
    console.log(`  bare HTTP POST per batch, same RowBinary  ${fmt(http).padStart(16)}  ${batches.length} POSTs in ${httpSeconds.toFixed(1)} s`);
    console.log(`  sink / clickhouse-client RowBinary: ${pct(sink, ccBinary)} (goal >= 50 %)`);
    console.log(`  sink / clickhouse-client JSONEachRow: ${pct(sink, ccJson)}`);
    console.log(`  sink / bare HTTP RowBinary: ${pct(sink, http)} (goal >= 70 %)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
    await admin.close();
    const ch = createClickHouse({ ...server, database: 'default' });
    for (const database of Object.values(databases)) await ch.command(`DROP DATABASE IF EXISTS ${database}`);
    await ch.close();
  }
}

await main();
process.exit(0);
