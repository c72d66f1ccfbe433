// IP addresses as the enricher compares them (exact text): IPv4 dotted,
// IPv6 in RFC 5952 form (lower case, zeros compressed), IPv4-mapped IPv6
// (::ffff:10.0.0.1, how a dual-stack listener records an IPv4 client) as the
// IPv4 address it is. Values that name no single host (unspecified,
// loopback) would match every device's events from a proxy on the same
// machine: they are dropped like the invalid ones, with a reason. Pure.
import { isIPv4, isIPv6 } from 'node:net';

export type IpResult = { ok: true; ip: string } | { ok: false; reason: string };

export function normaliseIp(value: string): IpResult {
  // "[2001:db8::1]" (URL form) and "fe80::1%en0" (zone id): the address is inside.
  const bare = value.trim().replace(/^\[(.*)\]$/, '$1').replace(/%[^%]*$/, '');
  let ip: string;
  if (isIPv4(bare)) ip = bare;
  else if (isIPv6(bare)) ip = ipv4Mapped(rfc5952(bare)) ?? rfc5952(bare);
  else return { ok: false, reason: `${JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)} is not an IP address` };
  if (ip === '0.0.0.0' || ip === '::' || ip === '::1' || ip.startsWith('127.')) return { ok: false, reason: `${ip} names no single host` };
  return { ok: true, ip };
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
