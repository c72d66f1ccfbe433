// One normalisation per lookup key, used both when indexing and when looking
// up, so the two can never disagree.

export function normaliseEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** Alias kinds compared case-insensitively (emails and UPNs); the rest exactly. */
const CASE_INSENSITIVE = new Set(['email', 'upn']);

export function normaliseAlias(kind: string, value: string): string {
  return CASE_INSENSITIVE.has(kind) ? value.trim().toLowerCase() : value.trim();
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

/** '<platform>:<user id>' from a raw platform user id; already-qualified ids are kept. */
export function qualifyPlatformUserId(platform: string, userId: string): string {
  const prefix = `${platform.toLowerCase()}:`;
  const id = userId.trim();
  return id.startsWith(prefix) ? id : `${prefix}${id}`;
}
