import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import { createMemoryCheckpointStore } from '../src/checkpoint-store.ts';
import {
  diffEntity, fingerprint, parseInventoryCursor, runInventorySnapshot, type EntityChange, type InventoryCursor, type InventoryEntity, type InventoryFeed,
} from '../src/inventory.ts';
import type { PageCommit, PageSink } from '../src/page-sink.ts';

const log = createLogger({ service: 'test', level: 'silent' });

interface Key {
  id: string;
  status: string;
  created: number | null;
  lastUsed?: number;
}

const entity = (k: Key): InventoryEntity<Key> => ({ id: k.id, content: k, tracked: { status: k.status }, createdAt: k.created });

function keyFeed(pages: Key[][], announced: Record<string, number> = {}) {
  const changes: EntityChange<Key>[] = [];
  const feed: InventoryFeed<Key> = {
    source: 'x/keys',
    async *pages() {
      for (const page of pages) yield page;
    },
    process: (item) => ((item as Key).id === 'bad' ? { ok: false, stage: 'normalising', error: new Error('bad') } : { ok: true, entities: [entity(item as Key)] }),
    emit: (change) => {
      changes.push(change);
      return [];
    },
    announcedAt: (id, after) => (announced[id] !== undefined && announced[id]! > after ? announced[id] : undefined),
    rawOf: (item) => Buffer.from(JSON.stringify(item)),
  };
  return { feed, changes };
}

function memorySink(failAtCommit?: number) {
  const checkpoints = createMemoryCheckpointStore();
  const commits: PageCommit[] = [];
  const sink: PageSink = {
    async commit(page) {
      if (failAtCommit !== undefined && commits.length === failAtCommit) throw new Error('killed');
      commits.push(page);
      if (page.checkpoint) await checkpoints.save(page.checkpoint.id, page.checkpoint.cursor, 0);
      return { sent: 0, dead: page.items.filter((i) => !i.result.ok).length, checkpoint: undefined };
    },
  };
  return { sink, commits, checkpoints };
}

async function snapshot(feed: InventoryFeed<Key>, cursor: InventoryCursor<Key> | undefined, at: number, sink = memorySink()) {
  const result = await runInventorySnapshot(feed, { checkpointId: 'x/keys/snapshot', cursor, now: () => at, sink: sink.sink, signal: new AbortController().signal, log });
  return { ...result, ...sink };
}

describe('fingerprint', () => {
  it('ignores key order, sees value changes', () => {
    expect(fingerprint({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(fingerprint({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });
});

describe('diffEntity', () => {
  const prev = { fp: fingerprint({ status: 'active' }), validFrom: 1_000, content: { id: 'k', status: 'active', created: 1_000 } };
  it('first sight holds from creation; an unchanged entity yields nothing; untracked fields do not count', () => {
    expect(diffEntity(entity({ id: 'k', status: 'active', created: 1_000 }), undefined, 5_000, true)!.change).toMatchObject({ kind: 'new', validFrom: 1_000 });
    expect(diffEntity(entity({ id: 'k', status: 'active', created: 1_000, lastUsed: 4_000 }), prev, 5_000, false)).toBeUndefined();
  });
  it('a change holds from the announcing audit event, else from the observation, and always after the last version', () => {
    const disabled = entity({ id: 'k', status: 'inactive', created: 1_000 });
    expect(diffEntity(disabled, prev, 5_000, false, () => 4_200)!.change.validFrom).toBe(4_200);
    expect(diffEntity(disabled, prev, 5_000, false, () => undefined)!.change.validFrom).toBe(5_000);
    expect(diffEntity(disabled, { ...prev, validFrom: 5_000 }, 5_000, false)!.change.validFrom).toBe(5_001);
    expect(diffEntity(entity({ id: 'k', status: 'active', created: 9_000 }), undefined, 5_000, true)!.change.validFrom).toBe(5_000);
  });
});

describe('runInventorySnapshot', () => {
  it('baseline emits every entity, a later snapshot only changes and disappearances', async () => {
    const t1 = 10_000;
    const first = keyFeed([[{ id: 'a', status: 'active', created: 1_000 }, { id: 'b', status: 'active', created: 2_000 }], [{ id: 'c', status: 'active', created: null }]]);
    const one = await snapshot(first.feed, undefined, t1);
    expect(first.changes.map((c) => [c.kind, c.id, c.validFrom, c.baseline])).toEqual([['new', 'a', 1_000, true], ['new', 'b', 2_000, true], ['new', 'c', t1, true]]);
    expect(one.cursor.observedAt).toBeNull();

    const t2 = 20_000;
    const second = keyFeed([[{ id: 'a', status: 'active', created: 1_000, lastUsed: 15_000 }, { id: 'b', status: 'inactive', created: 2_000 }]], { b: 18_000 });
    const two = await snapshot(second.feed, one.cursor, t2);
    expect(second.changes.map((c) => [c.kind, c.id, c.validFrom, c.previous?.status ?? null])).toEqual([['changed', 'b', 18_000, 'active'], ['gone', 'c', t2, 'active']]);

    const third = keyFeed([[{ id: 'a', status: 'active', created: 1_000 }, { id: 'b', status: 'inactive', created: 2_000 }]]);
    const again = await snapshot(third.feed, two.cursor, 30_000);
    expect(third.changes).toEqual([]);
    expect(again.cursor.entities.c!.gone).toBe(true);
  });

  it('a restart in the middle re-observes at the pinned time, so re-emitted versions have the same keys, and emits nothing twice', async () => {
    const t1 = 10_000;
    const base = await snapshot(keyFeed([[{ id: 'a', status: 'active', created: 1_000 }, { id: 'b', status: 'active', created: 1_000 }]]).feed, undefined, t1);
    const pages = [[{ id: 'a', status: 'inactive', created: 1_000 }], [{ id: 'b', status: 'archived', created: 1_000 }]];
    // Commits: 0 = pin observation time, 1 = page 1, 2 = page 2 (killed before it lands).
    const killedSink = memorySink(2);
    const killed = keyFeed(pages);
    await expect(snapshot(killed.feed, base.cursor, 20_000, killedSink)).rejects.toThrow('killed');
    const saved = parseInventoryCursor<Key>(killedSink.checkpoints.get('x/keys/snapshot')!.cursor)!;
    expect(saved.observedAt).toBe(20_000);

    const resumed = keyFeed(pages);
    await snapshot(resumed.feed, saved, 99_000);
    expect(killed.changes.map((c) => [c.id, c.validFrom])).toEqual([['a', 20_000], ['b', 20_000]]);
    expect(resumed.changes.map((c) => [c.id, c.validFrom])).toEqual([['b', 20_000]]);
  });

  it('a listed element that does not map is dead-lettered, the others are still taken', async () => {
    const feed = keyFeed([[{ id: 'bad', status: 'x', created: null }, { id: 'a', status: 'active', created: 1 }]]);
    const result = await snapshot(feed.feed, undefined, 5);
    expect(result.dead).toBe(1);
    expect(feed.changes.map((c) => c.id)).toEqual(['a']);
  });

  it('an entity listed twice in one snapshot: the same content is nothing new; different content is dead-lettered, and later snapshots do not flip between the two', async () => {
    const pages = [[{ id: 'a', status: 'active', created: 1 }, { id: 'a', status: 'active', created: 1 }, { id: 'b', status: 'active', created: 1 }], [{ id: 'b', status: 'revoked', created: 1 }]];
    const one = keyFeed(pages);
    const first = await snapshot(one.feed, undefined, 10);
    expect(one.changes.map((c) => [c.kind, c.id, c.current.status])).toEqual([['new', 'a', 'active'], ['new', 'b', 'active']]);
    expect(first.dead).toBe(1);
    const letter = first.commits.flatMap((c) => c.items).find((i) => !i.result.ok)!;
    expect(letter.raw.toString()).toBe('{"id":"b","status":"revoked","created":1}');
    expect(letter.result).toMatchObject({ ok: false, stage: 'normalising', error: { code: 'TETHER_DUPLICATE_CONFLICT' } });

    const two = keyFeed(pages);
    const second = await snapshot(two.feed, first.cursor, 20);
    expect(two.changes).toEqual([]);
    expect(second.dead).toBe(1);
  });

  it('an emitter that throws dead-letters that element (once: the entity is remembered); the snapshot goes on, disappearances too', async () => {
    const throwing = (feed: InventoryFeed<Key>): InventoryFeed<Key> => ({
      ...feed,
      emit: (change) => {
        if (change.id === 'boom') throw new TypeError(`cannot emit ${change.kind}`);
        return feed.emit(change);
      },
    });
    const one = keyFeed([[{ id: 'boom', status: 'active', created: 1 }, { id: 'a', status: 'active', created: 1 }]]);
    const first = await snapshot(throwing(one.feed), undefined, 10);
    expect(first.dead).toBe(1);
    expect(first.commits.flatMap((c) => c.items).find((i) => !i.result.ok)!.result).toMatchObject({ error: { code: 'TETHER_NORMALISE_INVALID', message: expect.stringContaining('cannot emit new') } });
    expect(one.changes.map((c) => c.id)).toEqual(['a']);

    const two = keyFeed([[{ id: 'a', status: 'active', created: 1 }]]);
    const second = await snapshot(throwing(two.feed), first.cursor, 20);
    const goneLetters = second.commits.flatMap((c) => c.items).filter((i) => !i.result.ok);
    expect(goneLetters.map((i) => JSON.parse(i.raw.toString()).id)).toEqual(['boom']);
    expect(second.cursor.entities.boom!.gone).toBe(true);
  });
});
