import { TetherError, isRetriable, tetherError } from '#errors';
import type { KafkaClientName, ProduceRecord, TopicSpec } from './types.ts';

/** Most messages one eachBatch call gets unless the caller says otherwise (both adapters). */
export const DEFAULT_MAX_BATCH_SIZE = 5_000;

/** Partitions whose batches are handled at once unless the caller says otherwise (both adapters). */
export const DEFAULT_PARTITION_CONCURRENCY = 3;

export function groupByTopic(records: readonly ProduceRecord[]): Map<string, ProduceRecord[]> {
  const byTopic = new Map<string, ProduceRecord[]>();
  for (const record of records) {
    let list = byTopic.get(record.topic);
    if (!list) byTopic.set(record.topic, (list = []));
    list.push(record);
  }
  return byTopic;
}

export function headersToStrings(headers: Record<string, unknown> | Map<unknown, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries = headers instanceof Map ? headers.entries() : Object.entries(headers);
  for (const [key, value] of entries) {
    if (value === undefined || value === null) continue;
    out[String(key)] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return out;
}

/** Compaction keeps the latest value per key forever; tombstones are kept a day so readers see them. */
export function topicConfigEntries(spec: TopicSpec): Record<string, string> {
  const base: Record<string, string> = spec.compacted
    ? { 'cleanup.policy': 'compact', 'delete.retention.ms': '86400000', 'min.compaction.lag.ms': '0' }
    : {};
  return { ...base, ...spec.config };
}

/**
 * Splits a send into requests of at most `maxBytes` of keys and values, in
 * order: brokers refuse a record batch over message.max.bytes (1 MiB by
 * default), and a client puts all of one request's records for a partition
 * into one batch.
 */
export function chunkBySize(records: readonly ProduceRecord[], maxBytes: number): ProduceRecord[][] {
  const chunks: ProduceRecord[][] = [];
  let current: ProduceRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = (record.value?.length ?? 0) + (record.key === null ? 0 : Buffer.byteLength(record.key)) + 64;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Most bytes one produce request carries (see chunkBySize). */
export const MAX_REQUEST_BYTES = 900 * 1024;

/**
 * Polls `ready` until it says true, treating a throw as "not yet": right after
 * CreateTopics a busy broker answers metadata for the new topics with
 * UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE for a while, and
 * kafkajs's own waitForLeaders gives up on the first. Throws the last error
 * (or says what it waited for) after `timeoutMs`.
 */
export async function untilReady(what: string, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      if (await ready()) return;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms${last ? `: ${(last as Error).message}` : ''}`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * Runs `call` again while it fails with an error the client marks retriable
 * (a partition whose new leader is not serving yet, right after topic
 * creation), for up to `timeoutMs`; any other error is thrown at once.
 */
export async function retryTransient<T>(call: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    try {
      return await call();
    } catch (err) {
      if (!clientSaysRetriable(err) || Date.now() > deadline) throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/**
 * The client's own verdict on an error: kafkajs marks an error `retriable`,
 * @platformatic/kafka `canRetry` (on it or, for grouped errors, on every inner
 * one). An error kafkajs gave up on after its own retries
 * (KafkaJSNumberOfRetriesExceeded) is as retriable as its cause; a bare
 * socket error counts as the network trouble it is.
 */
export function clientSaysRetriable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  if (TetherError.is(err)) return err.retriable;
  const e = err as { retriable?: unknown; canRetry?: unknown; errors?: unknown; name?: unknown; cause?: unknown };
  if (e.retriable === true || e.canRetry === true) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(clientSaysRetriable)) return true;
  if (e.name === 'KafkaJSNumberOfRetriesExceeded') return clientSaysRetriable(e.cause);
  return e.retriable === undefined && e.canRetry === undefined && isRetriable(err);
}

/**
 * Every failure an adapter passes on is a TetherError TETHER_KAFKA whose
 * `retriable` is the client's own classification, with the client's error as
 * the cause (its code in context): callers never see a client's error types.
 */
export function kafkaError(client: KafkaClientName, action: string, err: unknown): TetherError {
  if (TetherError.is(err)) return err;
  const clientCode = (err as { code?: unknown; type?: unknown } | null)?.code ?? (err as { type?: unknown } | null)?.type;
  return tetherError('TETHER_KAFKA', `kafka ${action} failed (${client}): ${err instanceof Error ? err.message : String(err)}`, {
    retriable: clientSaysRetriable(err),
    cause: err,
    context: { client, action, ...(typeof clientCode === 'string' ? { clientCode } : {}) },
  });
}

/** Runs one client call, passing any failure on as kafkaError. */
export async function wrapped<T>(client: KafkaClientName, action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw kafkaError(client, action, err);
  }
}
