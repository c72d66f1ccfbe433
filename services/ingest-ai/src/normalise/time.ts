// Source times to epoch ms: the one place where each platform's documented
// time formats are read (reference 1.4, 1.7, 2.3, 2.5, 3.2, 3.3).
//
//   format        fields
//   unix_seconds  OpenAI audit effective_at; OpenAI inventory added_at, created(_at), last_used_at
//   rfc3339       Anthropic activity created_at; Anthropic inventory added_at, invited_at, created_at;
//                 Cursor audit timestamp (ISO 8601, written as RFC 3339 with Z)
//   epoch_ms      Cursor usage timestamp (digits in a string; a number is taken too)
//
// Each format takes only its own form: a seconds field given milliseconds
// (or an ISO string), an ISO field given a number, a date without a time or
// a zone (Date.parse would read it as local time), an impossible date
// (Date.parse rolls 02-30 into March) are all refused. Sub-millisecond
// digits are dropped. A required time that is refused makes the record a
// typed error (dead-lettered with its bytes); an optional one becomes null
// and its text stays in `source_time`.
import { tetherError, type TetherError } from '#errors';
import { parseRfc3339, type TimeResult } from '#source';

export type TimeFormat = 'unix_seconds' | 'rfc3339' | 'epoch_ms';

/**
 * 1973-03-03T09:46:40Z (1e11 ms). Earlier values are a zero/unset time or
 * seconds read as milliseconds, never a real AI-platform event.
 */
export const MIN_TIME_MS = 100_000_000_000;
/** The end of year 9999, RFC 3339's range; milliseconds read as seconds land beyond it. */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** How far after its reading an event may claim to be before it is flagged (clock skew). */
export const FUTURE_TOLERANCE_MS = 86_400_000;

export type { TimeResult };

/** Pure: a source value in `format` to epoch ms, or why not. */
export function parseTime(format: TimeFormat, value: unknown): TimeResult {
  const ms = format === 'unix_seconds' ? fromSeconds(value) : format === 'epoch_ms' ? fromMillis(value) : fromRfc3339(value);
  if (typeof ms === 'string') return { ok: false, reason: ms };
  if (ms < MIN_TIME_MS) return { ok: false, reason: `${describe(value)} is before ${new Date(MIN_TIME_MS).toISOString()} (unset, or the wrong unit)` };
  if (ms > MAX_TIME_MS) return { ok: false, reason: `${describe(value)} is after year 9999 (the wrong unit?)` };
  return { ok: true, ms };
}

/** A required time, or the typed error that dead-letters its record. */
export function requireTime(format: TimeFormat, value: unknown, what: string): number {
  const result = parseTime(format, value);
  if (!result.ok) throw timeError(format, result.reason, what);
  return result.ms;
}

/** An optional time: null when absent or refused. */
export function optionalTime(format: TimeFormat, value: unknown): number | null {
  const result = parseTime(format, value);
  return result.ok ? result.ms : null;
}

/** The time as the source wrote it (well-formed, see str()), for `time_raw` / `source_time`; null when absent. */
export function timeText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value.toWellFormed();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  try {
    return JSON.stringify(value) ?? null;
  } catch {
    return '(unserialisable)';
  }
}

/** Flags an event whose time is later than it could have been read (kept, not refused: the skew may be ours). */
export function timeFlags(time: number, ingestedAt: number): string[] {
  return time > ingestedAt + FUTURE_TOLERANCE_MS ? ['time_after_ingest'] : [];
}

function timeError(format: TimeFormat, reason: string, what: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', `${what}: time ${reason}; expected ${EXPECTED[format]}`, { context: { format } });
}

const EXPECTED: Record<TimeFormat, string> = {
  unix_seconds: 'Unix seconds (a JSON number)',
  rfc3339: 'an RFC 3339 date-time with a zone (2026-03-02T09:15:42Z)',
  epoch_ms: 'epoch milliseconds (digits)',
};

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (timeText(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function fromSeconds(value: unknown): number | string {
  if (typeof value !== 'number') return `${describe(value)} is not a number`;
  if (!Number.isFinite(value)) return `${describe(value)} is not finite`;
  // Nearest ms: binary fractions of a second carry noise (1767312000.123 * 1000 is ...122.99).
  return Math.round(value * 1000);
}

function fromMillis(value: unknown): number | string {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.floor(value) : `${describe(value)} is not finite`;
  if (typeof value !== 'string' || !/^\d{1,16}(\.\d+)?$/.test(value)) return `${describe(value)} is not epoch milliseconds`;
  return Math.floor(Number(value));
}

function fromRfc3339(value: unknown): number | string {
  if (typeof value !== 'string') return `${describe(value)} is not a string`;
  const result = parseRfc3339(value);
  return result.ok ? result.ms : result.reason;
}
