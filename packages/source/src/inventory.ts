// Inventories (users, keys, projects...) have no history: each snapshot is
// compared with the last one and only changes become records. The per-entity
// fingerprints and last content ride in the checkpoint cursor, so a restart
// neither re-emits what was delivered nor misses what disappeared.
import { createHash } from 'node:crypto';
import { TetherError } from '#errors';
import type { Logger } from '#log';
import type { DeadLetterStage } from '#service';
import type { ItemResult, OutRecord, PageSink, ProcessedItem } from './page-sink.ts';
import { throwIfAborted } from './retry.ts';

export interface InventoryEntity<S> {
  /** Unique within the inventory (e.g. the nhi_id or person_id). */
  id: string;
  /** What a version carries; kept so a 'gone' version can repeat it. */
  content: S;
  /** The fields whose change makes a new version (not last-used times). */
  tracked: unknown;
  /** Creation time on the platform, when it says. */
  createdAt: number | null;
}

export type ChangeKind = 'new' | 'changed' | 'gone';

export interface EntityChange<S> {
  kind: ChangeKind;
  id: string;
  previous: S | null;
  /** For 'gone', the last content seen. */
  current: S;
  validFrom: number;
  observedAt: number;
  /** True on the first snapshot an inventory ever takes: everything is 'new'. */
  baseline: boolean;
  /** The listed element's bytes (null for 'gone'): what derived events keep as raw. */
  raw: Buffer | null;
}

export type EntityResult<S> = { ok: true; entities: readonly InventoryEntity<S>[] } | { ok: false; stage: DeadLetterStage; error: unknown };

export interface InventoryFeed<S> {
  source: string;
  /** Every page of the inventory, in any order. */
  pages(signal: AbortSignal): AsyncIterable<readonly unknown[]>;
  /** Pure: one listed element to its entities (a key may also yield its owner). */
  process(item: unknown, raw: Buffer): EntityResult<S>;
  /** Pure: a change to the records it produces (versions, derived events). */
  emit(change: EntityChange<S>): readonly OutRecord[];
  /** When an audit event announced a change of this entity, its time. */
  announcedAt?(id: string, after: number): number | undefined;
  rawOf(item: unknown): Buffer;
}

export interface EntityState<S> {
  fp: string;
  validFrom: number;
  content: S;
  gone?: true;
}

export interface InventoryCursor<S> {
  /** Set while a snapshot is under way, so a restart observes at the same time and re-emits identical keys. */
  observedAt: number | null;
  entities: Record<string, EntityState<S>>;
}

const GONE_FINGERPRINT = 'gone';

export function parseInventoryCursor<S>(text: string | undefined): InventoryCursor<S> | undefined {
  if (text === undefined) return undefined;
  try {
    const c = JSON.parse(text) as InventoryCursor<S>;
    if ((c.observedAt === null || Number.isFinite(c.observedAt)) && typeof c.entities === 'object' && c.entities !== null) return c;
  } catch {
    // a cursor that does not parse is treated as missing
  }
  return undefined;
}

/** Stable fingerprint: key order does not matter. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 16);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Pure: what one entity seen in a snapshot means against the state so far.
 * First sight holds from its creation time when known; a later change from
 * the announcing audit event's time or else the observation; always after
 * the previous version, so versions of one entity never share a key.
 */
export function diffEntity<S>(
  entity: InventoryEntity<S>,
  previous: EntityState<S> | undefined,
  observedAt: number,
  baseline: boolean,
  announcedAt?: (id: string, after: number) => number | undefined,
  raw: Buffer | null = null,
): { change: EntityChange<S>; state: EntityState<S> } | undefined {
  const fp = fingerprint(entity.tracked);
  if (previous && previous.fp === fp && !previous.gone) return undefined;
  if (!previous) {
    const validFrom = entity.createdAt !== null && entity.createdAt <= observedAt ? entity.createdAt : observedAt;
    return {
      change: { kind: 'new', id: entity.id, previous: null, current: entity.content, validFrom, observedAt, baseline, raw },
      state: { fp, validFrom, content: entity.content },
    };
  }
  const announced = announcedAt?.(entity.id, previous.validFrom);
  const candidate = announced !== undefined && announced <= observedAt ? announced : observedAt;
  const validFrom = Math.max(candidate, previous.validFrom + 1);
  return {
    change: { kind: 'changed', id: entity.id, previous: previous.content, current: entity.content, validFrom, observedAt, baseline, raw },
    state: { fp, validFrom, content: entity.content },
  };
}

export interface SnapshotResult<S> {
  cursor: InventoryCursor<S>;
  seen: number;
  changes: number;
  sent: number;
  dead: number;
}

/** Takes one snapshot: lists every page, commits the changes page by page, then what disappeared. */
export async function runInventorySnapshot<S>(
  feed: InventoryFeed<S>,
  options: {
    checkpointId: string;
    cursor: InventoryCursor<S> | undefined;
    now: () => number;
    sink: PageSink;
    signal: AbortSignal;
    log: Logger;
  },
): Promise<SnapshotResult<S>> {
  const baseline = options.cursor === undefined;
  const entities: Record<string, EntityState<S>> = { ...(options.cursor?.entities ?? {}) };
  let observedAt = options.cursor?.observedAt ?? null;
  const totals = { seen: 0, changes: 0, sent: 0, dead: 0 };
  const save = (pending: number | null) => JSON.stringify({ observedAt: pending, entities } satisfies InventoryCursor<S>);

  if (observedAt === null) {
    observedAt = options.now();
    // Pin the observation time before anything is produced (see InventoryCursor).
    await options.sink.commit({ source: feed.source, items: [], checkpoint: { id: options.checkpointId, cursor: save(observedAt) } });
  }
  const seen = new Set<string>();
  for await (const page of feed.pages(options.signal)) {
    throwIfAborted(options.signal);
    const items: ProcessedItem[] = [];
    let changed = false;
    for (const element of page) {
      const raw = feed.rawOf(element);
      const processed = guardedProcess(feed, element, raw);
      if (!processed.ok) {
        items.push({ raw, result: processed });
        continue;
      }
      const records: OutRecord[] = [];
      let failure: ItemResult | undefined;
      for (const entity of processed.entities) {
        if (seen.has(entity.id)) {
          // Listed twice in one snapshot (paging overlap, a hostile listing): the same content is nothing new;
          // different content would make two versions now and flip between them on every later snapshot.
          if (entities[entity.id]?.fp !== fingerprint(entity.tracked)) failure = conflict(entity.id);
          continue;
        }
        seen.add(entity.id);
        totals.seen++;
        const diff = diffEntity(entity, entities[entity.id], observedAt, baseline, feed.announcedAt, raw);
        if (!diff) continue;
        entities[entity.id] = diff.state;
        const emitted = guardedEmit(feed, diff.change);
        if (!emitted.ok) failure = emitted;
        else records.push(...emitted.records);
        totals.changes++;
        changed = true;
      }
      // The entities that did map still count (and are remembered); the element is dead-lettered for the rest.
      if (failure && records.length > 0) items.push({ raw, result: { ok: true, records } });
      items.push({ raw, result: failure ?? { ok: true, records } });
    }
    // Unchanged pages need no checkpoint: re-listing them after a restart emits nothing.
    const result = await options.sink.commit({
      source: feed.source,
      items,
      checkpoint: changed ? { id: options.checkpointId, cursor: save(observedAt) } : undefined,
    });
    totals.sent += result.sent;
    totals.dead += result.dead;
  }

  const goneRecords: OutRecord[] = [];
  const goneFailures: ProcessedItem[] = [];
  for (const [id, state] of Object.entries(entities)) {
    if (seen.has(id) || state.gone) continue;
    const validFrom = Math.max(observedAt, state.validFrom + 1);
    const emitted = guardedEmit(feed, { kind: 'gone', id, previous: state.content, current: state.content, validFrom, observedAt, baseline, raw: null });
    if (emitted.ok) goneRecords.push(...emitted.records);
    else goneFailures.push({ raw: Buffer.from(JSON.stringify({ id, content: state.content })), result: emitted });
    entities[id] = { fp: GONE_FINGERPRINT, validFrom, content: state.content, gone: true };
    totals.changes++;
  }
  const result = await options.sink.commit({ source: feed.source, items: goneFailures, derived: goneRecords, checkpoint: { id: options.checkpointId, cursor: save(null) } });
  totals.sent += result.sent;
  options.log.debug({ source: feed.source, ...totals }, 'inventory snapshot taken');
  return { cursor: { observedAt: null, entities }, ...totals };
}

/** An emitter that throws (a bug) dead-letters the element whose change it was given; the snapshot goes on. */
function guardedEmit<T>(feed: InventoryFeed<T>, change: EntityChange<T>): { ok: true; records: readonly OutRecord[] } | Extract<ItemResult, { ok: false }> {
  try {
    return { ok: true, records: feed.emit(change) };
  } catch (err) {
    return { ok: false, stage: 'normalising', error: new TetherError('TETHER_NORMALISE_INVALID', `inventory emitter threw: ${(err as Error)?.message ?? String(err)}`, { cause: err }) };
  }
}

function conflict(id: string): Extract<ItemResult, { ok: false }> {
  return {
    ok: false,
    stage: 'normalising',
    error: new TetherError('TETHER_DUPLICATE_CONFLICT', `${id} is listed twice in one snapshot with different content; the first listing was kept`, { context: { id } }),
  };
}

/** A mapper that throws (a bug, or an element it cannot walk) dead-letters that element; the snapshot goes on. */
function guardedProcess<T>(feed: InventoryFeed<T>, element: unknown, raw: Buffer): EntityResult<T> {
  try {
    return feed.process(element, raw);
  } catch (err) {
    return { ok: false, stage: 'normalising', error: new TetherError('TETHER_NORMALISE_INVALID', `inventory mapper threw: ${(err as Error)?.message ?? String(err)}`, { cause: err }) };
  }
}
