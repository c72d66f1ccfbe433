// Identity join keys, one normalisation per key kind. MINIMAL LOCAL COPY for
// the h8-grants branch: the h2-keys branch owns this module (same path, same
// signatures) and replaces this file on merge.
import { isIP, isIPv4 } from 'node:net';

/** Trimmed, NFC, case-folded; null when blank or not an address (no "@" between two parts). */
export function normaliseEmail(value: string): string | null {
  const v = value.trim().normalize('NFC').toLowerCase();
  const at = v.lastIndexOf('@');
  return v === '' || at <= 0 || at === v.length - 1 ? null : v;
}

/** RFC 5952 text; an IPv4-mapped IPv6 address as its IPv4; null when not an IP address. */
export function normaliseIp(value: string): string | null {
  const v = value.trim().replace(/^\[(.*)\]$/, '$1');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(v);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(v)) return v;
  if (isIP(v) !== 6) return null;
  return new URL(`http://[${v}]/`).hostname.slice(1, -1);
}
