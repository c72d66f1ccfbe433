// Holds events whose actor no identity record names yet, for a bounded time
// and count, re-resolving them whenever identity state changes. An event
// leaves when it resolves, when its wait ends, when the buffer overflows (the
// oldest goes) or on shutdown; each way is counted and, unless resolved,
// stamped with a reason. hold() settles only once the event was emitted and
// acknowledged, so the caller's batch, and its offsets, wait for it.
import { awaitsIdentity, type Resolution } from './resolve/enrich.ts';
import { REASON } from './resolve/policy.ts';

export type ReleaseCause = 'resolved' | 'timeout' | 'overflow' | 'shutdown' | 'gave_up' | 'no_wait';

export interface Released<T> {
  item: T;
  resolution: Resolution;
  cause: ReleaseCause;
  waitedMs: number;
  /** Why the wait ended without a person; empty when it resolved. */
  reasons: string[];
}

export interface LateBufferOptions<T> {
  waitMs: number;
  maxEvents: number;
  /** How long references that timed out are not waited for again; 0 always waits. */
  giveUpMs: number;
  now: () => number;
  /** Resolves an item against the current identity state. */
  resolve(item: T): Resolution;
  /** Emits released items; resolves once they are acknowledged. */
  emit(released: Released<T>[]): Promise<void>;
  onRelease?(cause: ReleaseCause, count: number): void;
}

export interface LateBuffer<T> {
  /** Waits for identity data, then emits; settles after the emit is acknowledged. */
  hold(item: T, resolution: Resolution): Promise<void>;
  /** Identity state changed: re-try every held item (coalesced). */
  retry(): void;
  /** Emits everything held and refuses to hold more; resolves once emitted. */
  close(): Promise<void>;
  readonly size: number;
}

interface Entry<T> {
  item: T;
  heldAt: number;
  deadline: number;
  refs: string[];
  settle: { resolve(): void; reject(err: unknown): void };
}

/** Most references remembered as given up; the oldest are forgotten first. */
const GIVE_UP_CAPACITY = 100_000;

const CAUSE_REASON: Partial<Record<ReleaseCause, string>> = {
  timeout: REASON.waitTimeout,
  overflow: REASON.waitBufferFull,
  shutdown: REASON.waitCutShort,
  gave_up: REASON.gaveUpEarlier,
};

export function createLateBuffer<T>(options: LateBufferOptions<T>): LateBuffer<T> {
  let nextId = 0;
  // Insertion order is deadline order (one wait for all), so the head expires first.
  const held = new Map<number, Entry<T>>();
  const gaveUp = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let retryScheduled = false;
  let closed = false;
  const inFlight = new Set<Promise<void>>();

  function release(entries: Array<{ entry: Entry<T>; resolution: Resolution; cause: ReleaseCause }>): void {
    if (entries.length === 0) return;
    const now = options.now();
    const batch: Released<T>[] = entries.map(({ entry, resolution, cause }) => ({
      item: entry.item,
      resolution,
      cause,
      waitedMs: now - entry.heldAt,
      reasons: cause === 'resolved' ? [] : [CAUSE_REASON[cause]].filter((r): r is string => r !== undefined),
    }));
    const counts = new Map<ReleaseCause, number>();
    for (const { cause } of entries) counts.set(cause, (counts.get(cause) ?? 0) + 1);
    for (const [cause, count] of counts) options.onRelease?.(cause, count);
    const sent = options.emit(batch).then(
      () => { for (const { entry } of entries) entry.settle.resolve(); },
      (err: unknown) => { for (const { entry } of entries) entry.settle.reject(err); },
    );
    inFlight.add(sent);
    void sent.finally(() => inFlight.delete(sent));
  }

  function take(entry: Entry<T>, id: number, cause: ReleaseCause) {
    held.delete(id);
    const resolution = options.resolve(entry.item);
    return { entry, resolution, cause: cause !== 'resolved' && !awaitsIdentity(resolution) ? 'resolved' as const : cause };
  }

  function schedule(): void {
    if (timer !== undefined || closed) return;
    const head = held.values().next();
    if (head.done) return;
    timer = setTimeout(expire, Math.max(0, head.value.deadline - options.now()));
  }

  function expire(): void {
    timer = undefined;
    const now = options.now();
    const out = [];
    for (const [id, entry] of held) {
      if (entry.deadline > now) break;
      const taken = take(entry, id, 'timeout');
      if (taken.cause === 'timeout') rememberGiveUp(entry.refs, now);
      out.push(taken);
    }
    release(out);
    schedule();
  }

  function rememberGiveUp(refs: readonly string[], now: number): void {
    if (options.giveUpMs <= 0) return;
    for (const ref of refs) {
      gaveUp.delete(ref);
      gaveUp.set(ref, now + options.giveUpMs);
      if (gaveUp.size > GIVE_UP_CAPACITY) gaveUp.delete(gaveUp.keys().next().value!);
    }
  }

  function allGivenUp(refs: readonly string[], now: number): boolean {
    if (options.giveUpMs <= 0 || refs.length === 0) return false;
    return refs.every((ref) => {
      const until = gaveUp.get(ref);
      if (until === undefined) return false;
      if (until > now) return true;
      gaveUp.delete(ref);
      return false;
    });
  }

  return {
    get size() {
      return held.size;
    },

    hold(item, resolution) {
      return new Promise<void>((resolve, reject) => {
        const now = options.now();
        const entry: Entry<T> = { item, heldAt: now, deadline: now + options.waitMs, refs: resolution.unknownRefs, settle: { resolve, reject } };
        const immediate = closed ? 'shutdown' : options.waitMs <= 0 ? 'no_wait' : allGivenUp(entry.refs, now) ? 'gave_up' : undefined;
        if (immediate) {
          release([{ entry, resolution, cause: immediate }]);
          return;
        }
        if (held.size >= options.maxEvents) {
          const [oldestId, oldest] = held.entries().next().value!;
          release([take(oldest, oldestId, 'overflow')]);
        }
        held.set(nextId++, entry);
        schedule();
      });
    },

    retry() {
      if (retryScheduled || held.size === 0) return;
      retryScheduled = true;
      // Coalesce: a burst of identity batches re-tries once.
      setImmediate(() => {
        retryScheduled = false;
        const out = [];
        for (const [id, entry] of held) {
          const resolution = options.resolve(entry.item);
          if (awaitsIdentity(resolution)) continue;
          held.delete(id);
          out.push({ entry, resolution, cause: 'resolved' as const });
        }
        release(out);
        if (held.size === 0 && timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
        }
      });
    },

    async close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      release([...held].map(([id, entry]) => take(entry, id, 'shutdown')));
      await Promise.allSettled([...inFlight]);
    },
  };
}
