// ISO 8601 dates and date-times to epoch ms (reference §6.3: "ISO 8601
// dates"). Read: calendar dates in extended (2026-09-30) or basic (20260930)
// form, alone or with a time (T, t or a space; hh:mm[:ss[.fff]] or
// hhmm[ss[.fff]], a comma as decimal sign too) and an optional zone (Z, ±hh,
// ±hhmm, ±hh:mm). A date alone is midnight UTC; a time without a zone is
// UTC, as HR exports write UTC or dates. Anything else (US or European
// day orders, week and ordinal dates, Excel serials, words) is refused with
// a reason, never guessed: 03/04/2026 is a different day on each side of the
// Atlantic. Impossible dates (02-30, 13-01, 24:00) are refused, where
// Date.parse would roll 02-30 into March. Pure.

export type TimeResult = { ok: true; ms: number } | { ok: false; reason: string };

const EXTENDED = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const BASIC = /^(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?:\d{2})?)?)?$/;

export function parseIsoTime(value: string): TimeResult {
  const m = EXTENDED.exec(value) ?? BASIC.exec(value);
  if (!m) return { ok: false, reason: `${show(value)} is not an ISO 8601 date (YYYY-MM-DD, optionally with a time)` };
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12) return { ok: false, reason: `${show(value)} has no month ${mo}` };
  if (day < 1 || day > daysIn(year, month)) return { ok: false, reason: `${show(value)} has no day ${d} in month ${mo}` };
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, reason: `${show(value)} is not a time of day` };
  const offset = zoneOffsetMinutes(zone);
  if (offset === undefined) return { ok: false, reason: `${show(value)} has an impossible UTC offset` };
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  // Date.UTC maps years 0..99 to 1900..1999; setting the year afterwards does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year);
  return { ok: true, ms: date.getTime() - offset * 60_000 };
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The value quoted for a message, shortened: a hostile 1 MB "date" must not become a 1 MB message. */
export function show(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
