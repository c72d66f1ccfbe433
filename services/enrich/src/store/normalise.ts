// One normalisation per lookup key, used both when indexing and when looking
// up, so the two can never disagree. A value that is blank once trimmed names
// nothing: it is never indexed and never looked up (a record or an event with
// an empty email must not match every other one).

/** The value when it holds more than whitespace, else null. */
export function nonBlank(value: string | null | undefined): string | null {
  return value === null || value === undefined || value.trim() === '' ? null : value;
}

/** Alias kinds compared case-insensitively (emails and UPNs); the rest exactly. */
const CASE_INSENSITIVE = new Set(['email', 'upn']);

const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Trimmed; emails and UPNs lower-cased. Non-ASCII text is put in NFC, so a
 * decomposed "é" (e + U+0301) and the precomposed one are the same address.
 * Deliberately no more: compatibility forms (NFKC: fullwidth "ａ"), lookalikes
 * (Cyrillic "а") and invisible characters stay distinct, because folding them
 * would attribute a lookalike account to the person it imitates. Lower-casing
 * is Unicode's, without a locale: Turkish "İ" becomes "i" + U+0307, not "i",
 * so "İLKER@…" does not match "ilker@…"; directories store addresses in one
 * casing, so this only matters for hand-typed input.
 */
export function normaliseAlias(kind: string, value: string): string {
  const trimmed = CASE_INSENSITIVE.has(kind) ? value.trim().toLowerCase() : value.trim();
  return NON_ASCII.test(trimmed) ? trimmed.normalize('NFC') : trimmed;
}

export function normaliseEmail(value: string): string {
  return normaliseAlias('email', value);
}

/** Placeholder serials vendors ship (reference A5: never merge on these). */
const PLACEHOLDER_SERIALS = new Set([
  '', '0', '00000000', '0000000000', '0123456789', 'NONE', 'N/A', 'NA', 'UNKNOWN', 'DEFAULT STRING',
  'NOT SPECIFIED', 'NOT APPLICABLE', 'SYSTEM SERIAL NUMBER', 'TO BE FILLED BY O.E.M.', 'CHASSIS SERIAL NUMBER',
]);

/** Upper-cased serial, or null for empty and placeholder values. */
export function normaliseSerial(value: string | null): string | null {
  if (value === null) return null;
  const serial = value.trim().toUpperCase();
  return PLACEHOLDER_SERIALS.has(serial) ? null : serial;
}

/** Lower-cased hostname plus its short form ("alice-mbp.corp.example" also answers "alice-mbp"). */
export function hostnameKeys(value: string | null): string[] {
  if (value === null) return [];
  const full = value.trim().toLowerCase().replace(/\.$/, '');
  if (full === '') return [];
  const short = full.split('.')[0]!;
  return short !== full && short !== '' ? [full, short] : [full];
}

export function normaliseIp(value: string): string {
  return value.trim().toLowerCase();
}

/** '<platform>:<user id>' from a raw platform user id (already-qualified ids are kept); null when blank. */
export function qualifyPlatformUserId(platform: string, userId: string | null): string | null {
  const id = userId?.trim() ?? '';
  const prefix = `${platform.toLowerCase()}:`;
  if (id === '' || id === prefix) return null;
  return id.startsWith(prefix) ? id : `${prefix}${id}`;
}
