// Identity join keys, normalised one way for every importer and the enricher.
// MINIMAL STAND-IN written by h7-scim for the functions it uses: the branch
// h2-keys owns this module and its full version replaces this file on merge
// (same names and signatures).

const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/u;
const EMAIL_FORBIDDEN = /[\s<>()[\]\\,;:"]/u;

/** Trimmed, NFC, case-folded address; null when blank or not an address. */
export function normaliseEmail(value: string): string | null {
  const email = value.trim().normalize('NFC').toLowerCase();
  if (email === '' || INVISIBLE.test(email) || EMAIL_FORBIDDEN.test(email)) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1 || email.indexOf('@') !== at) return null;
  const domain = email.slice(at + 1);
  return domain.split('.').every((label) => label !== '') ? email : null;
}

/** A UPN is an address-shaped sign-in name: the same normalisation. */
export function normaliseUpn(value: string): string | null {
  return normaliseEmail(value);
}

/** SCIM id, externalId, employee number: trimmed, NFC; null when blank or holding invisible characters. */
export function normaliseExternalId(value: string): string | null {
  const id = value.trim().normalize('NFC');
  return id === '' || INVISIBLE.test(id) ? null : id;
}
