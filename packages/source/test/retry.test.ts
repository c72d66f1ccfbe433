import { describe, expect, it } from 'vitest';
import { TetherError, tetherError } from '#errors';
import { backoffDelay, compileRetryPolicy, retry, sleep } from '../src/retry.ts';

const policy = compileRetryPolicy({ maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, maxRetryAfterMs: 5_000 });

function recorder() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

describe('backoffDelay', () => {
  it('grows exponentially, stays between half and all of the step, and caps', () => {
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0)).toBe(200);
    expect(backoffDelay(policy, 3, () => 1)).toBe(400);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1_000);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(policy, 2, Math.random);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(200);
    }
  });
});

describe('compileRetryPolicy', () => {
  it('refuses a policy that cannot work, naming the field', () => {
    expect(() => compileRetryPolicy({ maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => compileRetryPolicy({ initialDelayMs: 500, maxDelayMs: 100 })).toThrow(/maxDelayMs/);
  });
});

describe('retry', () => {
  it('retries retriable errors and returns the first success', async () => {
    const { waits, sleep } = recorder();
    let calls = 0;
    const value = await retry(
      async () => {
        calls++;
        if (calls < 3) throw tetherError('TETHER_SOURCE_HTTP', 'HTTP 500', { retriable: true });
        return 'ok';
      },
      policy,
      { sleep, random: () => 1 },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(waits).toEqual([100, 200]);
  });

  it('waits exactly what Retry-After asked (capped), not the backoff', async () => {
    const { waits, sleep } = recorder();
    let calls = 0;
    await retry(
      async () => {
        calls++;
        if (calls === 1) throw tetherError('TETHER_SOURCE_RATE_LIMITED', '429', { retriable: true, context: { retryAfterMs: 3_000 } });
        if (calls === 2) throw tetherError('TETHER_SOURCE_RATE_LIMITED', '429', { retriable: true, context: { retryAfterMs: 60_000 } });
        return 'ok';
      },
      policy,
      { sleep },
    );
    expect(waits).toEqual([3_000, 5_000]);
  });

  it('does not retry a non-retriable error or a programmer error', async () => {
    const { waits, sleep } = recorder();
    const auth = tetherError('TETHER_SOURCE_HTTP', 'HTTP 401', { retriable: false });
    await expect(retry(async () => Promise.reject(auth), policy, { sleep })).rejects.toBe(auth);
    await expect(retry(async () => Promise.reject(new TypeError('x is undefined')), policy, { sleep })).rejects.toBeInstanceOf(TypeError);
    expect(waits).toEqual([]);
  });

  it('gives up after maxAttempts and says how many it made', async () => {
    const { sleep } = recorder();
    const err = await retry(async () => Promise.reject(tetherError('TETHER_SOURCE_HTTP', 'HTTP 503', { retriable: true })), policy, { sleep }).catch((e: unknown) => e);
    expect(TetherError.is(err)).toBe(true);
    expect((err as TetherError).code).toBe('TETHER_SOURCE_HTTP');
    expect((err as TetherError).message).toMatch(/after 4 attempts/);
    expect((err as TetherError).context.attempts).toBe(4);
  });

  it('stops waiting as soon as the signal fires', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'TETHER_ABORTED' });
  });
});
