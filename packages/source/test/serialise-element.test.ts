import { describe, expect, it } from 'vitest';
import { serialiseElement } from '#source';

describe('serialiseElement', () => {
  it('gives an element its JSON bytes', () => {
    expect(serialiseElement({ id: 'a', n: [1, null] }).toString()).toBe('{"id":"a","n":[1,null]}');
  });

  it('marks an element too deep to serialise instead of throwing (JSON.parse accepts what stringify cannot walk)', () => {
    const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(JSON.parse(serialiseElement(deep).toString())).toEqual({ tether_unserialisable: expect.stringMatching(/call stack/i) });
  });
});
