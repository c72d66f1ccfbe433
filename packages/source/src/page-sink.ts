// Delivers one page: every record encoded with the codec, failures to the
// DLQ with their original bytes, one acknowledged send, and only then the
// feed's checkpoint. A crash before the checkpoint repeats the page (ids are
// deterministic, so a repeat is harmless); a crash after it loses nothing.
import type { TopicRole } from '#config';
import { tetherError, type TetherError } from '#errors';
import type { ProduceRecord, Producer } from '#kafka';
import type { Logger } from '#log';
import type { Codec, IngestCheckpoint, RecordForTopic } from '#schemas';
import type { ComponentMetrics, DeadLetterStage, DeadLetterWriter } from '#service';
import type { CheckpointStore } from './checkpoint-store.ts';

/** One record bound for a topic role, not yet encoded. */
export type OutRecord = { [R in TopicRole]: { role: R; key: string; value: RecordForTopic[R] } }[TopicRole];

export type ItemResult =
  | { ok: true; records: readonly OutRecord[] }
  | { ok: false; stage: DeadLetterStage; error: unknown };

/** A source element as read (scrubbed bytes) and what it became. */
export interface ProcessedItem {
  raw: Buffer;
  result: ItemResult;
}

export interface PageCommit {
  /** '<platform>/<feed>': DLQ source and metrics component. */
  source: string;
  items: readonly ProcessedItem[];
  /** Records tied to no source element (e.g. an entity that disappeared from an inventory). */
  derived?: readonly OutRecord[];
  checkpoint?: { id: string; cursor: string };
  /**
   * Checkpoints of state the records were derived with (a source's fold),
   * taken when called: saved after the records and before `checkpoint`, so
   * a checkpointed page is never ahead of the state that saw it.
   */
  state?: () => readonly { id: string; cursor: string }[];
  /**
   * The previous page's commit when pages are pipelined: this page's records
   * may go out meanwhile, but its checkpoint only after that one succeeded,
   * so checkpoints stay in order and never pass a page that failed.
   */
  after?: Promise<unknown>;
}

export interface CommitResult {
  sent: number;
  dead: number;
  checkpoint: IngestCheckpoint | undefined;
}

export interface PageSink {
  commit(page: PageCommit): Promise<CommitResult>;
}

export function createPageSink(deps: {
  producer: Producer;
  codec: Codec;
  topics: Readonly<Record<TopicRole, string>>;
  checkpoints: CheckpointStore;
  deadLetters: DeadLetterWriter;
  metrics: ComponentMetrics;
  log: Logger;
}): PageSink {
  return {
    async commit(page) {
      const out: ProduceRecord[] = [];
      const dead: ProduceRecord[] = [];
      const failures = new Map<string, number>();
      const deadLetter = (stage: DeadLetterStage, error: unknown, original: Buffer) => {
        const letter = deps.deadLetters.build({ stage, source: page.source, error, original });
        dead.push({ topic: deps.topics.dlq, key: page.source, value: deps.codec.encode('dlq', letter) });
        const label = `${letter.reason_code}@${stage}`;
        failures.set(label, (failures.get(label) ?? 0) + 1);
      };

      // All records of one item, or none: a half-encoded item would look delivered.
      const encodeAll = (records: readonly OutRecord[], original: () => Buffer) => {
        const encoded: ProduceRecord[] = [];
        try {
          for (const record of records) {
            encoded.push({ topic: deps.topics[record.role], key: record.key, value: deps.codec.encode(record.role, record.value as never) });
          }
        } catch (err) {
          deadLetter('encoding', err, original());
          return;
        }
        out.push(...encoded);
      };
      const conflicts = conflictChecker();
      for (const item of page.items) {
        if (!item.result.ok) deadLetter(item.result.stage, item.result.error, item.raw);
        else {
          const conflict = conflicts.check(item.result.records, item.raw);
          if (conflict) deadLetter('normalising', conflict, item.raw);
          else encodeAll(item.result.records, () => item.raw);
        }
      }
      for (const record of page.derived ?? []) encodeAll([record], () => Buffer.from(JSON.stringify(record.value)));

      if (out.length + dead.length > 0) await deps.producer.send([...out, ...dead]);
      await page.after;
      const state = page.state?.() ?? [];
      if (state.length > 0) await Promise.all(state.map((s) => deps.checkpoints.save(s.id, s.cursor, 0)));
      const checkpoint = page.checkpoint ? await deps.checkpoints.save(page.checkpoint.id, page.checkpoint.cursor, out.length) : undefined;

      deps.metrics.received.inc({ component: page.source }, page.items.length);
      deps.metrics.sent.inc({ component: page.source }, out.length);
      if (dead.length > 0) {
        deps.metrics.dropped.inc({ component: page.source, intentional: 'false' }, dead.length);
        for (const [label, count] of failures) {
          const [code, stage] = label.split('@') as [string, string];
          deps.metrics.errors.inc({ component: page.source, error_code: code, stage }, count);
        }
        deps.log.warn({ source: page.source, dead: dead.length, reasons: Object.fromEntries(failures) }, 'records sent to the DLQ');
      }
      deps.log.debug({ source: page.source, items: page.items.length, sent: out.length, dead: dead.length }, 'page committed');
      return { sent: out.length, dead: dead.length, checkpoint };
    },
  };
}

/**
 * Access events are keyed by an id derived from the source's own event id.
 * Two elements of one page with the same id and the same bytes are one
 * record listed twice (both go out; downstream keeps one). With different
 * bytes, downstream dedup would keep one and silently lose the other, so the
 * later one is dead-lettered with both sides named. Across pages (a record a
 * platform rewrites later) the newest write wins downstream, as for a re-read.
 */
function conflictChecker() {
  const firstRaw = new Map<string, Buffer>();
  return {
    check(records: readonly OutRecord[], raw: Buffer): TetherError | undefined {
      const keys = records.filter((r) => r.role === 'accessRaw').map((r) => r.key);
      for (const key of keys) {
        const first = firstRaw.get(key);
        if (first && !first.equals(raw)) {
          return tetherError('TETHER_DUPLICATE_CONFLICT', `event ${key} came twice in one page with different content; the first was kept, this one is dead-lettered`, {
            context: { eventId: key, firstBytes: first.length, bytes: raw.length },
          });
        }
      }
      for (const key of keys) if (!firstRaw.has(key)) firstRaw.set(key, raw);
      return undefined;
    },
  };
}
