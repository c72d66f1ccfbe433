import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringifyJson } from '../src/json-text.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../services/ingest-ai/test/fixtures');

describe('stringifyJson', () => {
  it('writes what JSON.stringify writes for every fixture of every platform', () => {
    let compared = 0;
    for (const platform of readdirSync(FIXTURES)) {
      for (const file of readdirSync(path.join(FIXTURES, platform))) {
        const text = readFileSync(path.join(FIXTURES, platform, file), 'utf8');
        const docs = file.endsWith('.jsonl') ? text.split('\n').filter((l) => l.trim() !== '') : [text];
        for (const doc of docs) {
          const value = JSON.parse(doc) as unknown;
          expect(stringifyJson(value)).toBe(JSON.stringify(value));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('follows JSON.stringify on the awkward values: undefined, functions, non-finite numbers, toJSON, escapes, own __proto__ keys', () => {
    const value = JSON.parse('{"__proto__":{"x":1},"s":"q\\"\\\\\\u0000\\ud800\\u2028","n":-0,"e":1e21,"a":[1,null,{}]}') as Record<string, unknown>;
    Object.assign(value, { u: undefined, f: () => 1, inf: Number.POSITIVE_INFINITY, nan: Number.NaN, d: new Date(0), b: Buffer.from('hi'), arr: [undefined, () => 1, Symbol('s')] });
    expect(stringifyJson(value)).toBe(JSON.stringify(value));
    expect(stringifyJson(undefined)).toBeUndefined();
    expect(stringifyJson('x')).toBe('"x"');
    expect(stringifyJson([])).toBe('[]');
  });

  it('walks nesting far deeper than JSON.stringify can', () => {
    const text = `${'{"a":['.repeat(100_000)}1${']}'.repeat(100_000)}`;
    const value = JSON.parse(text) as unknown;
    expect(() => JSON.stringify(value)).toThrow(RangeError);
    expect(stringifyJson(value)).toBe(text);
  });

  it('writes a marker for containers beyond maxDepth', () => {
    const value = { a: { b: { c: { d: 1 } } }, x: [[[]]] };
    expect(stringifyJson(value, { maxDepth: 2, tooDeep: (level) => `"level ${level}"` })).toBe('{"a":{"b":"level 3"},"x":["level 3"]}');
    expect(stringifyJson(value, { maxDepth: 0 })).toBe('null');
  });

  it('throws on a cycle and a BigInt, as JSON.stringify does, but not on a value seen twice', () => {
    const shared = { id: 1 };
    expect(stringifyJson({ a: shared, b: [shared] })).toBe('{"a":{"id":1},"b":[{"id":1}]}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    expect(() => stringifyJson(cyclic)).toThrow(/circular/);
    expect(() => stringifyJson({ n: 1n })).toThrow(TypeError);
  });
});
