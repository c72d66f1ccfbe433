// One stream of the sink: a consumer group reading some topics into their
// tables. Per partition batch: decode, map to rows (undecodable and
// unmappable records to the DLQ), buffer per table, and resolve only once
// ClickHouse acknowledged the rows, so the consumer commits nothing that is
// not stored (at-least-once; duplicates collapse in ReplacingMergeTree).
//
// ClickHouse down or slow: the insert is retried with jittered backoff for
// as long as it takes, and the consumer is paused meanwhile (backpressure).
// A row ClickHouse rejects goes to the DLQ with the server's error; the rest
// of its batch lands.
import type { TopicRole } from '#config';
import {
  ACCESS_EVENT_COLUMNS, RowBinaryWriter, TABLES, classifyWriteError, clickHouseErrorInfo, coalesce, loggableClickHouseMessage,
  type ClickHouse, type ClickHouseSettings, type DlqPosition, type TableName,
} from '#clickhouse';
import { TetherError, errorMessage, isRetriable, tetherError } from '#errors';
import type { ConsumedBatch, Consumer } from '#kafka';
import type { Logger } from '#log';
import type { Codec } from '#schemas';
import type { DeadLetterInput, DeadLetterWriter } from '#service';
import { backoffDelay, sleep, type RetryPolicy } from '#retry';
import { createBatcher, type Batcher } from './batcher.ts';
import { insertIsolating, type Rejected } from './isolate.ts';
import type { SinkMetrics } from './metrics.ts';
import { TABLE_FOR_ROLE, buildRow, fastAccessEventRow, undecodableDeadLetter, type SinkRole } from './request-builder.ts';

export const SERVICE = 'sink-clickhouse';

export interface StreamSpec {
  name: string;
  groupId: string;
  roles: readonly SinkRole[];
}

export interface BatchSettings {
  rows: number;
  /** Encoded bytes per insert: a buffer this big is written at once. */
  bytes: number;
  maxWaitMs: number;
  idleMs: number;
  minIdleRows: number;
}

/** How inserts are sent, decided once the server's version is known (see insertPlan in app.ts). */
export interface InsertPlan {
  /** Settings for a batch smaller than minIdleRows, which the server may gather itself (async_insert). */
  smallBatchSettings?: ClickHouseSettings;
}

export interface StreamSinkOptions {
  spec: StreamSpec;
  topics: Readonly<Record<TopicRole, string>>;
  /** Makes the stream's consumer; called again to rejoin after a crash. */
  consumer(): Consumer;
  codec: Codec;
  clickhouse: ClickHouse;
  deadLetters: DeadLetterWriter;
  metrics: SinkMetrics;
  log: Logger;
  batch: BatchSettings;
  retry: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs' | 'multiplier'>;
  /**
   * The schema id of EnrichedAccessEvent values the transcoder reads
   * straight from their bytes; null decodes every value first.
   */
  transcodeSchemaId?: number | null;
  /** Resolves the insert plan for the server (memoised by the caller). */
  insertPlan?: () => Promise<InsertPlan>;
  now?: () => number;
}

export interface StreamStatus {
  stream: string;
  /** Paused because ClickHouse (or the DLQ) is not taking writes. */
  paused: boolean;
  /** False while the consumer rejoins its group after a crash. */
  consuming: boolean;
  bufferedRows: number;
  lastWriteError: string | null;
}

interface Entry {
  /** RowBinary bytes (access_events) ... */
  bytes?: Buffer;
  /** ... or an object for a JSONEachRow insert (the other tables). */
  row?: object;
  at: DlqPosition;
  original: Buffer;
}

const ACCESS_EVENT_COLUMN_NAMES = ACCESS_EVENT_COLUMNS.map(([name]) => name);

export interface StreamSink {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): StreamStatus;
}

export function createStreamSink(options: StreamSinkOptions): StreamSink {
  const { spec, codec, clickhouse, metrics, batch, retry } = options;
  const now = options.now ?? Date.now;
  const log = options.log.child({ stream: spec.name });
  const component = spec.name;
  const roleByTopic = new Map<string, SinkRole>(spec.roles.map((role) => [options.topics[role], role]));
  const batchers = new Map<TableName, Batcher<Entry>>();
  // Rows are encoded into shared slabs; an entry's bytes are a view into one.
  const writer = new RowBinaryWriter();
  const transcodeSchemaId = options.transcodeSchemaId ?? null;
  const insertPlan = options.insertPlan ?? (async (): Promise<InsertPlan> => ({}));
  let consumer = options.consumer();
  let consuming = false;
  let outages = 0;
  let lastWriteError: string | null = null;
  let draining = false;

  // ------------------------------------------------------------ backpressure

  function hold() {
    outages += 1;
    if (outages === 1) {
      consumer.pause();
      metrics.paused.set({ stream: spec.name }, 1);
    }
  }

  function release() {
    outages -= 1;
    if (outages === 0) {
      consumer.resume();
      metrics.paused.set({ stream: spec.name }, 0);
    }
  }

  /**
   * Runs `write` until it succeeds, pausing the consumer while it fails. Never
   * gives up on what `transient` accepts (all errors by default): nothing is lost.
   */
  async function untilWritten<T>(
    what: string, table: string, classify: (err: unknown) => string, write: () => Promise<T>, transient: (err: unknown) => boolean = () => true,
  ): Promise<T> {
    let attempt = 0;
    try {
      for (;;) {
        try {
          const result = await write();
          if (attempt > 0) {
            lastWriteError = null;
            log.info({ table, attempts: attempt + 1 }, `${what} succeeded again; resuming`);
          }
          return result;
        } catch (err) {
          if (!transient(err)) throw err;
          attempt += 1;
          if (attempt === 1) hold();
          const kind = classify(err);
          const delayMs = backoffDelay(retry, attempt);
          const { code } = clickHouseErrorInfo(err);
          lastWriteError = `${kind}: ${loggableClickHouseMessage(errorMessage(err))}`;
          metrics.retries.inc({ table, kind });
          metrics.errors.inc({ component, error_code: code === null ? kind : `clickhouse_${code}`, stage: 'sending' });
          const fields = { table, attempt, delayMs, kind, code, error: loggableClickHouseMessage(errorMessage(err)) };
          // A missing table or column needs an operator (run the migrations); the rest usually heals.
          if (kind === 'schema') log.error(fields, `${what} failed: the table does not match; run the migrations. Retrying`);
          else if (attempt === 1 || attempt % 10 === 0) log.warn(fields, `${what} failed; pausing consumption and retrying`);
          await sleep(delayMs);
        }
      }
    } finally {
      if (attempt > 0) release();
    }
  }

  // ------------------------------------------------------------------ writes

  async function insert(table: TableName, part: readonly Entry[], settings: ClickHouseSettings | undefined): Promise<void> {
    if (part[0]?.bytes) {
      await clickhouse.insertRowBinary(table, ACCESS_EVENT_COLUMN_NAMES, coalesce(part.map((e) => e.bytes!)), { settings });
    } else {
      await clickhouse.insertRows(table, part.map((e) => e.row!));
    }
  }

  async function flush(table: TableName, entries: Entry[]): Promise<void> {
    const started = performance.now();
    const rejected = await untilWritten('insert', table, classifyWriteError, async () => {
      const plan = await insertPlan();
      const settings = entries.length < batch.minIdleRows ? plan.smallBatchSettings : undefined;
      return insertIsolating(entries, (part) => insert(table, part, settings));
    });
    metrics.insertSeconds.observe({ table }, (performance.now() - started) / 1000);
    metrics.sent.inc({ component }, entries.length - rejected.length);
    log.debug({ table, rows: entries.length, rejected: rejected.length }, 'batch written');
    if (rejected.length > 0) await setAside(table, rejected);
  }

  async function setAside(table: TableName, rejected: Rejected<Entry>[]): Promise<void> {
    metrics.rejected.inc({ table }, rejected.length);
    metrics.dropped.inc({ component, intentional: 'false' }, rejected.length);
    for (const { error } of rejected) {
      metrics.errors.inc({ component, error_code: 'TETHER_SINK_ROW_REJECTED', stage: 'sending' });
      log.warn({ table, error: loggableClickHouseMessage(errorMessage(error)) }, 'ClickHouse rejected a row; dead-lettering it');
    }
    if (table === TABLES.deadLetters) {
      // Dead-lettering a dead letter would loop: it stays on tether.dlq, and this is loud.
      log.error({ table, rows: rejected.length }, 'ClickHouse rejected dead letters; they remain only on the DLQ topic');
      return;
    }
    const inputs: DeadLetterInput[] = rejected.map(({ entry, error }) => ({
      stage: 'writing',
      source: entry.at.topic,
      error: tetherError('TETHER_SINK_ROW_REJECTED', `ClickHouse rejected the row for ${table}: ${errorMessage(error)}`, { cause: error }),
      original: entry.original,
      topic: entry.at.topic,
      partition: entry.at.partition,
      offset: entry.at.offset,
    }));
    await sendDeadLetters(inputs);
  }

  async function sendDeadLetters(inputs: DeadLetterInput[]): Promise<void> {
    await untilWritten('dead-letter send', options.topics.dlq, () => 'kafka', () => options.deadLetters.send(inputs));
  }

  function batcherFor(table: TableName): Batcher<Entry> {
    let batcher = batchers.get(table);
    if (!batcher) {
      batcher = createBatcher<Entry>({
        batchRows: batch.rows,
        maxWaitMs: batch.maxWaitMs,
        idleMs: batch.idleMs,
        minIdleRows: batch.minIdleRows,
        flush: (entries) => flush(table, entries),
        now,
      });
      if (draining) batcher.drain();
      batchers.set(table, batcher);
    }
    return batcher;
  }

  // ------------------------------------------------------------------- reads

  async function eachBatch(consumed: ConsumedBatch): Promise<void> {
    const role = roleByTopic.get(consumed.topic);
    if (!role) throw new Error(`stream ${spec.name} received topic ${consumed.topic} it did not subscribe to`);
    metrics.received.inc({ component }, consumed.messages.length);
    const byTable = new Map<TableName, Entry[]>();
    const deadLetters: DeadLetterInput[] = [];
    let tombstones = 0;
    let redactions = 0;

    for (const message of consumed.messages) {
      const at: DlqPosition = { topic: message.topic, partition: message.partition, offset: message.offset };
      const original = message.value ?? Buffer.alloc(0);
      if (message.value === null || message.value.length === 0) {
        // Compacted identity topics carry tombstones for superseded keys: not data.
        if (role !== 'accessEnriched' && role !== 'dlq') {
          tombstones += 1;
          continue;
        }
      }
      if (role === 'accessEnriched' && transcodeSchemaId !== null) {
        // The common case: the row straight from the wire bytes, no record decoded.
        const bytes = fastAccessEventRow(writer, original, transcodeSchemaId);
        if (bytes) {
          let entries = byTable.get(TABLES.accessEvents);
          if (!entries) byTable.set(TABLES.accessEvents, (entries = []));
          entries.push({ bytes, at, original });
          continue;
        }
      }
      let built;
      try {
        // A registry that is down says nothing about the record: wait for it (paused), never dead-letter.
        const record = await untilWritten('schema lookup', consumed.topic, () => 'registry', () => codec.decode(role, original), isRetriable);
        built = buildRow(role, record, at, writer);
      } catch (err) {
        if (role === 'dlq') {
          // An undecodable dead letter is stored as it is: sending it back to the DLQ would loop.
          const letter = undecodableDeadLetter({ service: SERVICE, message: errorMessage(err), original, at, now: now() });
          built = buildRow('dlq', letter, at, writer);
        } else {
          const stage = TetherError.is(err) && err.code === 'TETHER_SINK_ROW_REJECTED' ? 'writing' : 'parsing';
          // A value its column cannot hold is refused before sending (RowBinary carries no types to check).
          if (stage === 'writing') metrics.rejected.inc({ table: TABLE_FOR_ROLE[role] });
          deadLetters.push({ stage, source: consumed.topic, error: err, original, topic: at.topic, partition: at.partition, offset: at.offset });
          metrics.errors.inc({ component, error_code: TetherError.is(err) ? err.code : 'TETHER_DECODE', stage: 'processing' });
          continue;
        }
      }
      redactions += built.redactions;
      let entries = byTable.get(built.table);
      if (!entries) byTable.set(built.table, (entries = []));
      entries.push({ bytes: built.bytes, row: built.row, at, original });
    }

    if (tombstones > 0) metrics.dropped.inc({ component, intentional: 'true' }, tombstones);
    if (redactions > 0) metrics.redactions.inc({ stream: spec.name }, redactions);
    if (deadLetters.length > 0) {
      log.warn({ topic: consumed.topic, partition: consumed.partition, records: deadLetters.length }, 'records could not be decoded or mapped; dead-lettering them');
      metrics.dropped.inc({ component, intentional: 'false' }, deadLetters.length);
      await sendDeadLetters(deadLetters);
    }
    await Promise.all([...byTable].map(([table, entries]) => batcherFor(table).add(entries)));
  }

  async function run(): Promise<void> {
    await consumer.run({
      topics: spec.roles.map((role) => options.topics[role]),
      fromBeginning: true,
      maxBatchSize: batch.rows,
      eachBatch,
      onCrash: (err) => {
        rejoin(err).catch((rejoinErr: unknown) => log.error({ err: rejoinErr, group: spec.groupId }, 'rejoining the group failed'));
      },
    });
    consuming = true;
  }

  /**
   * A consumer that crashed is replaced and rejoins its group. The usual
   * cause is an outage longer than the session timeout: the blocked batch
   * kept the client from heartbeating, the group moved on, and the commit
   * after the write was refused. The batch was written, not committed: it is
   * read again and collapses in ReplacingMergeTree.
   */
  async function rejoin(err: unknown): Promise<void> {
    if (draining || !consuming) return;
    consuming = false;
    log.warn({ err, group: spec.groupId }, 'consumer crashed; rejoining the group');
    metrics.errors.inc({ component, error_code: 'TETHER_KAFKA', stage: 'receiving' });
    const crashed = consumer;
    await crashed.stop().catch((stopErr: unknown) => log.debug({ err: stopErr }, 'stopping the crashed consumer failed'));
    for (let attempt = 1; !draining; attempt += 1) {
      await sleep(backoffDelay(retry, attempt));
      if (draining) return;
      consumer = options.consumer();
      if (outages > 0) consumer.pause();
      try {
        await run();
        log.info({ group: spec.groupId, attempt }, 'consumer rejoined');
        return;
      } catch (runErr) {
        log.warn({ err: runErr, attempt }, 'rejoining failed; retrying');
        await consumer.stop().catch(() => undefined);
      }
    }
  }

  return {
    async start() {
      await run();
      log.info({ group: spec.groupId, topics: spec.roles.map((r) => options.topics[r]) }, 'consuming');
    },
    async stop() {
      draining = true;
      for (const batcher of batchers.values()) batcher.drain();
      await consumer.stop();
    },
    status() {
      let buffered = 0;
      for (const batcher of batchers.values()) buffered += batcher.size();
      return { stream: spec.name, paused: outages > 0, consuming, bufferedRows: buffered, lastWriteError };
    },
  };
}
