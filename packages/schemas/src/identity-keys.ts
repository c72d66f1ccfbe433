// Identity join keys, normalised one way for every importer and for the
// enricher, both when a record is indexed and when an event looks it up, so
// the two sides can never disagree (an event from "::ffff:203.0.113.9" meets
// the device recorded as "203.0.113.9"; "dana.lee+cursor@example.com" meets
// Dana). Records keep what the source wrote; these functions give the keys
// they are joined by. Pure, no I/O.
//
// What is folded, and what deliberately is not:
// - Text is trimmed and put in Unicode NFC, so a decomposed "é" (e + U+0301)
//   and the precomposed one are one address. NFKC is NOT applied: fullwidth
//   "ａ" and "＠", lookalikes (Cyrillic "а" for Latin "a") and invisible
//   characters (zero-width space, joiners, bidi marks) stay distinct, because
//   folding them would attribute a lookalike account to the person it
//   imitates. An address written with a fullwidth "＠" has no "@" at all and
//   is no address.
// - Addresses are lower-cased with Unicode's default mapping, without a
//   locale: Turkish "İ" becomes "i" + U+0307, not "i", so "İLKER@…" does not
//   match "ilker@…". Directories store addresses in one casing, so this only
//   matters for hand-typed input.
// - For matching only, the "+tag" of a plus address is dropped
//   ("dana.lee+cursor@example.com" is Dana's mailbox); the record keeps it.
import { isIPv4, isIPv6 } from 'node:net';

const NON_ASCII = /[^\u0000-\u007f]/;
/**
 * White space removed at either end, except U+FEFF: String.prototype.trim
 * would remove that zero-width no-break space too, folding
 * "\uFEFFdana@…" onto "dana@…". Linear in the length (no backtracking regex).
 */
function trimSpace(value: string): string {
  if (!value.includes('\uFEFF')) return value.trim();
  const space = (c: string) => c !== '\uFEFF' && c.trim() === '';
  let start = 0;
  let end = value.length;
  while (start < end && space(value[start]!)) start++;
  while (end > start && space(value[end - 1]!)) end--;
  return value.slice(start, end);
}

function nfcTrimmed(value: string): string {
  const trimmed = trimSpace(value);
  return NON_ASCII.test(trimmed) ? trimmed.normalize('NFC') : trimmed;
}

/**
 * An email address as it is compared: trimmed, NFC, lower-cased. Null when
 * blank or when it is not local@domain (no "@", an empty local part or
 * domain). The "+tag" is kept: see emailMatchKey for the join key.
 */
export function normaliseEmail(value: string): string | null {
  const email = nfcTrimmed(value).toLowerCase();
  const at = email.lastIndexOf('@');
  return at > 0 && at < email.length - 1 ? email : null;
}

/**
 * The key an address is joined by: normaliseEmail with the "+tag" of a plus
 * address dropped from the local part ("dana.lee+cursor@example.com" ->
 * "dana.lee@example.com"). A local part that starts with "+" has no mailbox
 * before the tag and is kept whole.
 */
export function emailMatchKey(value: string): string | null {
  return stripPlusTag(normaliseEmail(value));
}

/** A user principal name as it is compared: like an email (UPNs are address-shaped sign-in names). */
export function normaliseUpn(value: string): string | null {
  return normaliseEmail(value);
}

/** The key a UPN is joined by; events carry sign-in names where they carry addresses, so the same rule as emailMatchKey. */
export function upnMatchKey(value: string): string | null {
  return stripPlusTag(normaliseUpn(value));
}

function stripPlusTag(address: string | null): string | null {
  if (address === null) return null;
  const at = address.lastIndexOf('@');
  const plus = address.indexOf('+');
  return plus > 0 && plus < at ? address.slice(0, plus) + address.slice(at) : address;
}

/** A SCIM id, externalId, employee number or platform id: trimmed, NFC; null when blank. Case matters (ids are opaque). */
export function normaliseExternalId(value: string): string | null {
  const id = nfcTrimmed(value);
  return id === '' ? null : id;
}

/**
 * A sign-in name that is not an address (a directory user name, a GitHub
 * login, a secondary alias): trimmed, NFC, lower-cased (these names are
 * case-insensitive where they are issued); null when blank.
 */
export function normaliseLogin(value: string): string | null {
  const login = nfcTrimmed(value).toLowerCase();
  return login === '' ? null : login;
}

/** How each alias kind is keyed; kinds not listed are opaque ids. */
const ALIAS_KEYS: Readonly<Record<string, (value: string) => string | null>> = {
  email: emailMatchKey,
  upn: upnMatchKey,
  user_name: normaliseLogin,
  alias: normaliseLogin,
};

/**
 * The join key of a person alias (IdentityAlias kind and value): emails and
 * UPNs by their match key, user names and secondary aliases as logins, every
 * other kind (platform_user_id, external_id, scim_external_id,
 * employee_number) as an opaque id. Null when the value names nothing.
 */
export function aliasMatchKey(kind: string, value: string): string | null {
  return (Object.hasOwn(ALIAS_KEYS, kind) ? ALIAS_KEYS[kind]! : normaliseExternalId)(value);
}

/**
 * An IP address in RFC 5952 text: IPv4 dotted quad; IPv6 lower-case with the
 * longest run of zero groups compressed; an IPv4-mapped IPv6 address
 * ("::ffff:203.0.113.9", how a dual-stack listener records an IPv4 client)
 * as the IPv4 address it is. Brackets ("[2001:db8::1]", URL form) and a zone
 * id ("fe80::1%en0") are removed. Null when the text is not one address
 * (leading-zero octets, a port, a range, a hostname).
 */
export function normaliseIp(value: string): string | null {
  const bare = trimSpace(value).replace(/^\[(.*)\]$/, '$1').replace(/%[^%]*$/, '');
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return null;
  const ipv6 = rfc5952(bare);
  return ipv4Mapped(ipv6) ?? ipv6;
}

/** The WHATWG URL parser writes IPv6 hosts in RFC 5952 form. */
function rfc5952(ipv6: string): string {
  return new URL(`http://[${ipv6}]/`).hostname.slice(1, -1);
}

function ipv4Mapped(ipv6: string): string | undefined {
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ipv6);
  if (!m) return undefined;
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2]!, 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/** Serials that vendors, firmware and VMs report when there is none (upper-cased): never a device key. */
export const PLACEHOLDER_SERIALS: ReadonlySet<string> = new Set([
  '', '0', '00000000', '0000000000', '0123456789', 'NONE', 'N/A', 'NA', 'UNKNOWN', 'DEFAULT STRING',
  'NOT SPECIFIED', 'NOT APPLICABLE', 'SYSTEM SERIAL NUMBER', 'TO BE FILLED BY O.E.M.', 'CHASSIS SERIAL NUMBER',
]);

/** A hardware serial as a key: trimmed, upper-cased; null for none and for placeholder serials. */
export function normaliseSerial(value: string | null): string | null {
  if (value === null) return null;
  const serial = nfcTrimmed(value).toUpperCase();
  return PLACEHOLDER_SERIALS.has(serial) ? null : serial;
}

/**
 * The keys a hostname answers to: the full name lower-cased without its
 * trailing dot, then its short form ("alice-mbp.corp.example." ->
 * ["alice-mbp.corp.example", "alice-mbp"]). None for a blank name.
 */
export function hostnameKeys(value: string | null): string[] {
  if (value === null) return [];
  const full = nfcTrimmed(value).toLowerCase().replace(/\.$/, '');
  if (full === '') return [];
  const short = full.split('.')[0]!;
  return short !== full && short !== '' ? [full, short] : [full];
}
