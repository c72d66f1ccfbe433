// How catalogue keys compare: client ids per provider, CIDR text.
import { isIPv4, isIPv6 } from 'node:net';

/** Entra app ids are GUIDs, compared without case; other providers' ids are case-sensitive. */
export function clientKey(provider: string, clientId: string): string {
  const id = clientId.trim();
  return provider === 'entra' ? id.toLowerCase() : id;
}

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

export function parseCidr(text: string): Cidr | null {
  const [address = '', prefixText, ...more] = text.trim().split('/');
  if (more.length > 0) return null;
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
  if (family === null) return null;
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return null;
  return { address, prefix: Number(prefixText), family };
}
