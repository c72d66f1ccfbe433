// Pollers' cursors live on the compacted tether.ingest.checkpoints topic
// (IngestCheckpoint keyed by checkpoint_id), so ingest services keep no
// local state. On start the topic is read to its end; the last value per
// key wins (a key always lands on one partition, read in offset order).
import { randomBytes } from 'node:crypto';
import { readToEnd, type KafkaClient, type Producer } from '#kafka';
import type { Logger } from '#log';
import type { Codec, IngestCheckpoint } from '#schemas';
import { assembleCursor, chunkCursor, ownerOfPart, parseManifest, partKeys } from './checkpoint-chunks.ts';

export interface CheckpointStore {
  get(id: string): IngestCheckpoint | undefined;
  /** Resolves once the checkpoint is acknowledged; `added` counts toward records_total. */
  save(id: string, cursor: string, added: number): Promise<IngestCheckpoint>;
}

export function createKafkaCheckpointStore(options: {
  producer: Producer;
  codec: Codec;
  topic: string;
  restored: ReadonlyMap<string, IngestCheckpoint>;
  now?: () => number;
}): CheckpointStore {
  const latest = new Map(options.restored);
  // Keys of the parts the current checkpoint of an id is stored in (see checkpoint-chunks.ts).
  const partsOf = new Map<string, string[]>();
  for (const checkpoint of options.restored.values()) {
    const keys = storedParts.get(checkpoint);
    if (keys) partsOf.set(checkpoint.checkpoint_id, keys);
  }
  const now = options.now ?? Date.now;
  const record = (key: string, cursor: string, recordsTotal: number) => ({
    topic: options.topic,
    key,
    value: options.codec.encode('ingestCheckpoints', { checkpoint_id: key, cursor, updated_at: now(), records_total: recordsTotal }),
  });
  return {
    get: (id) => latest.get(id),
    async save(id, cursor, added) {
      const checkpoint: IngestCheckpoint = {
        checkpoint_id: id,
        cursor,
        updated_at: now(),
        records_total: (latest.get(id)?.records_total ?? 0) + added,
      };
      const chunked = chunkCursor(id, cursor);
      // Parts first: until the manifest lands, the previous checkpoint stays whole.
      if (chunked) await options.producer.send(chunked.parts.map((p) => record(p.key, p.text, 0)));
      await options.producer.send([{ topic: options.topic, key: id, value: options.codec.encode('ingestCheckpoints', { ...checkpoint, cursor: chunked?.manifest ?? cursor }) }]);
      latest.set(id, checkpoint);
      const stale = partsOf.get(id) ?? [];
      if (chunked) partsOf.set(id, chunked.parts.map((p) => p.key));
      else partsOf.delete(id);
      // Superseded parts are tombstoned so compaction drops them; one left over after a crash is only dead weight.
      if (stale.length > 0) await options.producer.send(stale.map((key) => ({ topic: options.topic, key, value: null })));
      return checkpoint;
    },
  };
}

/** Part keys of restored checkpoints that were stored chunked, so their store can tombstone them when superseded. */
const storedParts = new WeakMap<IngestCheckpoint, string[]>();

/** For unit tests and dry runs: same contract, kept in memory. */
export function createMemoryCheckpointStore(initial: Iterable<IngestCheckpoint> = [], now: () => number = Date.now): CheckpointStore & {
  saved: IngestCheckpoint[];
} {
  const latest = new Map<string, IngestCheckpoint>([...initial].map((c) => [c.checkpoint_id, c]));
  const saved: IngestCheckpoint[] = [];
  return {
    saved,
    get: (id) => latest.get(id),
    async save(id, cursor, added) {
      const checkpoint = { checkpoint_id: id, cursor, updated_at: now(), records_total: (latest.get(id)?.records_total ?? 0) + added };
      latest.set(id, checkpoint);
      saved.push(checkpoint);
      return checkpoint;
    },
  };
}

/**
 * Reads the checkpoint topic from the beginning to its end at the start
 * (readToEnd: a reader that commits nothing), keeping the last value per id.
 */
export async function restoreCheckpoints(options: {
  client: KafkaClient;
  codec: Codec;
  topic: string;
  log: Logger;
  /** Which ids this service owns (the topic is shared by every ingest service); all by default. */
  keep?: (id: string) => boolean;
  timeoutMs?: number;
}): Promise<Map<string, IngestCheckpoint>> {
  const latest = new Map<string, IngestCheckpoint>();
  await readToEnd(options.client, {
    topics: [options.topic],
    groupId: `tether-checkpoint-restore-${randomBytes(6).toString('hex')}`,
    timeoutMs: options.timeoutMs,
    onBatch: async (batch) => {
      for (const message of batch.messages) {
        const id = message.key?.toString('utf8');
        if (id === undefined || (options.keep && !options.keep(ownerOfPart(id) ?? id))) continue;
        if (message.value === null) {
          latest.delete(id);
          continue;
        }
        try {
          latest.set(id, await options.codec.decode('ingestCheckpoints', message.value));
        } catch (err) {
          // An unreadable checkpoint restarts that feed from its default start; it never stops the others.
          options.log.error({ err, checkpointId: id, offset: String(message.offset) }, 'unreadable checkpoint ignored');
        }
      }
    },
  });
  const restored = reassemble(latest, options.log);
  options.log.info({ topic: options.topic, checkpoints: restored.size }, 'checkpoints restored');
  return restored;
}

/** Checkpoints stored in parts get their cursor back; parts themselves are not checkpoints. */
function reassemble(records: ReadonlyMap<string, IngestCheckpoint>, log: Logger): Map<string, IngestCheckpoint> {
  const out = new Map<string, IngestCheckpoint>();
  for (const [id, checkpoint] of records) {
    if (ownerOfPart(id) !== undefined) continue;
    const manifest = parseManifest(checkpoint.cursor);
    if (!manifest) {
      out.set(id, checkpoint);
      continue;
    }
    const assembled = assembleCursor(id, manifest, (key) => records.get(key)?.cursor);
    if (!assembled.ok) {
      // As with an unreadable checkpoint: that feed starts from its default, the others go on.
      log.error({ checkpointId: id, reason: assembled.reason }, 'chunked checkpoint cannot be reassembled; ignored');
      continue;
    }
    const whole = { ...checkpoint, cursor: assembled.cursor };
    storedParts.set(whole, partKeys(id, manifest));
    out.set(id, whole);
  }
  return out;
}
