// Restores identity state at start-up and keeps it current: reads the four
// compacted identity topics from the beginning up to the end they had when
// the instance started (their high watermarks, through the toolkit's topic
// reader), reporting progress, and then keeps following them. The reader's
// group is unique to this instance and this start and commits nothing, so
// every instance holds the full tables (GlobalKTable-style) and a restart
// re-reads them.
import { isRetriable } from '#errors';
import { openTopicReader, type ConsumedBatch, type ConsumedMessage, type KafkaClient, type TopicReader } from '#kafka';
import type { Logger } from '#log';
import type { Codec } from '#schemas';
import type { DeadLetterInput, DeadLetterWriter } from '#service';
import { COMPONENT, type EnrichMetrics } from './metrics.ts';
import { UNREAD_FIELDS } from './store/compact.ts';
import { IDENTITY_ROLES, type ApplyOutcome, type IdentityRecords, type IdentityRole, type IdentityStore } from './store/identity-store.ts';

export interface IdentityFollowerDeps {
  client: KafkaClient;
  /** The reader's consumer group: unique to this instance and start. */
  groupId: string;
  codec: Codec;
  topics: Readonly<Record<IdentityRole, string>>;
  store: IdentityStore;
  deadLetters: DeadLetterWriter;
  metrics: EnrichMetrics;
  log: Logger;
  now: () => number;
  /** Called after a batch changed state once restored (events waiting for identities re-try). */
  onChange(): void;
  onCrash(err: unknown): void;
  progressIntervalMs?: number;
  maxBatchSize?: number;
  /** Longest the initial restore may take before start() fails (default 30 min). */
  restoreTimeoutMs?: number;
}

export interface RestoreProgress {
  restored: boolean;
  records: number;
  remainingPartitions: number;
  elapsedMs: number;
}

export interface IdentityFollower {
  /** Resolves once every identity topic was read up to its start-up end; following continues after. */
  start(): Promise<void>;
  stop(): Promise<void>;
  progress(): RestoreProgress;
}

export function createIdentityFollower(deps: IdentityFollowerDeps): IdentityFollower {
  const { codec, store, metrics, log, now } = deps;
  const roleOf = new Map<string, IdentityRole>(IDENTITY_ROLES.map((role) => [deps.topics[role], role]));
  // Fields enrichment never reads are skipped while decoding (a SCIM person carries ~1 KB of them).
  const decoders = new Map(IDENTITY_ROLES.map((role) => [role, codec.skipping?.(role, UNREAD_FIELDS[role] as readonly never[])]));
  let reader: TopicReader | undefined;
  let restored = false;
  let records = 0;
  let remainingPartitions = 0;
  let startedAt = 0;

  async function handleBatch(batch: ConsumedBatch): Promise<void> {
    const role = roleOf.get(batch.topic);
    if (!role) return;
    // Without a promise per record when the writer's schema is known (nearly always).
    const decoded = batch.messages.map((m) => decodeNow(role, m));
    for (let i = 0; i < decoded.length; i++) if (decoded[i] === undefined) decoded[i] = await decode(role, batch.messages[i]!);
    const dead: DeadLetterInput[] = [];
    const outcomes = new Map<ApplyOutcome, number>();
    for (let i = 0; i < decoded.length; i++) {
      const message = batch.messages[i]!;
      const item = decoded[i]!;
      try {
        if (item instanceof Error) throw item;
        const outcome = store.apply(role, message.key === null ? null : message.key.toString('utf8'), item);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      } catch (error) {
        dead.push({ stage: 'parsing', source: message.topic, error, original: message.value ?? Buffer.alloc(0), topic: message.topic, partition: message.partition, offset: message.offset });
      }
    }
    if (dead.length > 0) {
      await deps.deadLetters.send(dead);
      for (const d of dead) metrics.errors.inc({ component: COMPONENT, error_code: (d.error as { code?: string }).code ?? 'TETHER_DECODE', stage: d.stage });
      metrics.dropped.inc({ component: COMPONENT, intentional: 'false' }, dead.length);
      log.warn({ count: dead.length, topic: batch.topic, partition: batch.partition }, 'identity records sent to the dead-letter topic');
    }
    for (const [outcome, count] of outcomes) metrics.identityRecords.inc({ table: role, outcome }, count);
    records += batch.messages.length;
    updateEntityGauges();

    if (!restored) metrics.restoreRecords.set(records);
    else if ((outcomes.get('added') ?? 0) + (outcomes.get('replaced') ?? 0) + (outcomes.get('removed') ?? 0) > 0) {
      deps.onChange();
    }
  }

  function decodeNow(role: IdentityRole, message: ConsumedMessage): IdentityRecords[IdentityRole] | null | Error | undefined {
    if (message.value === null) return null;
    try {
      const decoder = decoders.get(role);
      return decoder ? decoder.decodeKnown(message.value) : codec.decodeKnown?.(role, message.value);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  async function decode(role: IdentityRole, message: ConsumedMessage): Promise<IdentityRecords[IdentityRole] | null | Error> {
    if (message.value === null) return null;
    try {
      const decoder = decoders.get(role);
      return await (decoder ? decoder.decode(message.value) : codec.decode(role, message.value));
    } catch (error) {
      if (isRetriable(error)) throw error;
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  function updateEntityGauges(): void {
    const counts = store.counts();
    metrics.identityEntities.set({ table: 'people' }, counts.people);
    metrics.identityEntities.set({ table: 'devices' }, counts.devices);
    metrics.identityEntities.set({ table: 'nhi' }, counts.nhi);
    metrics.identityEntities.set({ table: 'connectors' }, counts.connectors);
  }

  function progress(): RestoreProgress {
    return { restored, records, remainingPartitions, elapsedMs: startedAt === 0 ? 0 : now() - startedAt };
  }

  return {
    progress,

    async start() {
      startedAt = now();
      metrics.restored.set(0);
      log.info('restoring identity state');
      const ticker = setInterval(() => log.info(progress(), 'restoring identity state: progress'), deps.progressIntervalMs ?? 5_000);
      try {
        reader = await openTopicReader(deps.client, {
          topics: IDENTITY_ROLES.map((role) => deps.topics[role]),
          groupId: deps.groupId,
          maxWaitMs: 250,
          maxBatchSize: deps.maxBatchSize,
          timeoutMs: deps.restoreTimeoutMs ?? 30 * 60_000,
          onBatch: handleBatch,
          onProgress: (p) => {
            remainingPartitions = p.remainingPartitions;
            metrics.restoreRemainingPartitions.set(p.remainingPartitions);
          },
          onCrash: deps.onCrash,
        });
        remainingPartitions = reader.progress().remainingPartitions;
        metrics.restoreRemainingPartitions.set(remainingPartitions);
        log.info({ partitions: remainingPartitions }, 'identity partitions to restore');
        await reader.caughtUp.catch((err: unknown) => {
          deps.onCrash(err);
          throw err;
        });
      } finally {
        clearInterval(ticker);
      }
      restored = true;
      remainingPartitions = 0;
      const elapsedMs = now() - startedAt;
      metrics.restored.set(1);
      metrics.restoreSeconds.set(elapsedMs / 1000);
      updateEntityGauges();
      log.info({ records, elapsedMs, ...store.counts() }, 'identity state restored');
    },

    stop: async () => {
      await reader?.stop();
    },
  };
}
