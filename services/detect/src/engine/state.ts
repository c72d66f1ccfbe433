// The detect service's rule state: one DetectState per group of a stateful
// rule (a threshold window, the values first seen, partial sequences), held
// in memory with a bound on the entries of all groups together, least
// recently used groups forgotten first. Changed groups are collected so the
// caller can write them to the compacted state topic after the batch's
// findings, and forgotten groups as tombstones.
//
// Each group records, per input partition, the offset of the last event it
// applied: an event replayed after a crash (offsets not committed yet, state
// already written) is recognised and not applied twice, so a window is neither
// lost nor double-counted and the finding it already produced is not rebuilt
// from different evidence.
import type { DetectState } from '#schemas';

export interface InputPosition {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface StateChanges {
  upserts: DetectState[];
  /** state_key of groups forgotten (to tombstone). */
  deletes: string[];
}

export interface StateStoreOptions {
  /** Most entries (window events, values, partial sequences) of all groups together. */
  maxEntries: number;
  now?: () => number;
}

export class StateStore {
  readonly #groups = new Map<string, DetectState>();
  readonly #dirty = new Set<string>();
  readonly #deleted = new Set<string>();
  readonly #maxEntries: number;
  readonly #now: () => number;
  #entries = 0;
  #evicted = 0;

  constructor(options: StateStoreOptions) {
    this.#maxEntries = options.maxEntries;
    this.#now = options.now ?? Date.now;
  }

  get groups(): number {
    return this.#groups.size;
  }

  get entries(): number {
    return this.#entries;
  }

  /** Groups forgotten to stay within the bound since start. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The group, most recently used from now on; created empty when absent. */
  group(key: string, init: () => Omit<DetectState, 'entries' | 'applied' | 'updated_at' | 'state_key'>): DetectState {
    let state = this.#groups.get(key);
    if (state) {
      this.#groups.delete(key);
    } else {
      state = { state_key: key, ...init(), entries: [], applied: [], updated_at: 0 };
      this.#deleted.delete(key);
    }
    this.#groups.set(key, state);
    return state;
  }

  peek(key: string): DetectState | undefined {
    return this.#groups.get(key);
  }

  /** Whether the group has already applied the event at this position (a replay). */
  static applied(state: DetectState, at: InputPosition | undefined): boolean {
    if (!at) return false;
    const mark = state.applied.find((a) => a.partition === at.partition && a.topic === at.topic);
    return mark !== undefined && BigInt(mark.offset) >= at.offset;
  }

  /** Records a change of the group, caused by the event at `at`; keeps the bound. */
  changed(state: DetectState, entriesBefore: number, at: InputPosition | undefined): void {
    if (at) {
      const mark = state.applied.find((a) => a.partition === at.partition && a.topic === at.topic);
      if (mark) mark.offset = Number(at.offset);
      else state.applied.push({ topic: at.topic, partition: at.partition, offset: Number(at.offset) });
    }
    this.#entries += state.entries.length - entriesBefore;
    this.#dirty.add(state.state_key);
    this.#bound(state.state_key);
  }

  /** Restores or follows a record from the state topic; null forgets the group. */
  apply(key: string, record: DetectState | null): void {
    const mine = this.#groups.get(key);
    if (record === null) {
      if (mine) this.#remove(key);
      return;
    }
    // A record behind what this instance applied itself (its own older write read back) is ignored.
    if (mine && !covers(record, mine)) return;
    if (mine) this.#remove(key);
    this.#groups.set(key, record);
    this.#entries += record.entries.length;
    this.#bound(key);
  }

  /** Forgets a group whose rule or rule version is no longer loaded, and tombstones it. */
  discard(key: string): void {
    this.#remove(key);
    this.#deleted.add(key);
  }

  /** Changed and forgotten groups since the last call, as records to write. */
  takeChanges(): StateChanges {
    const at = this.#now();
    const upserts: DetectState[] = [];
    for (const key of this.#dirty) {
      const state = this.#groups.get(key);
      if (!state) continue;
      state.updated_at = at;
      // A copy: the group keeps changing while the batch is written.
      upserts.push({ ...state, entries: state.entries.map((e) => ({ ...e, event_ids: [...e.event_ids] })), applied: state.applied.map((a) => ({ ...a })) });
    }
    this.#dirty.clear();
    const deletes = [...this.#deleted];
    this.#deleted.clear();
    return { upserts, deletes };
  }

  #remove(key: string): void {
    const state = this.#groups.get(key);
    if (!state) return;
    this.#groups.delete(key);
    this.#entries -= state.entries.length;
    this.#dirty.delete(key);
  }

  /** Forgets least recently used groups (never `keep`) until the entries fit. */
  #bound(keep: string): void {
    while (this.#entries > this.#maxEntries && this.#groups.size > 1) {
      const oldest = this.#groups.keys().next().value as string;
      if (oldest === keep) {
        // Move the one being written to the end and try the next oldest.
        const state = this.#groups.get(keep)!;
        this.#groups.delete(keep);
        this.#groups.set(keep, state);
        continue;
      }
      this.#remove(oldest);
      this.#deleted.add(oldest);
      this.#evicted += 1;
    }
  }
}

/** Whether `record` has applied at least everything `mine` has, partition by partition. */
function covers(record: DetectState, mine: DetectState): boolean {
  return mine.applied.every((m) => {
    const r = record.applied.find((a) => a.partition === m.partition && a.topic === m.topic);
    return r !== undefined && r.offset >= m.offset;
  });
}
