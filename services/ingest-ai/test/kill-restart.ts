// Shared by the per-platform integration tests: the real CLI as a child
// process against a fake API on 127.0.0.1 and the real Kafka and registry.
// The fake rate-limits once and fails once, then holds an audit page; the
// CLI is SIGKILLed while it waits for that page (the pages before it
// checkpointed), restarted with the same command, and must finish.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { topicNames, type TopicRole } from '#config';
import { readToEnd, type KafkaClient } from '#kafka';
import { createCodec, createRegistryClient, type Codec, type RecordForTopic } from '#schemas';
import { createTopics, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';
import { fakePlatform, serveFake, type FakeOptions, type FakePlatform, type FakedPlatform } from './fake-platforms.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ENTRY = path.join(ROOT, 'services/ingest-ai/src/index.ts');
const KEY_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_ADMIN_KEY', anthropic: 'TETHER_ANTHROPIC_ADMIN_KEY', cursor: 'TETHER_CURSOR_API_KEY' };
const URL_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_BASE_URL', anthropic: 'TETHER_ANTHROPIC_BASE_URL', cursor: 'TETHER_CURSOR_BASE_URL' };

export interface Run {
  child: ChildProcess;
  output: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface KillRestartResult {
  fake: FakePlatform;
  topics: Record<TopicRole, string>;
  codec: Codec;
  kafka: KafkaClient;
  first: Run;
  second: Run;
  /** fake.requests index where the restarted process began asking. */
  restartAt: number;
  /** Checkpoint records on the topic when the first process was killed. */
  checkpointsAtKill: number;
  cleanup(): Promise<void>;
}

export async function killAndRestart(platform: FakedPlatform, key: string, fakeOptions: Partial<FakeOptions>): Promise<KillRestartResult> {
  const now = Date.now();
  const prefix = uniqueTopicPrefix();
  const kafka = testKafka('kafkajs');
  // Creation is retried: a broker busy with other tests' topics can answer before the leaders are known.
  const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
  const config = testConfig();
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  const fake = fakePlatform({
    platform,
    key,
    events: 100,
    start: now - 3 * 3_600_000,
    spacingMs: 90_000,
    bad: [13, 61],
    failures: { 2: 'rate_limit', 3: 'server_error' },
    holdPage: 4,
    ...fakeOptions,
  });
  const server = await serveFake(fake, platform);
  const env = {
    ...process.env,
    TETHER_TOPIC_PREFIX: prefix,
    [KEY_VARS[platform]]: key,
    [URL_VARS[platform]]: server.baseUrl,
    TETHER_INGEST_PAGE_LIMIT: '20',
    TETHER_CURSOR_REQUESTS_PER_MINUTE: '0',
    TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: '0',
    // Every request and page is logged at debug: the most lines a key could slip into.
    TETHER_LOG_LEVEL: 'debug',
  };
  const since = new Date(now - 4 * 3_600_000).toISOString();
  const start = (): Run => {
    const output: string[] = [];
    const child = spawn(process.execPath, [ENTRY, platform, 'backfill', '--since', since], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => output.push(String(chunk)));
    child.stderr!.on('data', (chunk) => output.push(String(chunk)));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return { child, output, exit };
  };

  const first = start();
  const held = await Promise.race([
    fake.holding,
    first.exit.then(() => Promise.reject(new Error(`first run exited before the held page: ${first.output.join('').slice(-3_000)}`))),
  ]);
  // Kill once the page before the held one is checkpointed (its cursor names the held page), so
  // the restart must resume exactly there: a repeat or a gap would both show in the counts.
  const heldCursor = platform === 'cursor' ? Number(held.get('page')) : held.get(platform === 'openai' ? 'after' : 'after_id');
  const auditCheckpoint = `${platform}/${platform === 'anthropic' ? 'compliance_activities' : 'audit_logs'}/backfill`;
  await waitFor(
    async () => {
      const saved = await readAll(kafka, codec, 'ingestCheckpoints', topics.ingestCheckpoints);
      return saved.some((c) => c.checkpoint_id === auditCheckpoint && (JSON.parse(c.cursor) as { page: unknown }).page === heldCursor) || undefined;
    },
    { what: `checkpoint ${auditCheckpoint} at ${String(heldCursor)}` },
  );
  const checkpointsAtKill = await recordsOn(kafka, topics.ingestCheckpoints);
  first.child.kill('SIGKILL');
  await first.exit;
  fake.release();

  const restartAt = fake.requests.length;
  const second = start();
  const ended = await second.exit;
  if (ended.code !== 0) throw new Error(`restarted run failed (${ended.code}): ${second.output.join('').slice(-3_000)}`);

  return {
    fake,
    topics,
    codec,
    kafka,
    first,
    second,
    restartAt,
    checkpointsAtKill,
    async cleanup() {
      for (const run of [first, second]) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      await server.close();
      const admin = await kafka.admin();
      try {
        await admin.deleteTopics(Object.values(topicNames(prefix)));
      } finally {
        await admin.close();
      }
    },
  };
}

/** Records on a topic by its offsets (what was written, duplicates included). */
export async function recordsOn(kafka: KafkaClient, topic: string): Promise<number> {
  const admin = await kafka.admin();
  try {
    return (await admin.topicOffsets(topic)).reduce((n, p) => n + Number(p.high - p.low), 0);
  } finally {
    await admin.close();
  }
}

/** Reads a topic from the beginning to its current end and decodes every value (tombstones skipped). */
export async function readAll<R extends TopicRole>(kafka: KafkaClient, codec: Codec, role: R, topic: string): Promise<RecordForTopic[R][]> {
  const out: RecordForTopic[R][] = [];
  await readToEnd(kafka, {
    topics: [topic],
    onBatch: async (batch) => {
      for (const m of batch.messages) if (m.value) out.push(await codec.decode(role, m.value));
    },
  });
  return out;
}
