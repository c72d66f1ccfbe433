// A cursor too large for one Kafka record (an inventory of thousands of users
// or keys carries every entity's fingerprint and content) is stored gzipped in
// parts under their own keys, and the checkpoint itself holds a small manifest
// naming them. Parts are written before the manifest and carry a generation
// in their keys, so a crash between the two leaves the previous checkpoint
// whole; the previous generation's parts are tombstoned once the new
// manifest is acknowledged. Pure: the store does the I/O.
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Cursors up to this size are stored as they are. */
export const INLINE_CURSOR_BYTES = 256 * 1024;
/** Characters of base64 per part: well under the broker's record limit once framed. */
const PART_CHARS = 512 * 1024;
/** Starts a manifest; a NUL cannot begin a JSON cursor or a page token. */
const MANIFEST_PREFIX = '\u0000tether-chunked/1 ';
const PART_MARK = '#chunk/';

export interface ChunkManifest {
  gen: string;
  parts: number;
  /** Of the cursor text, to refuse a mix of two generations. */
  sha256: string;
}

export interface ChunkedCursor {
  manifest: string;
  parts: Array<{ key: string; text: string }>;
}

/** Splits a cursor that is too large to store inline; undefined when it fits. */
export function chunkCursor(id: string, cursor: string, gen: string = randomBytes(6).toString('hex')): ChunkedCursor | undefined {
  if (Buffer.byteLength(cursor) <= INLINE_CURSOR_BYTES) return undefined;
  const packed = gzipSync(cursor).toString('base64');
  const parts: Array<{ key: string; text: string }> = [];
  for (let n = 0, at = 0; at < packed.length; n++, at += PART_CHARS) parts.push({ key: partKey(id, gen, n), text: packed.slice(at, at + PART_CHARS) });
  const manifest: ChunkManifest = { gen, parts: parts.length, sha256: sha256(cursor) };
  return { manifest: MANIFEST_PREFIX + JSON.stringify(manifest), parts };
}

export function parseManifest(cursor: string): ChunkManifest | undefined {
  if (!cursor.startsWith(MANIFEST_PREFIX)) return undefined;
  try {
    const m = JSON.parse(cursor.slice(MANIFEST_PREFIX.length)) as ChunkManifest;
    if (typeof m.gen === 'string' && Number.isInteger(m.parts) && m.parts > 0 && typeof m.sha256 === 'string') return m;
  } catch {
    // falls through: not a manifest this version can read
  }
  return undefined;
}

/** The keys of a manifest's parts, in order. */
export function partKeys(id: string, manifest: ChunkManifest): string[] {
  return Array.from({ length: manifest.parts }, (_, n) => partKey(id, manifest.gen, n));
}

/** Reassembles the cursor a manifest names, or says why it cannot. */
export function assembleCursor(id: string, manifest: ChunkManifest, part: (key: string) => string | undefined): { ok: true; cursor: string } | { ok: false; reason: string } {
  const texts: string[] = [];
  for (const key of partKeys(id, manifest)) {
    const text = part(key);
    if (text === undefined) return { ok: false, reason: `part ${key} is missing` };
    texts.push(text);
  }
  let cursor: string;
  try {
    cursor = gunzipSync(Buffer.from(texts.join(''), 'base64')).toString('utf8');
  } catch (err) {
    return { ok: false, reason: `parts do not unzip: ${(err as Error).message}` };
  }
  if (sha256(cursor) !== manifest.sha256) return { ok: false, reason: 'reassembled cursor does not match its digest' };
  return { ok: true, cursor };
}

/** The checkpoint id a part belongs to, or undefined for a checkpoint's own key. */
export function ownerOfPart(key: string): string | undefined {
  const at = key.lastIndexOf(PART_MARK);
  return at < 0 ? undefined : key.slice(0, at);
}

function partKey(id: string, gen: string, n: number): string {
  return `${id}${PART_MARK}${gen}/${n}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
