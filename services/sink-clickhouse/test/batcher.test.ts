import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBatcher } from '../src/batcher.ts';

describe('batcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup(options: Partial<{ batchRows: number; maxWaitMs: number; idleMs: number; minIdleRows: number }> = {}) {
    const flushed: number[][] = [];
    let release: (() => void) | undefined;
    let holdFlushes = false;
    const batcher = createBatcher<number>({
      batchRows: 10, maxWaitMs: 1_000, idleMs: 25, minIdleRows: 5, ...options,
      now: () => Date.now(),
      flush: async (entries) => {
        flushed.push(entries);
        if (holdFlushes) await new Promise<void>((resolve) => (release = resolve));
      },
    });
    return { batcher, flushed, hold: () => (holdFlushes = true), release: () => release?.() };
  }

  it('flushes at once when the row limit is reached, and resolves the adds then', async () => {
    const { batcher, flushed } = setup();
    const a = batcher.add([1, 2, 3, 4, 5, 6]);
    const b = batcher.add([7, 8, 9, 10]);
    await Promise.all([a, b]);
    expect(flushed).toEqual([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
  });

  it('holds a small buffer until the max wait (deliveries cannot grow it, Kafka accumulates meanwhile)', async () => {
    const { batcher, flushed } = setup();
    let done = false;
    void batcher.add([1, 2]).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(flushed).toEqual([]);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(flushed).toEqual([[1, 2]]);
    expect(done).toBe(true);
  });

  it('writes a buffer worth an insert as soon as deliveries pause', async () => {
    const { batcher, flushed } = setup();
    void batcher.add([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(10);
    void batcher.add([4, 5, 6]);
    await vi.advanceTimersByTimeAsync(24);
    expect(flushed).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(flushed).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('runs one flush at a time and sends what arrived meanwhile right after', async () => {
    const { batcher, flushed, hold, release } = setup();
    hold();
    const first = batcher.add(Array.from({ length: 10 }, (_, i) => i));
    await vi.advanceTimersByTimeAsync(0);
    const second = batcher.add(Array.from({ length: 10 }, (_, i) => 100 + i));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(flushed).toHaveLength(1);
    expect(batcher.size()).toBe(10);
    release();
    await first;
    await vi.advanceTimersByTimeAsync(0);
    expect(flushed).toHaveLength(2);
    release();
    await second;
  });

  it('rejects the adds of a batch whose flush failed', async () => {
    const batcher = createBatcher<number>({
      batchRows: 2, maxWaitMs: 100, idleMs: 10, minIdleRows: 1,
      flush: async () => { throw new Error('stopped'); },
    });
    await expect(batcher.add([1, 2])).rejects.toThrow('stopped');
  });

  it('flushes everything at once while draining', async () => {
    const { batcher, flushed } = setup();
    const pending = batcher.add([1]);
    batcher.drain();
    await pending;
    expect(flushed).toEqual([[1]]);
    await batcher.add([2]);
    expect(flushed).toEqual([[1], [2]]);
  });
});
