import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../src/backoff.ts';

describe('backoffDelay', () => {
  const policy = { initialMs: 200, maxMs: 15_000, multiplier: 2 };

  it('grows exponentially to the cap, with half of each delay random', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0))).toEqual([100, 200, 400, 800]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 1))).toEqual([200, 400, 800, 1_600]);
    expect(backoffDelay(policy, 30, () => 0)).toBe(7_500);
    expect(backoffDelay(policy, 30, () => 1)).toBe(15_000);
  });
});
