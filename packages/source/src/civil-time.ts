// Calendar date-times written by sources to epoch ms, strictly: the parts a
// format's parser matched are checked to be a real date and time of day
// (Date.parse rolls 02-30 into March and reads zone-less text as local
// time), then placed on the UTC line by their offset. Every importer's time
// formats go through here; each keeps its own grammar of what it accepts.
// Pure.

export type TimeResult = { ok: true; ms: number } | { ok: false; reason: string };

export interface CivilTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** 60 is a leap second: read as the last millisecond of its minute. */
  second: number;
  /** Decimal digits after the seconds; beyond milliseconds they are dropped. */
  fraction: string;
  /** East of UTC positive. */
  offsetMinutes: number;
}

/** A real calendar date and time of day to epoch ms, or which part is not. */
export function civilToEpochMs(t: CivilTime, value: string): TimeResult {
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > daysIn(t.year, t.month)) return { ok: false, reason: `${quoteValue(value)} is not a calendar date` };
  if (t.hour > 23 || t.minute > 59 || t.second > 60) return { ok: false, reason: `${quoteValue(value)} is not a time of day` };
  if (Math.abs(t.offsetMinutes) >= 24 * 60) return { ok: false, reason: `${quoteValue(value)} has an impossible UTC offset` };
  const millis = t.second === 60 ? 999 : Number(t.fraction.slice(0, 3).padEnd(3, '0'));
  // Date.UTC maps years 0..99 to 1900..1999; setting the year afterwards does not.
  const date = new Date(Date.UTC(2000, t.month - 1, t.day, t.hour, t.minute, Math.min(t.second, 59), millis));
  date.setUTCFullYear(t.year);
  return { ok: true, ms: date.getTime() - t.offsetMinutes * 60_000 };
}

/** ±hh, ±hhmm or ±hh:mm (or Z) to minutes east of UTC; undefined when the minutes are not minutes. */
export function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (minutes > 59) return undefined;
  return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;

/** An RFC 3339 date-time with a zone (a space for the T, a comma decimal sign and ±hhmm are tolerated). */
export function parseRfc3339(value: string): TimeResult {
  const m = RFC3339.exec(value);
  if (!m) return { ok: false, reason: `${quoteValue(value)} is not an RFC 3339 date-time with a zone` };
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const offsetMinutes = zoneOffsetMinutes(m[8]!);
  if (offsetMinutes === undefined) return { ok: false, reason: `${quoteValue(value)} has an impossible UTC offset` };
  return civilToEpochMs({ year, month, day, hour, minute, second, fraction: m[7] ?? '', offsetMinutes }, value);
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * A time a person types (a CLI flag, a query parameter): an ISO 8601 date
 * (midnight UTC) or date-time, with seconds and fraction optional. A
 * date-time with no zone is UTC, never the host's zone, so the same text
 * means the same instant on every machine and in every command.
 */
export function parseInstant(value: string): TimeResult {
  const m = INSTANT.exec(value);
  if (!m) return { ok: false, reason: `${quoteValue(value)} is not an ISO 8601 date or date-time (2026-01-01, 2026-01-01T09:30:00Z)` };
  const [year, month, day] = m.slice(1, 4).map(Number) as [number, number, number];
  const offsetMinutes = m[8] === undefined ? 0 : zoneOffsetMinutes(m[8]);
  if (offsetMinutes === undefined) return { ok: false, reason: `${quoteValue(value)} has an impossible UTC offset` };
  return civilToEpochMs({ year, month, day, hour: Number(m[4] ?? 0), minute: Number(m[5] ?? 0), second: Number(m[6] ?? 0), fraction: m[7] ?? '', offsetMinutes }, value);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ASCTIME_UTC = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4}) UTC$/;

/**
 * C's asctime plus " UTC", as osquery writes `calendarTime`: "Mon Mar  2 09:05:01 2026 UTC"
 * (the day space-padded). The weekday must be the date's own: a mismatch is a forged or broken record.
 */
export function parseAsctimeUtc(value: string): TimeResult {
  const m = ASCTIME_UTC.exec(value);
  if (!m) return { ok: false, reason: `${quoteValue(value)} is not an asctime date-time in UTC` };
  const [, weekday, monthName, day, hour, minute, second, year] = m as unknown as [string, string, string, string, string, string, string, string];
  const result = civilToEpochMs(
    { year: Number(year), month: MONTHS.indexOf(monthName) + 1, day: Number(day.trim()), hour: Number(hour), minute: Number(minute), second: Number(second), fraction: '', offsetMinutes: 0 },
    value,
  );
  if (!result.ok) return result;
  if (['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(result.ms).getUTCDay()] !== weekday) {
    return { ok: false, reason: `${quoteValue(value)} names the wrong weekday for its date` };
  }
  return result;
}

/** A value quoted for a message, shortened: a hostile 1 MB "date" must not become a 1 MB message. */
export function quoteValue(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
