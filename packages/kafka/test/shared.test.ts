import { describe, expect, it } from 'vitest';
import { chunkBySize } from '../src/shared.ts';

const record = (i: number, bytes: number) => ({ topic: 't', key: `k${i}`, value: Buffer.alloc(bytes) });

describe('chunkBySize', () => {
  it('keeps order and splits so no request carries more than the limit', () => {
    const records = Array.from({ length: 10 }, (_, i) => record(i, 300));
    const chunks = chunkBySize(records, 1_000);
    expect(chunks.flat()).toEqual(records);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2, 2, 2]);
  });

  it('sends a record bigger than the limit alone rather than dropping it', () => {
    const chunks = chunkBySize([record(0, 10), record(1, 5_000), record(2, 10)], 1_000);
    expect(chunks.map((c) => c.map((r) => r.key))).toEqual([['k0'], ['k1'], ['k2']]);
  });

  it('gives nothing for nothing', () => {
    expect(chunkBySize([], 1_000)).toEqual([]);
  });
});
