// Bytes kept honest: text from a source is decoded strictly, so a body or a
// line that is not valid UTF-8 is refused with its exact bytes (for the DLQ)
// instead of becoming U+FFFD in fields that look real; and source text quoted
// in an error message is escaped, so it cannot forge a log line or hide
// behind control and bidirectional characters.
import { TetherError, tetherError } from '#errors';

const strict = new TextDecoder('utf-8', { fatal: true });

export type Utf8Result = { ok: true; text: string } | { ok: false; offset: number; reason: string };

/** Strict UTF-8 (a leading BOM dropped): the text, or the offset of the first byte that is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): Utf8Result {
  try {
    return { ok: true, text: strict.decode(bytes) };
  } catch {
    const offset = firstInvalidByte(bytes);
    return { ok: false, offset, reason: `not valid UTF-8 at byte ${offset} (0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')})` };
  }
}

/** Where strict decoding fails: a stray continuation, a truncated or overlong sequence, a surrogate, or past U+10FFFF. */
function firstInvalidByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const lead = b[i]!;
    let need: number;
    let min: number;
    if (lead < 0x80) {
      i++;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) [need, min] = [1, 0x80];
    else if (lead >= 0xe0 && lead <= 0xef) [need, min] = [2, 0x800];
    else if (lead >= 0xf0 && lead <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = lead & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = b[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}

/** An error refusing bytes that are not UTF-8; the bytes ride along (not enumerable, so never logged) for the dead letter. */
export function notUtf8Error(what: string, bytes: Buffer, result: Extract<Utf8Result, { ok: false }>, context: Record<string, unknown> = {}): TetherError {
  return withOriginal(tetherError('TETHER_SOURCE_ENCODING', `${what}: ${result.reason}`, { context: { ...context, offset: result.offset, bytes: bytes.length } }), bytes);
}

const ORIGINAL = Symbol.for('tether.source.original');

/** Attaches the exact bytes an error is about, for the dead letter it becomes. */
export function withOriginal<E extends Error>(err: E, bytes: Buffer): E {
  Object.defineProperty(err, ORIGINAL, { value: bytes, enumerable: false });
  return err;
}

export function originalOf(err: unknown): Buffer | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const own = (err as Record<symbol, unknown>)[ORIGINAL];
  if (Buffer.isBuffer(own)) return own;
  return TetherError.is(err) || err instanceof Error ? originalOf((err as Error).cause) : undefined;
}

/**
 * Source text for an error message: at most `max` characters, control,
 * format (bidi, zero-width) and separator characters as \u escapes, quotes
 * and backslashes escaped, in double quotes.
 */
export function quoteSnippet(text: string, max = 300): string {
  const cut = text.length > max ? `${text.slice(0, max)}` : text;
  const escaped = cut.toWellFormed().replace(/[\\"]|[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (ch) =>
    ch === '\\' || ch === '"' ? `\\${ch}` : `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
  return `"${escaped}"${text.length > max ? `… (${text.length} characters)` : ''}`;
}
