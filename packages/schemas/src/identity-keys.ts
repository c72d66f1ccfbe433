// Minimal local copy of the identity-key normaliser the h2-keys branch writes
// in full (same path, same signature); the lead replaces this file on merge.
import { isIPv4, isIPv6 } from 'node:net';

const EDGE_SPACE = /^[\s\u200b\ufeff]+|[\s\u200b\ufeff]+$/g;

/** An IP address as a key: RFC 5952 text for IPv6, ::ffff:a.b.c.d as a.b.c.d; null if not an IP. */
export function normaliseIp(value: string): string | null {
  const bare = value.replace(EDGE_SPACE, '').replace(/^\[(.*)\]$/, '$1').replace(/%[^%]*$/, '');
  if (isIPv4(bare)) return bare;
  if (!isIPv6(bare)) return null;
  const ipv6 = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ipv6);
  if (!m) return ipv6;
  const hi = Number.parseInt(m[1]!, 16);
  const lo = Number.parseInt(m[2]!, 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}
