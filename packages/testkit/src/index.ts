// Helpers for integration tests on the real servers: endpoints from the
// environment the global setup prepared, unique names, readiness polling.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { commonEnvSchema, loadConfig, type CommonConfig, type TopicRole } from '#config';
import { createKafkaClient, ensureTetherTopics, readToEnd, type KafkaClientName, type KafkaClient } from '#kafka';
import { createLogger, type Logger } from '#log';
import type { Codec, RecordForTopic } from '#schemas';

export function testConfig(): CommonConfig {
  return loadConfig(commonEnvSchema);
}

/** A name no other test (or earlier run) uses: topics, groups, databases. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A topic prefix for one test: every Tether topic gets its own copy. */
export function uniqueTopicPrefix(): string {
  return `${uniqueName('t')}.`;
}

/**
 * Polls until `check` returns a value other than undefined/false, or fails
 * with the last value seen. Generous default: a busy 2-core box is slow.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

/** A logger that keeps every line, so tests can assert on what was (not) logged. */
export function captureLogger(service = 'test'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ service, level: 'debug', destination }), lines };
}

export function testKafka(name: KafkaClientName, log: Logger = createLogger({ service: 'test', level: 'warn' })): KafkaClient {
  return createKafkaClient(name, { brokers: testConfig().TETHER_KAFKA_BROKERS, clientId: uniqueName('tether-test') }, log);
}

/** Creates every Tether topic under a prefix, through a short-lived admin. */
export async function createTopics(client: KafkaClient, prefix: string, partitions = 3): Promise<Record<TopicRole, string>> {
  const admin = await client.admin();
  try {
    return await ensureTetherTopics(admin, prefix, partitions);
  } finally {
    await admin.close();
  }
}

/** A port free on loopback right now, for a child server the test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
/** Every record on a topic up to its end when called, decoded, with its key (readToEnd). */
export async function readTopicToEnd<R extends TopicRole>(
  client: KafkaClient, codec: Codec, role: R, topic: string,
): Promise<Array<{ key: string; value: RecordForTopic[R] }>> {
  const out: Array<{ key: string; value: RecordForTopic[R] }> = [];
  await readToEnd(client, {
    topics: [topic],
    onBatch: async (batch) => {
      for (const m of batch.messages) out.push({ key: m.key!.toString(), value: await codec.decode(role, m.value!) });
    },
  });
  return out;
}

export { upLocalStack } from './local-stack.ts';
export {
  connectorAuthorize, humanKeyCreated, numberedEvent, sampleEvents, serviceAccountArchive, unattributedCsvLine,
} from './enriched-events.ts';
export { offlineCodec, offlineDeps, recordingProducer } from './offline.ts';
export type { RecordingProducer } from './offline.ts';
export { tcpGate } from './tcp-gate.ts';
export type { TcpGate } from './tcp-gate.ts';
export { serviceProcesses } from './processes.ts';
export type { ServiceProcesses } from './processes.ts';
