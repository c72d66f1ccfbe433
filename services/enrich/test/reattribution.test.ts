// The re-attribution window on its own: what it remembers, what it forgets,
// and what it emits again when identity state changes.
import { describe, expect, it } from 'vitest';
import { createReattributionWindow, type ReattributionJournal } from '../src/reattribution.ts';
import type { Resolution } from '../src/resolve/enrich.ts';

function resolution(method: string, personId?: string, unknownRefs: string[] = []): Resolution {
  return {
    person: personId ? ({ person_id: personId } as Resolution['person']) : undefined,
    device: null, chain: [], method, confidence: personId ? 0.9 : 0,
    deviceMethod: 'unresolved', deviceConfidence: 0, reasons: [], unknownRefs, deviceHint: false,
  };
}

/** A journal that records its notes, written only by flush(), as the topic would hold them. */
function memoryJournal() {
  const notes: string[] = [];
  const topic = new Map<string, { method: string; at: number }>();
  let pending: Array<[string, { method: string; at: number } | null]> = [];
  const journal: ReattributionJournal<string> = {
    kept: (key, _item, r, at) => { notes.push(`kept ${key} ${r.method}`); pending.push([key, { method: r.method, at }]); },
    forgotten: (key) => { notes.push(`forgotten ${key}`); pending.push([key, null]); },
    flush: async () => {
      for (const [key, value] of pending) value === null ? topic.delete(key) : topic.set(key, value);
      pending = [];
    },
  };
  return { journal, notes, topic };
}

function harness(options: { maxEvents?: number; maxAgeMs?: number; journal?: ReattributionJournal<string> } = {}) {
  let clock = 1_000;
  const current = new Map<string, Resolution>();
  const emitted: Array<{ item: string; method: string }> = [];
  let failNext = false;
  const window = createReattributionWindow<string>({
    maxEvents: options.maxEvents ?? 10,
    maxAgeMs: options.maxAgeMs ?? 60_000,
    now: () => clock,
    resolve: (item) => current.get(item) ?? resolution('unresolved', undefined, [`email:${item}`]),
    emit: async (items) => {
      if (failNext) {
        failNext = false;
        throw new Error('broker away');
      }
      emitted.push(...items.map(({ item, resolution: r }) => ({ item, method: r.method })));
    },
    sliceSize: 2,
    minIntervalMs: 1,
    journal: options.journal,
  });
  return {
    window, current, emitted,
    tick: (ms: number) => { clock += ms; },
    failOnce: () => { failNext = true; },
    async change() {
      window.identityChanged();
      await window.idle();
    },
  };
}

describe('re-attribution window', () => {
  it('remembers only what could improve, and emits again only a directory person', async () => {
    const h = harness();
    h.window.remember('a', 'a', resolution('unresolved', undefined, ['email:a']));
    h.window.remember('b', 'b', resolution('platform_account_only', 'openai:user-b'));
    h.window.remember('c', 'c', resolution('direct_email', 'p-c'));
    h.window.remember('d', 'd', resolution('unresolved')); // nothing to wait for: no reference at all
    expect(h.window.size).toBe(2);

    h.current.set('a', resolution('platform_account_only', 'openai:user-a'));
    await h.change();
    expect(h.emitted).toEqual([]);

    h.current.set('a', resolution('direct_email', 'p-a'));
    h.current.set('b', resolution('platform_user_alias', 'p-b'));
    await h.change();
    expect(h.emitted).toEqual([{ item: 'a', method: 'direct_email' }, { item: 'b', method: 'platform_user_alias' }]);

    // Nothing changed: nothing is emitted again.
    await h.change();
    expect(h.emitted).toHaveLength(2);

    // The rest of the identity data arrives and names someone else for 'a' (the address's next holder): emitted again.
    h.current.set('a', resolution('direct_email', 'p-a2'));
    await h.change();
    expect(h.emitted).toEqual([{ item: 'a', method: 'direct_email' }, { item: 'b', method: 'platform_user_alias' }, { item: 'a', method: 'direct_email' }]);
    expect(h.window.size).toBe(2);
  });

  it('remembers a named person whose device is not known yet, and emits again once device data names it', async () => {
    const h = harness();
    const noDevice = { ...resolution('direct_email', 'p-e'), deviceHint: true };
    h.window.remember('e', 'e', noDevice);
    h.window.remember('f', 'f', { ...resolution('direct_email', 'p-f'), deviceHint: false });
    expect(h.window.size).toBe(1);
    h.current.set('e', noDevice);
    await h.change();
    expect(h.emitted).toEqual([]);
    h.current.set('e', { ...noDevice, device: { device_id: 'serial:X' } as Resolution['device'] });
    await h.change();
    expect(h.emitted).toEqual([{ item: 'e', method: 'direct_email' }]);
  });

  it('forgets the oldest beyond its size and anything older than its age', async () => {
    const h = harness({ maxEvents: 3, maxAgeMs: 10_000 });
    for (const id of ['a', 'b', 'c', 'd']) {
      h.window.remember(id, id, resolution('unresolved', undefined, [`email:${id}`]));
      h.tick(4_000);
    }
    expect(h.window.size).toBe(3);
    for (const id of ['a', 'b', 'c', 'd']) h.current.set(id, resolution('direct_email', `p-${id}`));
    // Now 'b' was remembered 12 s ago, 'c' 8 s ago, 'd' 4 s ago: 'a' was pushed out, 'b' aged out.
    await h.change();
    expect(h.emitted.map((e) => e.item)).toEqual(['c', 'd']);
  });

  it('emits again at once an event whose identity data arrived while it was being emitted', async () => {
    const h = harness();
    // The change came before the event was remembered, so no later change will announce it.
    h.current.set('a', resolution('direct_email', 'p-a'));
    h.window.remember('a', 'a', resolution('unresolved', undefined, ['email:a']));
    await h.window.idle();
    expect(h.emitted).toEqual([{ item: 'a', method: 'direct_email' }]);
  });

  it('keeps events whose emit failed for the next change', async () => {
    const h = harness();
    h.window.remember('a', 'a', resolution('unresolved', undefined, ['email:a']));
    h.current.set('a', resolution('direct_email', 'p-a'));
    h.failOnce();
    await h.change();
    expect(h.emitted).toEqual([]);
    expect(h.window.size).toBe(1);
    await h.change();
    expect(h.emitted).toEqual([{ item: 'a', method: 'direct_email' }]);
  });

  it('sweeps again after a change that came during a sweep, and is disabled by a size of 0', async () => {
    const h = harness();
    for (const id of ['a', 'b', 'c', 'd', 'e']) h.window.remember(id, id, resolution('unresolved', undefined, [`email:${id}`]));
    h.window.identityChanged();
    // The first sweep has passed 'a' when it yields; then 'a' becomes known and another change arrives.
    h.current.set('a', resolution('direct_email', 'p-a'));
    h.window.identityChanged();
    await h.window.idle();
    expect(h.emitted).toEqual([{ item: 'a', method: 'direct_email' }]);

    const off = harness({ maxEvents: 0 });
    off.window.remember('a', 'a', resolution('unresolved', undefined, ['email:a']));
    expect(off.window.size).toBe(0);
  });

  it('journals what it remembers, re-emits and forgets, and a new window restored from the journal re-attributes', async () => {
    const { journal, notes, topic } = memoryJournal();
    const h = harness({ maxEvents: 2, maxAgeMs: 60_000, journal });
    h.window.remember('a', 'a', resolution('unresolved', undefined, ['email:a']));
    h.window.remember('b', 'b', resolution('platform_account_only', 'openai:user-b'));
    h.window.remember('c', 'c', resolution('direct_email', 'p-c')); // final: never journalled
    await h.window.flush();
    expect([...topic.keys()]).toEqual(['a', 'b']);
    h.current.set('b', resolution('platform_user_alias', 'p-b'));
    await h.change();
    expect(topic.get('b')?.method).toBe('platform_user_alias');
    h.window.remember('d', 'd', resolution('unresolved', undefined, ['email:d'])); // pushes 'a' out
    await h.window.flush();
    expect(notes).toEqual(['kept a unresolved', 'kept b platform_account_only', 'kept b platform_user_alias', 'kept d unresolved', 'forgotten a']);
    expect([...topic.keys()].sort()).toEqual(['b', 'd']);

    // A restart: a new window from what the journal holds. Identity data arrived meanwhile names 'd' and 'b' again, the same.
    const next = harness({ journal: memoryJournal().journal });
    for (const [key, v] of topic) next.window.restore(key, key, { method: v.method, personId: key === 'b' ? 'p-b' : undefined, deviceId: null }, v.at);
    expect(next.window.size).toBe(2);
    next.current.set('b', resolution('platform_user_alias', 'p-b'));
    next.current.set('d', resolution('direct_email', 'p-d'));
    await next.change();
    // 'b' was already emitted with p-b: not again. 'd' was emitted unresolved: now attributed.
    expect(next.emitted).toEqual([{ item: 'd', method: 'direct_email' }]);
  });

  it('tombstones restored entries that are past their age', async () => {
    const { journal, notes } = memoryJournal();
    const h = harness({ maxAgeMs: 10_000, journal });
    h.tick(20_000);
    h.window.restore('old', 'old', { method: 'unresolved', personId: undefined, deviceId: null }, 1_000);
    h.window.restore('young', 'young', { method: 'unresolved', personId: undefined, deviceId: null }, 15_000);
    expect(h.window.size).toBe(1);
    expect(notes).toEqual(['forgotten old']);
  });
});
