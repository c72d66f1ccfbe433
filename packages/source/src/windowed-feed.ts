// Event feeds (audit logs) are read in closed time windows [from, to) that end
// a lag behind now, each paged to its end. The cursor saved after every page
// says which window and page come next, so a restart resumes mid-window and
// a closed window in the past reads the same whatever order the API pages in.
import { tetherError } from '#errors';
import type { Logger } from '#log';
import { createPageGuard, DEFAULT_MAX_PAGES } from './page-guard.ts';
import type { PageSink, ProcessedItem } from './page-sink.ts';
import type { Page } from './paginate.ts';
import { throwIfAborted } from './retry.ts';

export interface TimeWindow {
  /** Inclusive, epoch ms. */
  from: number;
  /** Exclusive, epoch ms. */
  to: number;
}

export interface WindowedFeed<P> {
  /** '<platform>/<feed>'. */
  source: string;
  /** Longest window the API accepts (Cursor: 30 days). */
  maxWindowMs: number;
  fetchPage(window: TimeWindow, page: P | null, signal: AbortSignal): Promise<Page<P>>;
  /** Pure: one element (of `page`, for facts the page carries) to its records or its dead letter. */
  process(item: unknown, page: Page<P>): ProcessedItem;
}

export interface WindowCursor<P> {
  /** Where this run of the feed began (a backfill's --since). */
  since: number;
  /** Everything before it is delivered. */
  watermark: number;
  /** The window being paged, when a page is pending. */
  window: TimeWindow | null;
  page: P | null;
}

export interface WindowProgress {
  window: TimeWindow;
  /** This page's counts. */
  pageSent: number;
  pageDead: number;
  windowDone: boolean;
}

export interface WindowRunResult<P> {
  cursor: WindowCursor<P>;
  pages: number;
  sent: number;
  dead: number;
}

export function freshCursor<P>(since: number): WindowCursor<P> {
  return { since, watermark: since, window: null, page: null };
}

/** Reads a saved cursor; undefined when absent or not a cursor of this shape. */
export function parseWindowCursor<P>(text: string | undefined): WindowCursor<P> | undefined {
  if (text === undefined) return undefined;
  try {
    const c = JSON.parse(text) as WindowCursor<P>;
    const isWindow = (w: unknown) => w === null || (typeof w === 'object' && Number.isFinite((w as TimeWindow).from) && Number.isFinite((w as TimeWindow).to));
    if (Number.isFinite(c.since) && Number.isFinite(c.watermark) && isWindow(c.window) && 'page' in c) return c;
  } catch {
    // fall through: a cursor that does not parse is treated as missing
  }
  return undefined;
}

/** The windows still to read from `watermark` up to `until`, each at most `size` long. */
export function planWindows(watermark: number, until: number, size: number): TimeWindow[] {
  if (!(size > 0)) throw tetherError('TETHER_CONFIG_INVALID', `window size must be > 0 (got ${size})`);
  const out: TimeWindow[] = [];
  for (let from = watermark; from < until; from += size) out.push({ from, to: Math.min(until, from + size) });
  return out;
}

/**
 * Pages every window between the cursor and `until`, committing each page
 * with the cursor that follows it. Returns the cursor at `until`.
 */
export async function runWindows<P>(
  feed: WindowedFeed<P>,
  options: {
    checkpointId: string;
    cursor: WindowCursor<P>;
    until: number;
    windowMs: number;
    sink: PageSink;
    signal: AbortSignal;
    log: Logger;
    onProgress?: (progress: WindowProgress) => void;
    /** Pages one window may take before the feed is stopped as endless (see page-guard.ts). */
    maxPages?: number;
  },
): Promise<WindowRunResult<P>> {
  let cursor = options.cursor;
  const totals = { pages: 0, sent: 0, dead: 0 };
  const size = Math.min(options.windowMs, feed.maxWindowMs);
  for (;;) {
    throwIfAborted(options.signal);
    const window = cursor.window ?? planWindows(cursor.watermark, options.until, size)[0];
    if (!window) break;
    let page = cursor.window ? cursor.page : null;
    const counts = { pages: 0, sent: 0, dead: 0 };
    const guard = createPageGuard(feed.source, options.maxPages ?? DEFAULT_MAX_PAGES);
    // Two pages in flight at most: while page k is produced and checkpointed, page k+1 is fetched,
    // normalised and sent; its checkpoint waits for page k's (see PageCommit.after). A crash costs
    // at most a re-read of the pages not yet checkpointed.
    let prefetched: Promise<Page<P>> | null = null;
    let inflight: Promise<void> | null = null;
    for (;;) {
      throwIfAborted(options.signal);
      const fetched: Page<P> = await (prefetched ?? feed.fetchPage(window, page, options.signal));
      // Before the next request: a cursor that loops must cost no more requests than it takes to see it.
      guard.check(fetched);
      prefetched = fetched.next === null ? null : feed.fetchPage(window, fetched.next, options.signal);
      prefetched?.catch(() => undefined);
      const items = fetched.items.map((item) => feed.process(item, fetched));
      const next: WindowCursor<P> =
        fetched.next === null
          ? { since: cursor.since, watermark: window.to, window: null, page: null }
          : { since: cursor.since, watermark: cursor.watermark, window, page: fetched.next };
      const previous: Promise<void> | null = inflight;
      const windowDone = fetched.next === null;
      const current: Promise<void> = options.sink
        .commit({ source: feed.source, items, after: previous ?? undefined, checkpoint: { id: options.checkpointId, cursor: JSON.stringify(next) } })
        .then((result) => {
          counts.pages++;
          counts.sent += result.sent;
          counts.dead += result.dead;
          options.onProgress?.({ window, pageSent: result.sent, pageDead: result.dead, windowDone });
        });
      current.catch(() => undefined);
      inflight = current;
      cursor = next;
      if (previous) await previous;
      if (windowDone) break;
      page = fetched.next;
    }
    await inflight;
    totals.pages += counts.pages;
    totals.sent += counts.sent;
    totals.dead += counts.dead;
    options.log.debug({ source: feed.source, from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString(), ...counts }, 'window read');
  }
  return { cursor, ...totals };
}
