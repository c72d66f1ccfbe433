// RFC 3339 date-times (Fleet writes Go's time.RFC3339Nano) to epoch ms.
// Only that form: a date without a time or a zone, a number (seconds or
// milliseconds?), or an impossible date (Date.parse rolls 02-30 into March)
// is refused with a reason. Pure.

export type TimeResult = { ok: true; ms: number } | { ok: false; reason: string };

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(value: string): TimeResult {
  const m = RFC3339.exec(value);
  if (!m) return { ok: false, reason: `${show(value)} is not an RFC 3339 date-time` };
  const [, y, mo, d, h, mi, s, frac = '', zone] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const offset = zone === 'Z' || zone === 'z' ? 0 : (zone![0] === '-' ? -1 : 1) * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6)));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 || Math.abs(offset) >= 24 * 60) {
    return { ok: false, reason: `${show(value)} is not a real date-time` };
  }
  // Date.UTC maps years 0..99 to 1900..1999; setting the year afterwards does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0').slice(0, 3))));
  date.setUTCFullYear(year);
  return { ok: true, ms: date.getTime() - offset * 60_000 };
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** A value quoted for a message, shortened: a hostile 1 MB "time" must not become a 1 MB message. */
export function show(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}
