// npm run bench:ingest [-- --records 50000 --platform openai --page 100]
// One backfill through the real ingest-ai CLI (a child process) from a local
// fake API serving N audit records in real pages, to the real Kafka and
// registry of the local stack. Prints records/s (the CLI's own timing of the
// backfill, and wall time including start-up) and the CLI's peak RSS.
// Asserts nothing; topics are deleted afterwards.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commonEnvSchema, loadConfig, topicNames } from '#config';
import { createKafkaClient, ensureTetherTopics } from '#kafka';
import { createLogger } from '#log';
import { fakePlatform, serveFake, type FakedPlatform } from '../services/ingest-ai/test/fake-platforms.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '50000' },
    platform: { type: 'string', default: 'openai' },
    page: { type: 'string', default: '100' },
  },
});
const RECORDS = Number(values.records);
const PLATFORM = values.platform as FakedPlatform;
const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'sk-admin-bench-0000000000000000';
const KEY_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_ADMIN_KEY', anthropic: 'TETHER_ANTHROPIC_ADMIN_KEY', cursor: 'TETHER_CURSOR_API_KEY' };
const URL_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_BASE_URL', anthropic: 'TETHER_ANTHROPIC_BASE_URL', cursor: 'TETHER_CURSOR_BASE_URL' };

const config = loadConfig(commonEnvSchema);
const log = createLogger({ service: 'bench-ingest', level: 'warn' });
const prefix = `bench_ingest_${Date.now().toString(36)}.`;
const client = createKafkaClient('kafkajs', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-ingest' }, log);
const admin = await client.admin();
await ensureTetherTopics(admin, prefix);

const now = Date.now();
const spacingMs = 1_000;
const fake = fakePlatform({ platform: PLATFORM, key: KEY, events: RECORDS, start: now - 2 * 3_600_000 - RECORDS * spacingMs, spacingMs });
const server = await serveFake(fake, PLATFORM);

const started = performance.now();
const child = spawn(process.execPath, [path.join(ROOT, 'services/ingest-ai/src/index.ts'), PLATFORM, 'backfill', '--since', new Date(now - 3 * 3_600_000 - RECORDS * spacingMs).toISOString()], {
  cwd: ROOT,
  env: {
    ...process.env,
    TETHER_TOPIC_PREFIX: prefix,
    [KEY_VARS[PLATFORM]]: KEY,
    [URL_VARS[PLATFORM]]: server.baseUrl,
    TETHER_INGEST_PAGE_LIMIT: values.page,
    TETHER_CURSOR_REQUESTS_PER_MINUTE: '0',
    TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: '0',
    TETHER_LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'ignore', 'pipe'],
});
let stderr = '';
child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
// Peak RSS as the kernel counts it (VmHWM), read until the process is gone.
let peakKb = 0;
const sampler = setInterval(() => {
  try {
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]));
  } catch {
    // exited between two samples
  }
}, 50);
const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
clearInterval(sampler);
const wallSeconds = (performance.now() - started) / 1000;

const produced = (await admin.topicOffsets(topicNames(prefix).accessRaw)).reduce((n, p) => n + Number(p.high - p.low), 0);
await admin.deleteTopics(Object.values(topicNames(prefix)));
await admin.close();
await server.close();

const summary = /backfill finished[^\n]*/.exec(stderr)?.[0] ?? '(no summary)';
const inBackfill = /\((\d+) records\/s\)/.exec(summary)?.[1];
console.log(`ingest-ai backfill bench: ${PLATFORM}, ${RECORDS} audit records, pages of ${values.page}, exit ${code}`);
console.log(`  CLI summary:        ${summary}`);
console.log(`  on tether.access.raw: ${produced} records`);
console.log(`  backfill rate:      ${inBackfill ?? '?'} records/s (CLI's own timing, inventories + audit feed)`);
console.log(`  wall rate:          ${Math.round(produced / wallSeconds)} records/s (${wallSeconds.toFixed(1)} s including start-up, registry and checkpoint restore)`);
console.log(`  peak RSS (VmHWM):   ${(peakKb / 1024).toFixed(0)} MB`);
if (code !== 0) console.log(stderr.slice(-2_000));
