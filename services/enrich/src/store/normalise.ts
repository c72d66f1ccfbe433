// What enrich reads off events before a lookup. The join keys themselves
// (emails, UPNs, ids, IPs, serials, hostnames) are normalised in one module
// for importers and enrich alike: #schemas identity-keys.

/** The value when it holds more than whitespace, else null: blank identifiers name nobody. */
export function nonBlank(value: string | null | undefined): string | null {
  return value === null || value === undefined || value.trim() === '' ? null : value;
}

/** '<platform>:<user id>' from a raw platform user id (already-qualified ids are kept); null when blank. */
export function qualifyPlatformUserId(platform: string, userId: string | null): string | null {
  const id = userId?.trim() ?? '';
  const prefix = `${platform.toLowerCase()}:`;
  if (id === '' || id === prefix) return null;
  return id.startsWith(prefix) ? id : `${prefix}${id}`;
}
