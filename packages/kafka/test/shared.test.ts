import { describe, expect, it } from 'vitest';
import { chunkBySize, retryTransient } from '../src/shared.ts';

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

describe('retryTransient', () => {
  it('calls again while the client says the error is retriable, and gives the result', async () => {
    let calls = 0;
    const notLeader = Object.assign(new Error('This server is not the leader for that topic-partition'), { retriable: true });
    const grouped = Object.assign(new Error('Received response with error'), { errors: [Object.assign(new Error('NOT_LEADER_OR_FOLLOWER'), { canRetry: true })] });
    const result = await retryTransient(async () => {
      calls += 1;
      if (calls === 1) throw notLeader;
      if (calls === 2) throw grouped;
      return 'offsets';
    });
    expect(result).toBe('offsets');
    expect(calls).toBe(3);
  });

  it('throws any other error at once', async () => {
    let calls = 0;
    const refused = Object.assign(new Error('Topic authorization failed'), { retriable: false });
    await expect(retryTransient(async () => {
      calls += 1;
      throw refused;
    })).rejects.toBe(refused);
    expect(calls).toBe(1);
  });
});
