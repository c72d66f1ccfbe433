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

import { civilToEpochMs, quoteValue, zoneOffsetMinutes, type TimeResult } from '#source';

const EXTENDED = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const BASIC = /^(\d{4})(\d{2})(\d{2})(?:[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?:\d{2})?)?)?$/;

export function parseIsoTime(value: string): TimeResult {
  const m = EXTENDED.exec(value) ?? BASIC.exec(value);
  if (!m) return { ok: false, reason: `${quoteValue(value)} is not an ISO 8601 date (YYYY-MM-DD, optionally with a time)` };
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', zone = 'Z'] = m;
  const offsetMinutes = zoneOffsetMinutes(zone);
  if (offsetMinutes === undefined) return { ok: false, reason: `${quoteValue(value)} has an impossible UTC offset` };
  // No leap seconds in HR data: 23:59:60 is a typo here.
  if (Number(s) > 59) return { ok: false, reason: `${quoteValue(value)} is not a time of day` };
  return civilToEpochMs({ year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s), fraction, offsetMinutes }, value);
}
