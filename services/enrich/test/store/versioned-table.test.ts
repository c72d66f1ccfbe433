import { describe, expect, it } from 'vitest';
import { IdIndex } from '../../src/store/id-index.ts';
import { VersionedTable } from '../../src/store/versioned-table.ts';

interface V { valid_from: number; tag: string; keys: string[] }
const v = (valid_from: number, tag: string, keys: string[] = []): V => ({ valid_from, tag, keys });

function table() {
  const index = new IdIndex();
  return { index, table: new VersionedTable<V>({ indexers: [{ index, keys: (x) => x.keys }] }) };
}

describe('VersionedTable', () => {
  it('answers "as of t" with the latest version whose valid_from <= t, whatever the arrival order', () => {
    const { table: t } = table();
    for (const version of [v(300, 'c'), v(100, 'a'), v(200, 'b')]) t.put('e1', version);
    expect(t.history('e1').map((x) => x.tag)).toEqual(['a', 'b', 'c']);
    expect(t.asOf('e1', 99)).toBeUndefined();
    expect(t.asOf('e1', 100)?.tag).toBe('a');
    expect(t.asOf('e1', 199)?.tag).toBe('a');
    expect(t.asOf('e1', 200)?.tag).toBe('b');
    expect(t.asOf('e1', 10_000)?.tag).toBe('c');
    expect(t.asOf('other', 10_000)).toBeUndefined();
  });

  it('treats a re-emitted version as idempotent and a changed one at the same valid_from as a replacement', () => {
    const { table: t } = table();
    expect(t.put('e1', v(100, 'a'))).toBe('added');
    expect(t.put('e1', v(100, 'a'))).toBe('unchanged');
    expect(t.put('e1', v(100, 'a2'))).toBe('replaced');
    expect(t.history('e1').map((x) => x.tag)).toEqual(['a2']);
    expect(t.versionCount).toBe(1);
  });

  it('removes exactly the version a tombstone names', () => {
    const { table: t } = table();
    t.put('e1', v(100, 'a'));
    t.put('e1', v(200, 'b'));
    expect(t.remove('e1', 150)).toBeUndefined();
    expect(t.remove('e1', 100)?.tag).toBe('a');
    expect(t.asOf('e1', 150)).toBeUndefined();
    expect(t.asOf('e1', 250)?.tag).toBe('b');
    expect(t.remove('e1', 200)?.tag).toBe('b');
    expect(t.has('e1')).toBe(false);
    expect(t.size).toBe(0);
  });

  it('keeps an index key while any version carries it and drops it with the last one', () => {
    const { index, table: t } = table();
    t.put('e1', v(100, 'a', ['alice@x']));
    t.put('e1', v(200, 'b', ['alice@x', 'upn']));
    t.put('e2', v(300, 'c', ['alice@x']));
    expect(index.get('alice@x')).toEqual(['e1', 'e2']);
    t.remove('e1', 100);
    expect(index.get('alice@x')).toEqual(['e1', 'e2']);
    t.put('e1', v(200, 'b2', ['upn']));
    expect(index.get('alice@x')).toEqual(['e2']);
    expect(index.get('upn')).toEqual(['e1']);
    t.remove('e1', 200);
    expect(index.get('upn')).toEqual([]);
  });
});
