// Restores rule state at start-up and keeps it current: reads the compacted
// tether.detect.state topic from the beginning up to the end it had when the
// instance started, then keeps following it (so an instance that takes over
// partitions from another sees that instance's writes). The group is unique
// to this instance and this start, so a restart always re-reads the topic.
// State of a rule no longer in the pack, or of another version of it, is
// discarded (tombstoned with the next batch's writes).
import { isRetriable } from '#errors';
import type { Admin, ConsumedBatch, Consumer } from '#kafka';
import type { Logger } from '#log';
import type { Codec, DetectState } from '#schemas';
import type { DeadLetterWriter } from '#service';
import type { StateStore } from './engine/state.ts';
import { COMPONENT, type DetectMetrics } from './metrics.ts';

export interface StateFollowerDeps {
  consumer: Consumer;
  admin: Admin;
  codec: Codec;
  topic: string;
  store: StateStore;
  /** rule id -> loaded version. */
  versions: ReadonlyMap<string, number>;
  deadLetters: DeadLetterWriter;
  metrics: DetectMetrics;
  log: Logger;
  onCrash(err: unknown): void;
}

export interface StateFollower {
  /** Resolves once the state topic was read up to its start-up end; following continues after. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly restored: boolean;
  readonly records: number;
}

export function createStateFollower(deps: StateFollowerDeps): StateFollower {
  const { codec, store, metrics, log } = deps;
  const remaining = new Map<number, bigint>();
  let restored = false;
  let records = 0;
  let markRestored: () => void = () => undefined;
  let failRestore: (err: unknown) => void = () => undefined;

  async function handleBatch(batch: ConsumedBatch): Promise<void> {
    const dead = [];
    for (const m of batch.messages) {
      const key = m.key?.toString('utf8');
      if (key === undefined) continue;
      let record: DetectState | null = null;
      if (m.value !== null) {
        try {
          record = await codec.decode('detectState', m.value);
        } catch (error) {
          if (isRetriable(error)) throw error;
          dead.push({ stage: 'parsing' as const, source: m.topic, error, original: m.value, topic: m.topic, partition: m.partition, offset: m.offset });
          continue;
        }
      }
      if (record && deps.versions.get(record.rule_id) !== record.rule_version) store.discard(key);
      else store.apply(key, record);
    }
    if (dead.length > 0) {
      await deps.deadLetters.send(dead);
      metrics.dropped.inc({ component: COMPONENT, intentional: 'false' }, dead.length);
      log.warn({ count: dead.length, partition: batch.partition }, 'undecodable state records sent to the dead-letter topic');
    }
    records += batch.messages.length;
    metrics.stateRestoreRecords.set(records);
    if (!restored) {
      const high = remaining.get(batch.partition);
      const last = batch.messages.at(-1)?.offset;
      if (high !== undefined && last !== undefined && last + 1n >= high) remaining.delete(batch.partition);
      if (remaining.size === 0) markRestored();
    }
  }

  return {
    get restored() {
      return restored;
    },
    get records() {
      return records;
    },
    async start() {
      for (const { partition, low, high } of await deps.admin.topicOffsets(deps.topic)) if (high > low) remaining.set(partition, high);
      const done = new Promise<void>((resolve, reject) => {
        markRestored = resolve;
        failRestore = reject;
      });
      if (remaining.size === 0) markRestored();
      log.info({ partitions: remaining.size }, 'restoring rule state');
      await deps.consumer.run({
        topics: [deps.topic],
        fromBeginning: true,
        eachBatch: handleBatch,
        onCrash: (err) => {
          failRestore(err);
          deps.onCrash(err);
        },
      });
      await done;
      restored = true;
      metrics.stateRestored.set(1);
      log.info({ records, groups: store.groups, entries: store.entries }, 'rule state restored');
    },
    stop: () => deps.consumer.stop(),
  };
}
