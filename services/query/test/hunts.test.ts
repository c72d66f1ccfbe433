import { describe, expect, it } from 'vitest';
import { placeholders } from '../src/bind.ts';
import { bindHunt, huntParams, loadHunts, parseHunt } from '../src/hunts.ts';

const NOW = new Date('2026-02-01T12:00:00Z');
const HEADER = `-- title: Test hunt
-- description: first line
-- description: second line
-- param since DateTime default now-7d
-- param who Array(String) default a,b
-- param n UInt64
`;

describe('hunt files', () => {
  it('reads the header: title, description, typed parameters with defaults', () => {
    const hunt = parseHunt('test-hunt', `${HEADER}SELECT 1 WHERE t >= {since:DateTime} AND has({who:Array(String)}, x) LIMIT {n:UInt64}`);
    expect(hunt).toMatchObject({
      name: 'test-hunt',
      title: 'Test hunt',
      description: 'first line second line',
      params: [
        { name: 'since', type: 'DateTime', default: 'now-7d' },
        { name: 'who', type: 'Array(String)', default: 'a,b' },
        { name: 'n', type: 'UInt64', default: null },
      ],
    });
    expect(bindHunt(hunt, { n: '5' }, NOW)).toContain(`t >= toDateTime(${Date.parse('2026-01-25T12:00:00Z') / 1000}, 'UTC') AND has(['a', 'b'], x) LIMIT 5`);
    expect(bindHunt(hunt, { n: '5', since: 'now-2h', who: ['x'] }, NOW)).toContain(`toDateTime(${Date.parse('2026-02-01T10:00:00Z') / 1000}, 'UTC') AND has(['x'], x)`);
  });

  it.each([
    ['an undeclared placeholder', `${HEADER}SELECT {since:DateTime}, {who:Array(String)}, {n:UInt64}, {extra:String}`, /\{extra:String\} is not declared/],
    ['a type that differs from the header', `${HEADER}SELECT {since:String}, {who:Array(String)}, {n:UInt64}`, /declared DateTime but used as String/],
    ['a declared parameter never used', `${HEADER}SELECT {since:DateTime}, {who:Array(String)}`, /"n" is not used/],
    ['a missing title', '-- param n UInt64\nSELECT {n:UInt64}', /title/],
    ['a bad default', '-- title: t\n-- param n UInt64 default -1\nSELECT {n:UInt64}', /out of range for UInt64/],
    ['an unknown type', '-- title: t\n-- param n Int32\nSELECT {n:Int32}', /unsupported type Int32/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseHunt('bad', text)).toThrow(message);
  });

  it('names and values are checked when the hunt runs', () => {
    const hunt = parseHunt('h', `${HEADER}SELECT {since:DateTime}, {who:Array(String)}, {n:UInt64}`);
    expect(() => huntParams(hunt, {}, NOW)).toThrow(/needs parameter "n"/);
    expect(() => huntParams(hunt, { n: '1', m: '2' }, NOW)).toThrow(/no parameter "m" \(it takes: since DateTime = now-7d/);
    expect(() => huntParams(hunt, { n: ['1', '2'] }, NOW)).toThrow(/takes one value/);
    expect(() => bindHunt(hunt, { n: '1 OR 1=1' }, NOW)).toThrow(/not a valid UInt64/);
  });

  it('every saved hunt loads and binds with its defaults', () => {
    const hunts = loadHunts();
    expect([...hunts.keys()]).toEqual(expect.arrayContaining([
      'ai-admin-actions-unmanaged-devices', 'new-api-keys-per-person', 'unattributed-actors', 'keys-used-after-owner-left',
    ]));
    for (const hunt of hunts.values()) {
      const required = Object.fromEntries(hunt.params.filter((p) => p.default === null).map((p) => [p.name, '1']));
      const sql = bindHunt(hunt, required, NOW);
      expect(placeholders(sql), hunt.name).toEqual([]);
      // One statement, its output format left to the client.
      expect(sql.replace(/--.*$/gm, ''), hunt.name).not.toMatch(/\bFORMAT\b|;\s*\S/);
    }
  });
});
