import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import { createMemoryCheckpointStore } from '../src/checkpoint-store.ts';
import type { PageCommit, PageSink } from '../src/page-sink.ts';
import { freshCursor, parseWindowCursor, planWindows, runWindows, type TimeWindow, type WindowCursor, type WindowedFeed } from '../src/windowed-feed.ts';

const log = createLogger({ service: 'test', level: 'silent' });
const HOUR = 3_600_000;

/** A source holding records at given times, paged `size` at a time by an offset cursor. */
function source(times: number[], size: number) {
  const asked: { window: TimeWindow; page: number | null }[] = [];
  const feed: WindowedFeed<number> = {
    source: 'x/feed',
    maxWindowMs: 2 * HOUR,
    async fetchPage(window, page) {
      asked.push({ window, page });
      const inside = times.filter((t) => t >= window.from && t < window.to);
      const start = page ?? 0;
      return { items: inside.slice(start, start + size), next: start + size < inside.length ? start + size : null };
    },
    process: (item) => ({ raw: Buffer.from(String(item)), result: { ok: true, records: [] } }),
  };
  return { feed, asked };
}

/** Records committed items and checkpoints; can be told to fail at a given commit. */
function memorySink(failAt?: number) {
  const checkpoints = createMemoryCheckpointStore();
  const commits: PageCommit[] = [];
  const sink: PageSink = {
    async commit(page) {
      if (failAt !== undefined && commits.length === failAt) throw new Error('killed');
      commits.push(page);
      if (page.checkpoint) await checkpoints.save(page.checkpoint.id, page.checkpoint.cursor, page.items.length);
      return { sent: page.items.length, dead: 0, checkpoint: undefined };
    },
  };
  return { sink, commits, checkpoints };
}

const items = (commits: PageCommit[]) => commits.flatMap((c) => c.items.map((i) => Number(i.raw.toString())));

describe('planWindows', () => {
  it('covers [watermark, until) with windows of at most the size, no gap, no overlap', () => {
    expect(planWindows(0, 250, 100)).toEqual([{ from: 0, to: 100 }, { from: 100, to: 200 }, { from: 200, to: 250 }]);
    expect(planWindows(300, 250, 100)).toEqual([]);
  });
});

describe('runWindows', () => {
  const times = [10, 20, 30, HOUR + 5, HOUR + 6, 3 * HOUR - 1, 3 * HOUR];

  it('reads every record once, window by window, page by page, and ends at until', async () => {
    const { feed } = source(times, 2);
    const { sink, commits, checkpoints } = memorySink();
    const result = await runWindows(feed, { checkpointId: 'x/feed/poll', cursor: freshCursor(0), until: 3 * HOUR, windowMs: HOUR, sink, signal: new AbortController().signal, log });
    expect(items(commits)).toEqual([10, 20, 30, HOUR + 5, HOUR + 6, 3 * HOUR - 1]);
    expect(result.cursor).toEqual({ since: 0, watermark: 3 * HOUR, window: null, page: null });
    expect(parseWindowCursor(checkpoints.get('x/feed/poll')!.cursor)).toEqual(result.cursor);
  });

  it('after a kill, resumes from the saved cursor: nothing lost, nothing read twice', async () => {
    const first = source(times, 2);
    const killed = memorySink(1);
    await expect(
      runWindows(first.feed, { checkpointId: 'c', cursor: freshCursor(0), until: 3 * HOUR, windowMs: HOUR, sink: killed.sink, signal: new AbortController().signal, log }),
    ).rejects.toThrow('killed');
    const saved = parseWindowCursor<number>(killed.checkpoints.get('c')!.cursor)!;
    expect(saved.window).toEqual({ from: 0, to: HOUR });
    expect(saved.page).toBe(2);

    const second = source(times, 2);
    const resumed = memorySink();
    await runWindows(second.feed, { checkpointId: 'c', cursor: saved as WindowCursor<number>, until: 3 * HOUR, windowMs: HOUR, sink: resumed.sink, signal: new AbortController().signal, log });
    expect([...items(killed.commits), ...items(resumed.commits)]).toEqual([10, 20, 30, HOUR + 5, HOUR + 6, 3 * HOUR - 1]);
    expect(second.asked[0]).toEqual({ window: { from: 0, to: HOUR }, page: 2 });
  });

  it('with pages in flight together, checkpoints are still saved in page order', async () => {
    const { feed } = source(times, 1);
    const checkpoints = createMemoryCheckpointStore();
    let n = 0;
    const sink: PageSink = {
      async commit(page) {
        // Odd pages are slow to be acknowledged: a naive pipeline would save page 2's cursor first.
        await new Promise((r) => setTimeout(r, n++ % 2 === 0 ? 15 : 1));
        await page.after;
        await checkpoints.save(page.checkpoint!.id, page.checkpoint!.cursor, page.items.length);
        return { sent: page.items.length, dead: 0, checkpoint: undefined };
      },
    };
    await runWindows(feed, { checkpointId: 'c', cursor: freshCursor(0), until: 3 * HOUR, windowMs: HOUR, sink, signal: new AbortController().signal, log });
    const saved = checkpoints.saved.map((c) => parseWindowCursor<number>(c.cursor)!);
    // Position of a cursor: the end of a window comes before the first page of the next one.
    const order = saved.map((c) => (c.window ? [c.window.from, c.page!] : [c.watermark, 0]));
    const sorted = [...order].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    expect(order).toEqual(sorted);
    expect(checkpoints.get('c')!.records_total).toBe(6);
  });

  it('never asks for a window longer than the source allows', async () => {
    const { feed, asked } = source(times, 10);
    const { sink } = memorySink();
    await runWindows(feed, { checkpointId: 'c', cursor: freshCursor(0), until: 5 * HOUR, windowMs: 24 * HOUR, sink, signal: new AbortController().signal, log });
    expect(asked.every((a) => a.window.to - a.window.from <= 2 * HOUR)).toBe(true);
  });

  it('stops between pages when aborted', async () => {
    const { feed } = source(times, 1);
    const { sink, commits } = memorySink();
    const controller = new AbortController();
    const origCommit = sink.commit;
    sink.commit = async (page) => {
      const r = await origCommit(page);
      if (commits.length === 2) controller.abort();
      return r;
    };
    await expect(runWindows(feed, { checkpointId: 'c', cursor: freshCursor(0), until: 3 * HOUR, windowMs: HOUR, sink, signal: controller.signal, log })).rejects.toMatchObject({ code: 'TETHER_ABORTED' });
    expect(commits).toHaveLength(2);
  });
});

describe('parseWindowCursor', () => {
  it('accepts its own output and refuses anything else', () => {
    const cursor = { since: 1, watermark: 2, window: { from: 2, to: 3 }, page: 'abc' };
    expect(parseWindowCursor(JSON.stringify(cursor))).toEqual(cursor);
    expect(parseWindowCursor('{"since":1}')).toBeUndefined();
    expect(parseWindowCursor('not json')).toBeUndefined();
    expect(parseWindowCursor(undefined)).toBeUndefined();
  });
});
