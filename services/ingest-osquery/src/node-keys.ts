// Node keys for osquery's TLS enrolment, with no state to keep: a key is the
// host identifier it was issued to plus an HMAC over it, so any instance
// (and a restarted one) can verify it, and rotating the secret makes every
// host enroll again. Pure.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function issueNodeKey(secret: string, hostIdentifier: string): string {
  const host = Buffer.from(hostIdentifier, 'utf8').toString('base64url');
  return `${host}.${mac(secret, host)}`;
}

/** The host a node key was issued to, or null when it was not issued with this secret. */
export function verifyNodeKey(secret: string, nodeKey: unknown): string | null {
  if (typeof nodeKey !== 'string' || nodeKey.length > 4096) return null;
  const dot = nodeKey.lastIndexOf('.');
  if (dot <= 0) return null;
  const host = nodeKey.slice(0, dot);
  const given = Buffer.from(nodeKey.slice(dot + 1), 'utf8');
  const expected = Buffer.from(mac(secret, host), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return Buffer.from(host, 'base64url').toString('utf8');
}

/** Constant-time comparison of a presented secret with the configured one. */
export function secretMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = createHmac('sha256', 'compare').update(expected).digest();
  const b = createHmac('sha256', 'compare').update(given).digest();
  return timingSafeEqual(a, b);
}

function mac(secret: string, host: string): string {
  return createHmac('sha256', secret).update(host).digest('base64url');
}
