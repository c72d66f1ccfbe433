import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessEvent } from '#schemas';
import { createLateBuffer, type Released } from '../src/late-buffer.ts';
import { resolveEvent } from '../src/resolve/enrich.ts';
import { IdentityStore } from '../src/store/identity-store.ts';
import { openaiSessionEvent } from './fixtures/events.ts';
import { at, directoryPerson, keyOf, platformAccount } from './fixtures/identities.ts';

const T = at('2025-05-01T10:00:00Z');
const login = (id: string, userId: string) => openaiSessionEvent({ id, time: T, type: 'login.succeeded', userId, email: `${userId}@example.com` });

function harness(options: { waitMs?: number; maxEvents?: number; giveUpMs?: number; failEmit?: boolean } = {}) {
  const store = new IdentityStore();
  const emitted: Released<AccessEvent>[] = [];
  const buffer = createLateBuffer<AccessEvent>({
    waitMs: options.waitMs ?? 30_000,
    maxEvents: options.maxEvents ?? 100,
    giveUpMs: options.giveUpMs ?? 0,
    now: () => Date.now(),
    resolve: (event) => resolveEvent(event, store),
    emit: async (released) => {
      if (options.failEmit) throw new Error('broker down');
      emitted.push(...released);
    },
  });
  const hold = (event: AccessEvent) => {
    const settled = { done: false };
    const promise = buffer.hold(event, resolveEvent(event, store)).then(() => { settled.done = true; });
    return { promise, settled };
  };
  return { store, emitted, buffer, hold };
}

describe('late identity buffer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: at('2025-05-01T10:01:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('emits a held event as soon as the identity it waited for arrives, and only then settles', async () => {
    const { store, emitted, buffer, hold } = harness();
    const held = hold(login('e1', 'user-late'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(held.settled.done).toBe(false);
    expect(buffer.size).toBe(1);

    const account = platformAccount('openai', 'user-late', at('2025-04-01T00:00:00Z'), { email: 'user-late@example.com' });
    const person = directoryPerson('00uLate', at('2025-04-01T00:00:00Z'), { email: 'user-late@example.com' });
    store.apply('identityUsers', keyOf(account), account);
    store.apply('identityUsers', keyOf(person), person);
    buffer.retry();
    await vi.advanceTimersByTimeAsync(0);
    await held.promise;
    expect(emitted).toHaveLength(1);
    expect(emitted[0]).toMatchObject({ cause: 'resolved', reasons: [], waitedMs: 1_000 });
    expect(emitted[0]!.resolution.person?.person_id).toBe('00uLate');
    expect(buffer.size).toBe(0);
  });

  it('emits with a reason when the wait ends, and then stops waiting for the same unknowns', async () => {
    const { emitted, hold } = harness({ waitMs: 5_000, giveUpMs: 60_000 });
    const first = hold(login('e1', 'user-ghost'));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(first.settled.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await first.promise;
    expect(emitted[0]).toMatchObject({ cause: 'timeout', reasons: ['identity_wait_timeout'], waitedMs: 5_000 });

    const second = hold(login('e2', 'user-ghost'));
    await vi.advanceTimersByTimeAsync(0);
    await second.promise;
    expect(emitted[1]).toMatchObject({ cause: 'gave_up', reasons: ['identity_unknown_gave_up_earlier'], waitedMs: 0 });

    // A different unknown still waits.
    const third = hold(login('e3', 'user-other'));
    await vi.advanceTimersByTimeAsync(10);
    expect(third.settled.done).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    await third.promise;
  });

  it('emits the oldest held event when full', async () => {
    const { emitted, buffer, hold } = harness({ maxEvents: 2 });
    const a = hold(login('a', 'user-a'));
    await vi.advanceTimersByTimeAsync(10);
    hold(login('b', 'user-b'));
    hold(login('c', 'user-c'));
    await a.promise;
    expect(emitted.map((r) => [r.item.source.source_event_id, r.cause, r.reasons])).toEqual([['a', 'overflow', ['late_buffer_full']]]);
    expect(buffer.size).toBe(2);
    await buffer.close();
  });

  it('emits everything on close and holds nothing afterwards', async () => {
    const { emitted, buffer, hold } = harness();
    const a = hold(login('a', 'user-a'));
    const b = hold(login('b', 'user-b'));
    await buffer.close();
    await Promise.all([a.promise, b.promise]);
    const c = hold(login('c', 'user-c'));
    await c.promise;
    expect(emitted.map((r) => r.cause)).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(emitted[0]!.reasons).toEqual(['late_wait_cut_short_by_shutdown']);
  });

  it('fails the hold when the emit fails, so the batch is not committed', async () => {
    const { buffer, hold } = harness({ failEmit: true });
    const a = hold(login('a', 'user-a'));
    await buffer.close();
    await expect(a.promise).rejects.toThrow('broker down');
  });
});
