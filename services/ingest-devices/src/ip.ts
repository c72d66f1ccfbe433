// Which addresses a host record may carry: any IP in the one text form the
// enricher compares (#schemas normaliseIp: RFC 5952, IPv4-mapped IPv6 as
// IPv4), except those that name no single host (unspecified, loopback),
// which would match every device's events from a proxy on the same machine:
// they are dropped like the invalid ones, with a reason. Pure.
import { normaliseIp } from '#schemas';

export type IpResult = { ok: true; ip: string } | { ok: false; reason: string };

export function hostIp(value: string): IpResult {
  const ip = normaliseIp(value);
  if (ip === null) return { ok: false, reason: `${JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)} is not an IP address` };
  if (ip === '0.0.0.0' || ip === '::' || ip === '::1' || ip.startsWith('127.')) return { ok: false, reason: `${ip} names no single host` };
  return { ok: true, ip };
}
