// The engine: stateful rules on event time, replays recognised by input
// offset, state that survives a round trip through its records, the bound.
import { describe, expect, it } from 'vitest';
import type { EnrichedAccessEvent } from '#schemas';
import { DetectEngine, findingId } from '../../src/engine/engine.ts';
import { StateStore } from '../../src/engine/state.ts';
import { fixtureEvent } from '../../src/rules/fixtures.ts';
import { loadRules, parseRule, type CompiledRule } from '../../src/rules/load.ts';

const pack = loadRules();
const rule = (id: string) => pack.rules.find((r) => r.id === id)!;
const burst = rule('tether.api-key-burst');
const network = rule('tether.key-first-use-new-network');

const SEQUENCE = parseRule('seq.yaml', `id: tether.test-sequence
version: 1
title: Key created then used from another network
severity: high
description: test
summary: "{person.person_id}: {count} steps"
sequence:
  group_by: [person.person_id]
  within: 1h
  steps:
    - name: created
      match: { field: event.action, eq: api_key.created }
    - name: used
      match: { field: event.action, eq: project.updated }
tests:
  - { name: p, expect: 1, events: [{ event: { action: api_key.created }, person: { person_id: a } }, { event: { action: project.updated }, person: { person_id: a } }] }
  - { name: n, expect: 0, events: [{ event: { action: project.updated }, person: { person_id: a } }] }
`);
const sequence = ('rule' in SEQUENCE ? SEQUENCE.rule : undefined)!;

const key = (id: string, minute: number, person = '00uLee'): EnrichedAccessEvent =>
  fixtureEvent({ event: { event_id: id, action: 'api_key.created', time: Date.UTC(2025, 2, 3, 10, minute) }, person: { person_id: person } }, 0, []);
const use = (id: string, minute: number, ip: string, nhi = 'openai:api_key:k1'): EnrichedAccessEvent =>
  fixtureEvent({ event: { event_id: id, action: 'project.updated', time: Date.UTC(2025, 2, 3, 10, minute), src: { ip } }, nhi_chain: [{ kind: 'api_key', id: nhi }], person: { person_id: 'a' } }, 0, []);
const engineOf = (rules: CompiledRule[], store = new StateStore({ maxEntries: 10_000 })) => new DetectEngine(rules, store, { firstSeenMaxValues: 3, now: () => 1 });
const at = (offset: number, partition = 0) => ({ topic: 'enriched', partition, offset: BigInt(offset) });

describe('threshold', () => {
  it('counts a sliding window on event time, whatever the arrival order', () => {
    const engine = engineOf([burst]);
    expect(engine.process(key('c', 50))).toEqual([]);
    expect(engine.process(key('a', 0))).toEqual([]);
    const [finding] = engine.process(key('b', 30));
    expect(finding).toMatchObject({ rule_id: 'tether.api-key-burst', kind: 'threshold', event_ids: ['a', 'b', 'c'], first_event_time: Date.UTC(2025, 2, 3, 10, 0), last_event_time: Date.UTC(2025, 2, 3, 10, 50) });
    expect(finding!.dedup_key).toBe('tether.api-key-burst|["00uLee"]');
  });

  it('drops an event older than its group window and does not count it', () => {
    const engine = engineOf([burst]);
    engine.process(key('new', 59));
    engine.process(key('newer', 59 + 61));
    expect(engine.process(key('old', 0))).toEqual([]);
    expect(engine.counts.late).toBe(1);
  });

  it('ignores an event replayed at an offset its group already applied', () => {
    const engine = engineOf([burst]);
    engine.process(key('a', 0), at(10));
    engine.process(key('b', 1), at(11));
    // Redelivered after a crash, with the same offsets but new ids would be counted; these are recognised.
    expect(engine.process(key('a-copy', 0), at(10))).toEqual([]);
    expect(engine.process(key('b-copy', 1), at(11))).toEqual([]);
    expect(engine.counts.replayed).toBe(2);
    expect(engine.process(key('c', 2), at(12))).toHaveLength(1);
  });

  it('continues a window from its written state in a new engine (a restart)', () => {
    const first = engineOf([burst]);
    first.process(key('a', 0), at(1));
    first.process(key('b', 5), at(2));
    const { upserts } = first.store.takeChanges();
    expect(upserts).toHaveLength(1);

    const restored = new StateStore({ maxEntries: 10_000 });
    for (const record of upserts) restored.apply(record.state_key, structuredClone(record));
    const second = engineOf([burst], restored);
    // The batch after the last commit is replayed, then a new event completes the window.
    expect(second.process(key('b', 5), at(2))).toEqual([]);
    const fired = second.process(key('c', 9), at(3));
    expect(fired.map((f) => f.event_ids)).toEqual([['a', 'b', 'c']]);
    // Same evidence, same id as an uninterrupted run.
    const straight = engineOf([burst]);
    straight.process(key('a', 0));
    straight.process(key('b', 5));
    expect(straight.process(key('c', 9))[0]!.finding_id).toBe(fired[0]!.finding_id);
  });

  it('skips events whose group cannot be built (no person)', () => {
    const engine = engineOf([burst]);
    engine.process(fixtureEvent({ event: { action: 'api_key.created' } }, 0, []));
    expect(engine.counts.ungrouped).toBe(1);
    expect(engine.store.groups).toBe(0);
  });
});

describe('first seen', () => {
  it('learns the first value silently and fires once per new value when history is required', () => {
    const engine = engineOf([network]);
    expect(engine.process(use('1', 0, '10.0.0.1'))).toEqual([]);
    expect(engine.process(use('2', 1, '10.0.0.2'))).toEqual([]);
    const [f] = engine.process(use('3', 2, '192.0.2.1'));
    expect(f).toMatchObject({ kind: 'first_seen', dedup_key: 'tether.key-first-use-new-network|["openai:api_key:k1"]|192.0.2.0/24', event_ids: ['3'] });
    expect(engine.process(use('4', 3, '192.0.2.7'))).toEqual([]);
  });

  it('keeps at most the configured values per group, forgetting the earliest seen', () => {
    const engine = engineOf([network]);
    for (const [i, ip] of ['10.0.1.1', '10.0.2.1', '10.0.3.1', '10.0.4.1'].entries()) engine.process(use(`e${i}`, i, ip));
    // 10.0.1.0/24 was forgotten (limit 3): seen again, it is new again.
    expect(engine.process(use('again', 9, '10.0.1.9'))).toHaveLength(1);
  });
});

describe('sequence', () => {
  it('fires when the steps happen in order by one person within the window', () => {
    const engine = engineOf([sequence]);
    expect(engine.process(use('u0', 0, '10.0.0.1'))).toEqual([]);
    engine.process(fixtureEvent({ event: { event_id: 'c1', action: 'api_key.created', time: Date.UTC(2025, 2, 3, 10, 5) }, person: { person_id: 'a' } }, 0, []));
    const [f] = engine.process(use('u1', 20, '10.0.0.1'));
    expect(f).toMatchObject({ kind: 'sequence', event_ids: ['c1', 'u1'], summary: 'a: 2 steps' });
    // The partial was consumed: another use does not fire again.
    expect(engine.process(use('u2', 25, '10.0.0.1'))).toEqual([]);
  });

  it('does not fire when the second step comes after the window', () => {
    const engine = engineOf([sequence]);
    engine.process(fixtureEvent({ event: { event_id: 'c1', action: 'api_key.created', time: Date.UTC(2025, 2, 3, 8, 0) }, person: { person_id: 'a' } }, 0, []));
    expect(engine.process(use('u1', 20, '10.0.0.1'))).toEqual([]);
  });
});

describe('state bound', () => {
  it('forgets the least recently used groups beyond the entry limit and tombstones them', () => {
    const store = new StateStore({ maxEntries: 4 });
    const engine = engineOf([burst], store);
    for (let p = 0; p < 6; p++) engine.process(key(`k${p}`, p, `person-${p}`));
    expect(store.entries).toBe(4);
    expect(store.evicted).toBe(2);
    const { deletes, upserts } = store.takeChanges();
    expect(deletes).toHaveLength(2);
    expect(upserts.map((u) => u.group_key)).toEqual(['["person-2"]', '["person-3"]', '["person-4"]', '["person-5"]']);
  });

  it('ignores its own older write read back from the state topic', () => {
    const store = new StateStore({ maxEntries: 100 });
    const engine = engineOf([burst], store);
    engine.process(key('a', 0), at(1));
    const [old] = store.takeChanges().upserts;
    engine.process(key('b', 1), at(2));
    store.apply(old!.state_key, old!);
    expect(store.peek(old!.state_key)!.entries.map((e) => e.event_ids[0])).toEqual(['a', 'b']);
  });
});

describe('finding ids', () => {
  it('depend on rule, version, dedup key and the set of events, not their order', () => {
    expect(findingId('r', 1, 'd', ['a', 'b'])).toBe(findingId('r', 1, 'd', ['b', 'a']));
    expect(findingId('r', 2, 'd', ['a', 'b'])).not.toBe(findingId('r', 1, 'd', ['a', 'b']));
    expect(findingId('r', 1, 'd', ['a'])).toMatch(/^[0-9a-f]{32}$/);
  });
});
