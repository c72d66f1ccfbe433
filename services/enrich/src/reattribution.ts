// Events that left unattributed (their wait for late identity data ended, or
// only a platform account matched) are remembered for a while. When identity
// state changes, they are resolved again as of their own time, and those that
// now name a directory person, or another one than last emitted, are emitted
// once more: the newer enrichment supersedes the older downstream (ClickHouse
// keeps the latest enriched_at).
// Identity data that arrives minutes or hours after the events (a directory
// import after the audit backfill) then still attributes them.
//
// The window lives in memory, bounded by count and age, and is journalled to
// a compacted topic (reattribution-journal.ts): every entry remembered or
// re-emitted is written there with what was emitted for it, every entry
// forgotten is tombstoned, and a new instance restores the window from it
// before it consumes events. So identity data that arrives while enrich is
// down or after it restarted still re-attributes the events emitted before.
// Their offsets were committed with the first emit; a re-emit is an
// improvement, never a condition of delivery.
import { awaitsIdentity, type Resolution } from './resolve/enrich.ts';
import { PERSON_METHOD } from './resolve/policy.ts';

export interface ReattributionOptions<T> {
  /** Most events remembered; the oldest are forgotten first. 0 disables. */
  maxEvents: number;
  /** How long after its emit an event may still be re-attributed. */
  maxAgeMs: number;
  now: () => number;
  resolve(item: T): Resolution;
  /** Emits items whose attribution improved; resolves once acknowledged. */
  emit(items: ReadonlyArray<{ item: T; resolution: Resolution }>): Promise<void>;
  /** A re-emit failed: the items are kept for the next identity change. */
  onError?(err: unknown): void;
  /** Entries resolved per slice before yielding to I/O, so a large window never blocks the loop for long. */
  sliceSize?: number;
  /**
   * Least time between two sweeps: a stream of identity changes costs one sweep
   * per interval, not one each. The gap also grows to four times the last
   * sweep's duration, so sweeping never takes more than a fifth of the CPU.
   */
  minIntervalMs?: number;
  /** Keeps the window across restarts; without one it is memory only. */
  journal?: ReattributionJournal<T>;
}

/** What was last emitted for a remembered event: all a later resolution is compared with. */
export interface Emitted {
  method: string;
  personId: string | undefined;
  deviceId: string | null;
}

/** Where the window is kept so a restart finds it again (see reattribution-journal.ts). */
export interface ReattributionJournal<T> {
  /** An entry was remembered, or emitted again: what was emitted for it, and when. */
  kept(key: string, item: T, resolution: Resolution, emittedAt: number): void;
  /** An entry was forgotten (its age or the count bound). */
  forgotten(key: string): void;
  /** Writes what was noted since the last flush; resolves once acknowledged. */
  flush(): Promise<void>;
}

export interface ReattributionWindow<T> {
  /** Remembers an emitted event when its attribution could still improve. */
  remember(key: string, item: T, resolution: Resolution): void;
  /** Identity state changed: re-resolve remembered events (coalesced; one sweep at a time). */
  identityChanged(): void;
  /** An entry read back from the journal at start (not written again); call identityChanged() after the last. */
  restore(key: string, item: T, emitted: Emitted, emittedAt: number): void;
  /** Writes journal notes of remembered and forgotten entries; resolves once acknowledged (at once without a journal). */
  flush(): Promise<void>;
  /** Resolves once no sweep is running. */
  idle(): Promise<void>;
  readonly size: number;
}

interface Entry<T> {
  item: T;
  emitted: Emitted;
  emittedAt: number;
}

const emittedOf = (r: Resolution): Emitted => ({ method: r.method, personId: r.person?.person_id, deviceId: r.device?.device_id ?? null });

/**
 * Whether a resolution is one a later identity record could improve: a reference nothing names yet, a
 * platform account with no directory person, or a person found (or not yet found) only through the
 * device the event came from, which device data arriving later can still name or move.
 */
export function couldImprove(resolution: Resolution): boolean {
  return (
    awaitsIdentity(resolution) ||
    resolution.method === PERSON_METHOD.platformAccountOnly ||
    resolution.method === PERSON_METHOD.deviceUser ||
    // Device data may arrive after the event (an agent's results shipped late): the device is still to be named.
    (resolution.device === null && resolution.deviceHint)
  );
}

/**
 * Whether the new resolution names a directory person other than (or otherwise than) the last one
 * emitted, or names the device the last one could not.
 */
function improved(before: Emitted, after: Resolution): boolean {
  if (before.deviceId === null && after.device !== null && after.method === before.method && after.person?.person_id === before.personId) return true;
  if (after.method === PERSON_METHOD.unresolved || after.method === PERSON_METHOD.platformAccountOnly) return false;
  return after.method !== before.method || after.person?.person_id !== before.personId;
}

export function createReattributionWindow<T>(options: ReattributionOptions<T>): ReattributionWindow<T> {
  // Insertion order is emit order, so the head is always the oldest.
  const entries = new Map<string, Entry<T>>();
  const sliceSize = options.sliceSize ?? 2_000;
  const minIntervalMs = options.minIntervalMs ?? 1_000;
  let sweeping: Promise<void> | undefined;
  // A change not yet swept. Checked and cleared in the same synchronous step
  // that ends a run, so a change arriving at any moment is swept.
  let pending = false;
  const { journal } = options;

  function forget(key: string): void {
    entries.delete(key);
    journal?.forgotten(key);
  }

  function evict(now: number): void {
    while (entries.size > options.maxEvents) forget(entries.keys().next().value!);
    for (const [key, entry] of entries) {
      if (now - entry.emittedAt <= options.maxAgeMs) break;
      forget(key);
    }
  }

  async function sweepOnce(): Promise<void> {
    evict(options.now());
    const better: Array<{ key: string; item: T; resolution: Resolution }> = [];
    let done = 0;
    // A snapshot of the keys: events remembered during the sweep are checked as they arrive.
    for (const key of [...entries.keys()]) {
      const entry = entries.get(key);
      if (!entry) continue;
      const resolution = options.resolve(entry.item);
      if (improved(entry.emitted, resolution)) better.push({ key, item: entry.item, resolution });
      if (++done % sliceSize === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (better.length === 0) {
      // Evictions (and restored entries past their age) are tombstoned on the journal.
      await journal?.flush();
      return;
    }
    try {
      await options.emit(better);
      // Kept with what was emitted: identity data arrives in parts (a leaver's records before the
      // address's next holder), so a later change may name someone else again.
      const at = options.now();
      for (const { key, item, resolution } of better) {
        const entry = entries.get(key);
        if (!entry) continue;
        entry.emitted = emittedOf(resolution);
        journal?.kept(key, item, resolution, at);
      }
      await journal?.flush();
    } catch (err) {
      options.onError?.(err);
    }
  }

  async function run(): Promise<void> {
    for (;;) {
      pending = false;
      const started = performance.now();
      try {
        await sweepOnce();
      } catch (err) {
        options.onError?.(err);
      }
      if (!pending || entries.size === 0) {
        sweeping = undefined;
        return;
      }
      await new Promise<void>((resolve) => setTimeout(resolve, Math.max(minIntervalMs, 4 * (performance.now() - started))).unref());
    }
  }

  function schedule(): void {
    if (entries.size === 0) return;
    pending = true;
    sweeping ??= run();
  }

  return {
    get size() {
      return entries.size;
    },

    remember(key, item, resolution) {
      if (options.maxEvents <= 0 || !couldImprove(resolution)) return;
      const emittedAt = options.now();
      entries.delete(key);
      entries.set(key, { item, emitted: emittedOf(resolution), emittedAt });
      journal?.kept(key, item, resolution, emittedAt);
      evict(emittedAt);
      // Identity data may have arrived while this event was being emitted: that change found nothing to sweep.
      if (improved(emittedOf(resolution), options.resolve(item))) schedule();
    },

    identityChanged: schedule,

    restore(key, item, emitted, emittedAt) {
      if (options.maxEvents <= 0) {
        journal?.forgotten(key);
        return;
      }
      entries.delete(key);
      entries.set(key, { item, emitted, emittedAt });
      evict(options.now());
    },

    flush: () => journal?.flush() ?? Promise.resolve(),

    async idle() {
      while (sweeping) await sweeping;
    },
  };
}
