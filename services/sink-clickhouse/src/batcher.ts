// Collects rows for one table and hands them to `flush` in batches, by rows,
// bytes and time. `add` resolves once the batch holding those rows was flushed
// (written, or set aside to the DLQ), which is when the consumer may commit
// their offsets.
//
// Because the consumer waits on `add` before fetching more from a partition,
// a buffer cannot grow while its rows wait: holding rows longer only helps
// when Kafka accumulates the next fetch meanwhile (a trickle). So besides the
// row and age limits, a buffer that is already worth an insert (minIdleRows)
// is written as soon as deliveries pause for idleMs (a backlog), instead of
// waiting out maxWaitMs with every partition blocked.

export interface BatcherOptions<E> {
  batchRows: number;
  /** Flush at once when the buffered entries weigh this much (bytes of an insert). */
  batchBytes?: number;
  /** An entry's weight against batchBytes. */
  weigh?: (entry: E) => number;
  maxWaitMs: number;
  /** Quiet time after the last add that counts as "nothing more is coming". */
  idleMs: number;
  /** Fewest rows flushed early on idle; smaller buffers wait for maxWaitMs. */
  minIdleRows: number;
  /** Writes the entries; resolves when they are safe to commit. One call at a time. */
  flush(entries: E[]): Promise<void>;
  now?: () => number;
}

export interface Batcher<E> {
  add(entries: readonly E[]): Promise<void>;
  /** From now on, flush whatever is buffered at once (graceful stop). */
  drain(): void;
  /** Rows buffered and not yet being flushed. */
  size(): number;
  /** True while a flush is running. */
  flushing(): boolean;
}

interface Pending<E> {
  entries: E[];
  bytes: number;
  waiters: { resolve: () => void; reject: (err: unknown) => void }[];
  firstAt: number;
  lastAt: number;
}

export function createBatcher<E>(options: BatcherOptions<E>): Batcher<E> {
  const now = options.now ?? Date.now;
  let pending: Pending<E> | undefined;
  let inFlight = false;
  let draining = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function clearTimer() {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  }

  /** Flushes now if a limit is reached, else arms one timer for the next moment one could be. */
  function evaluate() {
    clearTimer();
    if (!pending || inFlight) return;
    const t = now();
    const dueAt = pending.firstAt + options.maxWaitMs;
    const idleAt = pending.entries.length >= options.minIdleRows ? pending.lastAt + options.idleMs : Infinity;
    const full = pending.entries.length >= options.batchRows || pending.bytes >= (options.batchBytes ?? Infinity);
    if (draining || full || t >= dueAt || t >= idleAt) {
      start();
      return;
    }
    timer = setTimeout(evaluate, Math.max(0, Math.min(dueAt, idleAt) - t));
  }

  function start() {
    const batch = pending!;
    pending = undefined;
    inFlight = true;
    options.flush(batch.entries).then(
      () => batch.waiters.forEach((w) => w.resolve()),
      (err: unknown) => batch.waiters.forEach((w) => w.reject(err)),
    ).finally(() => {
      inFlight = false;
      evaluate();
    });
  }

  return {
    add(entries) {
      if (entries.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = now();
        pending ??= { entries: [], bytes: 0, waiters: [], firstAt: t, lastAt: t };
        const weigh = options.weigh;
        for (const entry of entries) {
          pending.entries.push(entry);
          if (weigh) pending.bytes += weigh(entry);
        }
        pending.lastAt = t;
        pending.waiters.push({ resolve, reject });
        evaluate();
      });
    },
    drain() {
      draining = true;
      evaluate();
    },
    size: () => pending?.entries.length ?? 0,
    flushing: () => inFlight,
  };
}
