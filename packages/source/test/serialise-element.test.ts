import { describe, expect, it } from 'vitest';
import { serialiseElement } from '#source';

describe('serialiseElement', () => {
  it('gives an element its JSON bytes', () => {
    expect(serialiseElement({ id: 'a', n: [1, null] }).toString()).toBe('{"id":"a","n":[1,null]}');
  });

  it('gives an element too deep for JSON.stringify the same text, from the iterative serialiser (JSON.parse accepts what stringify cannot walk)', () => {
    const text = `{"a":${'['.repeat(200_000)}"x\\u0000\\ud800"${']'.repeat(200_000)},"b":1}`;
    const deep = JSON.parse(text) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(serialiseElement(deep).toString()).toBe(text);
  });

  it('marks the only values JSON cannot hold (a cycle) instead of throwing', () => {
    const cyclic: Record<string, unknown> = { id: 'a' };
    cyclic.self = cyclic;
    expect(JSON.parse(serialiseElement(cyclic).toString())).toEqual({ tether_unserialisable: expect.stringMatching(/circular/i) });
  });
});
