// Cursors too large for one record: split, named by a manifest, reassembled,
// and refused when a part is missing or from another generation.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { INLINE_CURSOR_BYTES, assembleCursor, chunkCursor, ownerOfPart, parseManifest, partKeys } from '../src/checkpoint-chunks.ts';

/** An inventory-shaped cursor of n entities, with enough entropy that gzip cannot shrink it to one part. */
function bigCursor(n: number): string {
  const entities: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    entities[`openai:api_key:key_${i}`] = { fp: randomBytes(8).toString('hex'), validFrom: 1_700_000_000_000 + i, content: { name: `key ${i}`, owner: randomBytes(12).toString('base64') } };
  }
  return JSON.stringify({ observedAt: null, entities });
}

describe('chunked checkpoints', () => {
  it('leaves a cursor that fits alone', () => {
    expect(chunkCursor('openai/keys/inventory', '{"observedAt":null,"entities":{}}')).toBeUndefined();
    expect(chunkCursor('x', 'a'.repeat(INLINE_CURSOR_BYTES))).toBeUndefined();
  });

  it('splits a large cursor into parts a manifest names, and puts it back together exactly', () => {
    const id = 'openai/keys/inventory';
    const cursor = bigCursor(60_000);
    expect(Buffer.byteLength(cursor)).toBeGreaterThan(5 * 1024 * 1024);
    const chunked = chunkCursor(id, cursor, 'g1')!;
    expect(chunked.parts.length).toBeGreaterThan(1);
    expect(Buffer.byteLength(chunked.manifest)).toBeLessThan(200);
    for (const part of chunked.parts) {
      expect(part.text.length).toBeLessThanOrEqual(512 * 1024);
      expect(ownerOfPart(part.key)).toBe(id);
    }
    expect(ownerOfPart(id)).toBeUndefined();

    const manifest = parseManifest(chunked.manifest)!;
    expect(partKeys(id, manifest)).toEqual(chunked.parts.map((p) => p.key));
    const stored = new Map(chunked.parts.map((p) => [p.key, p.text]));
    expect(assembleCursor(id, manifest, (key) => stored.get(key))).toEqual({ ok: true, cursor });
  });

  it('refuses a missing part, and parts of another generation under the same keys', () => {
    const id = 'anthropic/users/inventory';
    const first = chunkCursor(id, bigCursor(30_000), 'same')!;
    const second = chunkCursor(id, bigCursor(30_000), 'same')!;
    const manifest = parseManifest(second.manifest)!;

    const missing = new Map(second.parts.slice(1).map((p) => [p.key, p.text]));
    expect(assembleCursor(id, manifest, (key) => missing.get(key))).toMatchObject({ ok: false, reason: expect.stringContaining('missing') });

    const mixed = new Map(second.parts.map((p, i) => [p.key, i === 0 ? first.parts[0]!.text : p.text]));
    expect(assembleCursor(id, manifest, (key) => mixed.get(key)).ok).toBe(false);
  });

  it('reads only its own manifests', () => {
    expect(parseManifest('{"observedAt":null}')).toBeUndefined();
    expect(parseManifest('\u0000tether-chunked/1 {"gen":1}')).toBeUndefined();
    expect(parseManifest('\u0000tether-chunked/1 not json')).toBeUndefined();
  });
});
