// The one way to read topics to their end: the high watermarks are taken when
// reading starts, and the read is complete once every partition that had
// records then has been delivered up to them. Compacted state topics
// (checkpoints, identities) are restored this way at start-up, and tests and
// benches read what a service wrote the same way.
import { randomBytes } from 'node:crypto';
import { tetherError } from '#errors';
import type { ConsumedBatch, KafkaClient } from './types.ts';

export interface ReadToEndOptions {
  topics: readonly string[];
  /** Called per batch, in offset order per partition; a throw fails the read (and stops the reader). */
  onBatch(batch: ConsumedBatch): Promise<void>;
  /**
   * True (default): from each partition's first offset, up to its end at the
   * start. False: nothing before the start is read (the end is reached at
   * once) and an open reader delivers only what arrives after it joined.
   */
  fromBeginning?: boolean;
  /**
   * Longest wait for the end, in ms (default 120 s): past it the read fails
   * with a retriable TETHER_KAFKA naming the topics and partitions left.
   */
  timeoutMs?: number;
  /**
   * The reader's consumer group (default a throwaway one). Its offsets are
   * never committed: every read starts over, and the group leaves nothing
   * behind on the broker once the reader is gone.
   */
  groupId?: string;
  maxBatchSize?: number;
  maxWaitMs?: number;
  /** Called after every batch, once it counts toward the progress. */
  onProgress?(progress: ReadProgress): void;
  /** An open reader failed after its end was reached (before it, `caughtUp` rejects instead). */
  onCrash?(err: unknown): void;
}

export interface ReadProgress {
  /** Records delivered so far (tombstones included). */
  records: number;
  /** Partitions not yet read up to their end at the start. */
  remainingPartitions: number;
  caughtUp: boolean;
}

export interface TopicReader {
  /** Resolves once every partition was delivered up to its high watermark at the start; rejects on a failure or the timeout. */
  readonly caughtUp: Promise<void>;
  progress(): ReadProgress;
  /** Lets the batch in hand finish, then leaves. */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** Reads topics to their end at the start, then stops (see ReadToEndOptions); resolves with what was read. */
export async function readToEnd(client: KafkaClient, options: Omit<ReadToEndOptions, 'onCrash'>): Promise<ReadProgress> {
  const reader = await openTopicReader(client, options);
  try {
    await reader.caughtUp;
  } finally {
    await reader.stop();
  }
  return reader.progress();
}

/** Starts reading; the returned reader says when the end at the start was reached, and follows the topics until stop(). */
export async function openTopicReader(client: KafkaClient, options: ReadToEndOptions): Promise<TopicReader> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  /** '<topic>\0<partition>' -> the offset to reach: the high watermark at the start. */
  const remaining = new Map<string, bigint>();
  if (options.fromBeginning ?? true) {
    const admin = await client.admin();
    try {
      for (const topic of options.topics) {
        for (const { partition, low, high } of await admin.topicOffsets(topic)) {
          if (high > low) remaining.set(partitionId(topic, partition), high);
        }
      }
    } finally {
      await admin.close();
    }
  }

  let records = 0;
  let caughtUp = false;
  let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // Awaited by the caller through `caughtUp`; until then a rejection is not unhandled.
  done.catch(() => undefined);
  const finish = (err?: unknown) => {
    if (caughtUp || !settle) return;
    clearTimeout(timer);
    const { resolve, reject } = settle;
    settle = undefined;
    if (err === undefined) {
      caughtUp = true;
      resolve();
    } else reject(err);
  };
  const timer = setTimeout(() => {
    const left = [...remaining.keys()].map((id) => id.replace('\u0000', ':'));
    finish(tetherError('TETHER_KAFKA', `${options.topics.join(', ')} not read to the end within ${timeoutMs} ms; ${left.length} partitions left (${left.slice(0, 5).join(', ')})`, {
      retriable: true,
      context: { topics: options.topics, remaining: left },
    }));
  }, timeoutMs);

  const consumer = client.consumer({
    groupId: options.groupId ?? `tether-read-to-end-${randomBytes(6).toString('hex')}`,
    maxWaitMs: options.maxWaitMs ?? 100,
  });
  try {
    await consumer.run({
      topics: options.topics,
      fromBeginning: options.fromBeginning ?? true,
      commitOffsets: false,
      maxBatchSize: options.maxBatchSize,
      onCrash: (err) => {
        if (caughtUp) options.onCrash?.(err);
        else finish(err);
      },
      eachBatch: async (batch) => {
        await options.onBatch(batch);
        records += batch.messages.length;
        if (caughtUp) return;
        const id = partitionId(batch.topic, batch.partition);
        const end = remaining.get(id);
        const last = batch.messages.at(-1)?.offset;
        if (end !== undefined && last !== undefined && last + 1n >= end) remaining.delete(id);
        options.onProgress?.({ records, remainingPartitions: remaining.size, caughtUp: remaining.size === 0 });
        if (remaining.size === 0) finish();
      },
    });
  } catch (err) {
    clearTimeout(timer);
    await consumer.stop().catch(() => undefined);
    throw err;
  }
  if (remaining.size === 0) finish();

  let stopped: Promise<void> | undefined;
  return {
    caughtUp: done,
    progress: () => ({ records, remainingPartitions: remaining.size, caughtUp }),
    stop() {
      clearTimeout(timer);
      stopped ??= consumer.stop();
      return stopped;
    },
  };
}

function partitionId(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
