// npm run bench:query-memory [-- --rows 100000]
// Peak RSS of the processes a large trail passes through: `tether query
// trail` exporting it, `tether query verify` checking it (streamed: the
// target is under 200 MB for 100k rows), and `tether serve` answering
// GET /v1/trail with it (streamed: under 300 MB). Rows are inserted into a
// database of the bench's own on TETHER_CLICKHOUSE_URL, each about 1.5 KB
// (a raw payload like the platforms' audit records), for one person.
// Prints the figures; asserts nothing. Peak RSS is the kernel's VmHWM.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clickhouseEnvSchema, loadConfig } from '#config';
import { TABLES, createClickHouse, migrate } from '#clickhouse';
import { createLogger } from '#log';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' } } });
const ROWS = Number(values.rows);
const ROOT = path.resolve(import.meta.dirname, '..');
const NODE = path.join(ROOT, 'node_modules/node/bin/node');
const PERSON = 'okta:00u_bench';
const FROM = Date.UTC(2026, 0, 1);
const TOKEN = 'bench-query-memory-token-0123456789';

const config = loadConfig(clickhouseEnvSchema);
const log = createLogger({ service: 'bench', level: 'warn' });
const database = `bench_query_memory_${Date.now().toString(36)}`;
const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
const dir = mkdtempSync(path.join(tmpdir(), 'tether-bench-query-'));
const ch = createClickHouse({ ...server, database, requestTimeoutMs: 300_000 });
const env = { ...process.env, TETHER_CLICKHOUSE_DATABASE: database, TETHER_QUERY_MAX_ROWS: String(ROWS * 2), TETHER_LOG_LEVEL: 'warn' };

/** A value of each ClickHouse column type: the row generator needs no fixtures. */
function plain(type: string): unknown {
  if (type.startsWith('Nullable(')) return null;
  if (type.startsWith('Array(')) return [];
  if (/^U?Int|^Float/.test(type)) return 0;
  if (type.startsWith('DateTime')) return 0;
  return '';
}

async function seed(): Promise<void> {
  const columns = await ch.queryRows<{ name: string; type: string; default_kind: string }>(
    `SELECT name, type, default_kind FROM system.columns WHERE database = '${database}' AND table = '${TABLES.accessEvents}'`,
  );
  const template = Object.fromEntries(columns.filter((c) => c.default_kind === '').map((c) => [c.name, plain(c.type)]));
  const raw = JSON.stringify({ object: 'organization.audit_log', type: 'api_key.created', actor: { type: 'session', session: { user: { id: 'user-bench', email: 'bench@example.com' }, ip_address: '203.0.113.9', user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' } }, details: 'x'.repeat(900) });
  const CHUNK = 10_000;
  for (let start = 0; start < ROWS; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(ROWS, start + CHUNK); i++) {
      const ms = FROM + i * 1_000;
      rows.push({
        ...template, event_id: `bench-${i}`, person_key: PERSON, event_time: Math.floor(ms / 1000), event_time_ms: ms, source_platform: 'openai',
        source_feed: 'audit_logs', action: 'api_key.created', actor_kind: 'human', actor_email: 'bench@example.com', person_id: PERSON,
        person_email: 'bench@example.com', attribution_method: 'email', confidence: 1, device_method: 'unresolved', raw, raw_encoding: 'utf8', enrichment_version: 'bench',
      });
    }
    await ch.insertRows(TABLES.accessEvents, rows, { skipUnknownFields: true });
  }
}

/** Runs a command under the RSS probe; resolves with its exit code and peak RSS. */
function measured(args: string[], extraEnv: Record<string, string> = {}, whileRunning?: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<{ code: number | null; rssMb: number; ms: number }> {
  const rssFile = path.join(dir, `rss-${args[0]}-${Date.now()}`);
  const started = performance.now();
  const child = spawn(NODE, ['--import', path.join(ROOT, 'bench/rss-probe.ts'), path.join(ROOT, 'packages/cli/src/tether.ts'), ...args], {
    env: { ...env, ...extraEnv, BENCH_RSS_FILE: rssFile }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      try {
        resolve({ code, rssMb: Number(readFileSync(rssFile, 'utf8')), ms: performance.now() - started });
      } catch (err) {
        reject(new Error(`${args.join(' ')} left no RSS figure (exit ${code}): ${stderr}`, { cause: err }));
      }
    });
    void whileRunning?.(child).catch(reject);
  });
}

async function main(): Promise<void> {
  await migrate({ clickhouse: server, database, log });
  const t0 = performance.now();
  await seed();
  console.log(`seeded ${ROWS} rows for ${PERSON} in ${((performance.now() - t0) / 1000).toFixed(1)} s (database ${database})`);
  const file = path.join(dir, 'trail.ndjson');
  const range = ['--person', PERSON, '--from', new Date(FROM).toISOString(), '--to', new Date(FROM + ROWS * 1_000 + 1).toISOString()];

  const exported = await measured(['query', 'trail', ...range, '-o', 'ndjson', '--out', file]);
  console.log(`tether query trail (export to file): exit ${exported.code}, ${(statSync(file).size / 1e6).toFixed(1)} MB file, peak RSS ${exported.rssMb} MB, ${(exported.ms / 1000).toFixed(1)} s`);

  const verified = await measured(['query', 'verify', file]);
  console.log(`tether query verify (streamed): exit ${verified.code}, peak RSS ${verified.rssMb} MB (target < 200 MB), ${(verified.ms / 1000).toFixed(1)} s`);

  const port = 18_000 + Math.floor(Math.random() * 2_000);
  let answered = 0;
  const served = await measured(['serve'], { TETHER_QUERY_API_TOKEN: TOKEN, TETHER_QUERY_PORT: String(port) }, async (child) => {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 300) throw new Error('serve did not answer /health');
      await new Promise((r) => setTimeout(r, 100));
    }
    const query = new URLSearchParams({ person: PERSON, from: new Date(FROM).toISOString(), to: new Date(FROM + ROWS * 1_000 + 1).toISOString(), format: 'ndjson' });
    const res = await fetch(`${url}/v1/trail?${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    for await (const chunk of res.body!) answered += (chunk as Uint8Array).length;
    child.kill('SIGTERM');
  });
  console.log(`tether serve GET /v1/trail (streamed): ${(answered / 1e6).toFixed(1)} MB answered, peak RSS ${served.rssMb} MB (target < 300 MB)`);
}

try {
  await main();
} finally {
  await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
}
