// Field readers every device inventory (Fleet, Intune, Jamf) reads its
// records with: text, identifiers, counts, addresses, IPs and times, each
// refusing what it must not keep with a typed error. Pure; any JSON value
// in. Times go through the one time module (#source civil-time), addresses
// and IPs through the #schemas identity keys, so every source writes the
// keys the enricher joins by.
import { TetherError, tetherError } from '#errors';
import { normaliseEmail } from '#schemas';
import { parseRfc3339, quoteValue as show } from '#source';
import { hostIp } from './ip.ts';

export const MAX_ID_CHARS = 128;
export const MAX_HOSTNAME_CHARS = 255;
export const MAX_TEXT_CHARS = 256;
/** Controls, format characters (zero-width, bidi overrides), line separators, and U+FFFD (bytes that were not UTF-8): never in an identifier. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/u;
/** .NET's DateTimeOffset.MinValue (Graph) and Go's zero time (Fleet): written for a time never recorded. */
const ZERO_TIME = /^0001-01-01T00:00:00(?:\.0+)?(?:Z|[+-]00:00)$/;

/** A time a record carries: epoch ms, its text as written, and the field it came from (for messages and provenance). */
export interface Stamp {
  ms: number;
  text: string;
  column: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An own property of an object; undefined for anything else (a hostile `__proto__` key included). */
export function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function invalid(message: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message);
}

/** Text as written (trimmed), or null; numbers are taken as their text (a serial exported as a number). */
export function text(value: unknown, what: string, max = MAX_TEXT_CHARS): string | null {
  const s = typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
  if (s === '') return null;
  if (s.length > max) throw tetherError('TETHER_RECORD_TOO_LARGE', `${what} is ${s.length} characters long; at most ${max} are kept`);
  return s;
}

/** Text that names something (a serial, a host, a record id): no control or invisible characters. */
export function identifier(value: unknown, what: string, max = MAX_ID_CHARS): string | null {
  const s = text(value, what, max);
  if (s !== null && INVISIBLE.test(s)) throw invalid(`${what} ${show(s)} holds a control, invisible or replacement character`);
  return s;
}

/** A non-negative integer, also when written as a string ("2"). */
export function count(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** true / false, also written as text; anything else is unknown. */
export function flag(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return null;
}

/**
 * An address as #schemas normaliseEmail writes it (trimmed, NFC,
 * lower-cased), or null when it is none; a login without '@' is not one.
 * Something that looks like an address but cannot be one is skipped with a
 * note, never trusted.
 */
export function address(value: unknown, what: string, notes: string[]): string | null {
  if (typeof value !== 'string' || value.trim() === '' || !value.includes('@')) return null;
  const email = normaliseEmail(value);
  if (email === null || email.length > 254 || INVISIBLE.test(email) || /\s/.test(email) || email.indexOf('@') !== email.lastIndexOf('@') || email.startsWith('@') || email.endsWith('@')) {
    notes.push(`${what} ${show(value)} is not an address: skipped`);
    return null;
  }
  return email;
}

/**
 * The IP addresses of some fields, in the text the enricher compares; a
 * field may hold one address, an array, or text listing several (commas,
 * semicolons, spaces). What is no single host's address is dropped with a note.
 */
export function ipAddresses(fields: readonly (readonly [column: string, value: unknown])[], notes: string[]): string[] {
  const out = new Set<string>();
  for (const [column, value] of fields) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string') {
        if (item !== null && item !== undefined) notes.push(`${column} holds a ${typeof item}: skipped`);
        continue;
      }
      for (const part of item.split(/[\s,;]+/).filter(Boolean)) {
        const ip = hostIp(part);
        if (ip.ok) out.add(ip.ip);
        else notes.push(`${column} ${ip.reason}: dropped`);
      }
    }
  }
  return [...out];
}

/**
 * An RFC 3339 time, or null when absent, blank or the zero time (never).
 * A time that is not RFC 3339 or is before 1970 is an error: the record is
 * not read on a guess.
 */
export function stamp(value: unknown, column: string): Stamp | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`${column} is a ${typeof value}, not an RFC 3339 string`);
  const written = value.trim();
  if (written === '' || ZERO_TIME.test(written)) return null;
  const parsed = parseRfc3339(written);
  if (!parsed.ok) throw invalid(`${column} ${parsed.reason}`);
  if (parsed.ms < 0) throw invalid(`${column} ${show(written)} is before 1970`);
  return { ms: parsed.ms, text: written, column };
}

/** An optional time: one that does not read is left out with a note instead of refusing the record. */
export function optionalStamp(value: unknown, column: string, notes: string[]): Stamp | null {
  // A time of the wrong type is a broken record, not a missing time.
  if (value !== undefined && value !== null && typeof value !== 'string') return stamp(value, column);
  try {
    return stamp(value, column);
  } catch (err) {
    notes.push(`${(err as Error).message}: ignored`);
    return null;
  }
}

/** A check-in later than this after the listing is a forged or broken record (the MDM's server clock sets it). */
export const FUTURE_TOLERANCE_MS = 86_400_000;

export interface ReadContext {
  /** When the record was listed or imported: a check-in far after it is refused. */
  observedAt: number;
  /** How that moment is named in messages ("the import", "the listing"). */
  what?: string;
}

/** Why a time is too far after the listing (or import) to be believed; null when it is not. */
export function afterListing(t: Stamp, ctx: ReadContext): string | null {
  if (t.ms <= ctx.observedAt + FUTURE_TOLERANCE_MS) return null;
  return `${t.column} ${show(t.text)} is after ${ctx.what ?? 'the import'} (${new Date(ctx.observedAt).toISOString()})`;
}

/** A check-in or report time: one far after the listing refuses the record (forged or broken). */
export function observedTime(value: unknown, column: string, ctx: ReadContext): Stamp | null {
  const t = stamp(value, column);
  const late = t && afterListing(t, ctx);
  if (late) throw invalid(late);
  return t;
}

/** An optional time (an enrolment, an assignment): one that does not read, or lies far after the listing, is ignored with a note. */
export function optionalTime(value: unknown, column: string, ctx: ReadContext, notes: string[]): Stamp | null {
  const t = optionalStamp(value, column, notes);
  const late = t && afterListing(t, ctx);
  if (!late) return t;
  notes.push(`${late}: ignored`);
  return null;
}

/** Runs a record reader: what it throws becomes the typed error the record is dead-lettered with. */
export function guardedRead<T extends object>(what: string, read: (notes: string[]) => T): ({ ok: true; notes: string[] } & T) | { ok: false; error: TetherError } {
  try {
    const notes: string[] = [];
    return { ok: true, ...read(notes), notes };
  } catch (err) {
    return { ok: false, error: TetherError.is(err) ? err : tetherError('TETHER_NORMALISE_INVALID', `${what} not read: ${String(err)}`, { cause: err }) };
  }
}
