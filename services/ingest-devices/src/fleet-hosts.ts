// Fleet host inventory (reference: sources-devices-and-ocsf §A2, §A5) to
// DeviceVersion. One host record is one observation of the device: its
// assignee, MDM state and the IPs it held. Pure; any JSON value in, a
// version or a typed error out, never a throw.
//
// valid_from is a time the record itself carries, never the import time, so
// an export imported twice gives the same keys and an older export imported
// after a newer one only fills in history before it: the latest of the last
// check-in (seen_time; updated_at when Fleet has none), the last enrolment,
// and the chosen end user's IdP record update. A laptop reassigned while
// offline keeps its old seen_time, but its new assignee is dated from the
// IdP update, so the new owner does not rewrite the old owner's version.
import { TetherError, tetherError } from '#errors';
import { normaliseEmail, normaliseSerial, type DeviceVersion } from '#schemas';
import { hostIp } from './ip.ts';
import { parseRfc3339, quoteValue as show } from '#source';

/** Go's zero time: Fleet writes it for a time it never recorded. */
const GO_ZERO_TIME = /^0001-01-01T00:00:00(?:\.0+)?Z$/;
/** A check-in later than this after the import is a forged or broken record (Fleet's server clock sets it). */
export const FUTURE_TOLERANCE_MS = 86_400_000;
const MAX_ID_CHARS = 128;
const MAX_HOSTNAME_CHARS = 255;
const MAX_TEXT_CHARS = 256;
/** Controls, format characters (zero-width, bidi overrides), line separators, and U+FFFD (bytes that were not UTF-8): never in an identifier. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/u;

export interface HostFacts {
  /** Fleet's own id (it changes on re-enrolment), as a number when it is one. */
  fleetId: number | null;
  uuid: string | null;
  /** Usable serial, upper-cased. */
  serial: string | null;
  lastEnrolledAt: number | null;
}

export type HostResult =
  | { ok: true; version: DeviceVersion; facts: HostFacts; notes: string[] }
  | { ok: false; error: TetherError };

interface FleetHost {
  id?: unknown;
  uuid?: unknown;
  hostname?: unknown;
  hardware_serial?: unknown;
  platform?: unknown;
  os_version?: unknown;
  primary_ip?: unknown;
  public_ip?: unknown;
  seen_time?: unknown;
  updated_at?: unknown;
  last_enrolled_at?: unknown;
  status?: unknown;
  mdm?: unknown;
  issues?: unknown;
  end_users?: unknown;
  device_mapping?: unknown;
}

export function normaliseFleetHost(record: unknown, ctx: { observedAt: number }): HostResult {
  try {
    const notes: string[] = [];
    const { version, facts } = toVersion(unwrap(record), ctx, notes);
    return { ok: true, version, facts, notes };
  } catch (err) {
    const error = TetherError.is(err) ? err : tetherError('TETHER_NORMALISE_INVALID', `host record not read: ${String(err)}`, { cause: err });
    return { ok: false, error };
  }
}

/** List responses hold `hosts[]`, the detail endpoint `{host: {...}}`. */
function unwrap(record: unknown): FleetHost {
  if (!isObject(record)) throw invalid('host record is not an object');
  const inner = record.host;
  return (isObject(inner) ? inner : record) as FleetHost;
}

function toVersion(host: FleetHost, ctx: { observedAt: number }, notes: string[]): { version: DeviceVersion; facts: HostFacts } {
  const serialText = identifier(host.hardware_serial, 'hardware_serial', MAX_ID_CHARS);
  const uuid = identifier(host.uuid, 'uuid', MAX_ID_CHARS)?.toUpperCase() ?? null;
  // Placeholder serials (§A5) are no key: #schemas normaliseSerial refuses them. The record keeps the serial as written.
  const serialKey = normaliseSerial(serialText);
  const serial = serialKey === null ? null : serialText;
  // Merge on serial, then on hardware UUID; never on hostname alone (§A5).
  const deviceId = serialKey ? `serial:${serialKey}` : uuid ? `uuid:${uuid}` : null;
  if (!deviceId) throw invalid('host has neither a usable hardware_serial nor a uuid');

  const seen = checkIn(host, ctx, notes);
  const owner = assignee(host, notes);
  const lastEnrolledAt = optionalTime(host.last_enrolled_at, 'last_enrolled_at', ctx, notes);
  const validFrom = Math.max(seen.ms, lastEnrolledAt ?? 0, owner.updatedAt === null ? 0 : (optionalTime(owner.updatedAt, 'idp_info_updated_at', ctx, notes) ?? 0));

  const enrollment = text(field(host.mdm, 'enrollment_status'), 'mdm.enrollment_status', MAX_TEXT_CHARS)?.toLowerCase() ?? '';
  const failing = count(field(host.issues, 'failing_policies_count'));
  const version: DeviceVersion = {
    device_id: deviceId,
    valid_from: validFrom,
    source: { platform: 'fleet', feed: 'hosts', source_time: seen.text, observed_at: ctx.observedAt },
    active: text(host.status, 'status', MAX_TEXT_CHARS)?.toLowerCase() !== 'missing',
    serial,
    hostname: identifier(host.hostname, 'hostname', MAX_HOSTNAME_CHARS),
    os: text(host.os_version, 'os_version', MAX_TEXT_CHARS) ?? text(host.platform, 'platform', MAX_TEXT_CHARS),
    managed: enrollment.startsWith('on'),
    compliant: failing === null ? null : failing === 0,
    assigned_person_id: null,
    assigned_email: owner.email,
    ip_addresses: addresses(host, notes),
  };
  const id = host.id;
  const fleetId = typeof id === 'number' && Number.isSafeInteger(id) ? id : typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : null;
  return { version, facts: { fleetId, uuid, serial: serialKey, lastEnrolledAt } };
}

/** seen_time, else updated_at (Fleet has no check-in yet): a time the record must have, and a sane one. */
function checkIn(host: FleetHost, ctx: { observedAt: number }, notes: string[]): { ms: number; text: string } {
  for (const column of ['seen_time', 'updated_at'] as const) {
    const value = timeText(host[column], column);
    if (value === null) continue;
    const result = sane(value, column, ctx);
    if (!result.ok) throw invalid(result.reason);
    if (column === 'updated_at') notes.push('no seen_time: dated by updated_at');
    return { ms: result.ms, text: value };
  }
  throw invalid('host has no seen_time (nor updated_at)');
}

function optionalTime(value: unknown, column: string, ctx: { observedAt: number }, notes: string[]): number | null {
  const written = timeText(value, column);
  if (written === null) return null;
  const result = sane(written, column, ctx);
  if (result.ok) return result.ms;
  notes.push(`${result.reason}: ignored`);
  return null;
}

function timeText(value: unknown, column: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`${column} is a ${typeof value}, not an RFC 3339 string`);
  const trimmed = value.trim();
  return trimmed === '' || GO_ZERO_TIME.test(trimmed) ? null : trimmed;
}

function sane(value: string, column: string, ctx: { observedAt: number }): { ok: true; ms: number } | { ok: false; reason: string } {
  const parsed = parseRfc3339(value);
  if (!parsed.ok) return { ok: false, reason: `${column} ${parsed.reason}` };
  if (parsed.ms < 0) return { ok: false, reason: `${column} ${show(value)} is before 1970` };
  if (parsed.ms > ctx.observedAt + FUTURE_TOLERANCE_MS) {
    return { ok: false, reason: `${column} ${show(value)} is after the import (${new Date(ctx.observedAt).toISOString()})` };
  }
  return parsed;
}

/**
 * The IdP end user is the owner; an MDM or admin-set mapping next. A Chrome
 * profile email may be personal: seen on the device, not its owner (§A2.3).
 * Entries that are not addresses are skipped (with a note), not trusted.
 */
function assignee(host: FleetHost, notes: string[]): { email: string | null; updatedAt: unknown } {
  for (const user of list(host.end_users)) {
    const login = address(field(user, 'idp_username'), 'end_users[].idp_username', notes);
    if (login !== null) return { email: login, updatedAt: field(user, 'idp_info_updated_at') };
  }
  const mappings = list(host.device_mapping);
  for (const source of ['mdm_idp_accounts', 'custom_override', 'custom_installer', 'custom']) {
    for (const m of mappings) {
      if (field(m, 'source') !== source) continue;
      const email = address(field(m, 'email'), `device_mapping[${source}].email`, notes);
      if (email !== null) return { email, updatedAt: null };
    }
  }
  return { email: null, updatedAt: null };
}

/** An address as #schemas normaliseEmail writes it (trimmed, NFC, lower-cased), or null when it is none; a login without '@' is not one. */
function address(value: unknown, what: string, notes: string[]): string | null {
  if (typeof value !== 'string' || value.trim() === '' || !value.includes('@')) return null;
  const email = normaliseEmail(value);
  if (email === null || email.length > 254 || INVISIBLE.test(email) || /\s/.test(email) || email.indexOf('@') !== email.lastIndexOf('@') || email.startsWith('@') || email.endsWith('@')) {
    notes.push(`${what} ${show(value)} is not an address: skipped`);
    return null;
  }
  return email;
}

/** primary_ip and public_ip; a list (array, or text split by commas or spaces) is read too. */
function addresses(host: FleetHost, notes: string[]): string[] {
  const out = new Set<string>();
  for (const column of ['primary_ip', 'public_ip'] as const) {
    const value = host[column];
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (typeof item !== 'string') {
        if (item !== null && item !== undefined) notes.push(`${column} holds a ${typeof item}: skipped`);
        continue;
      }
      for (const part of item.split(/[\s,;]+/).filter(Boolean)) {
        const ip = hostIp(part);
        if (ip.ok) out.add(ip.ip);
        else notes.push(`${column} ${ip.reason}: dropped`);
      }
    }
  }
  return [...out];
}

/** Text as written (trimmed), or null; numbers are taken as their text (a serial exported as a number). */
function text(value: unknown, what: string, max: number): string | null {
  const s = typeof value === 'string' ? value.trim() : typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
  if (s === '') return null;
  if (s.length > max) throw tetherError('TETHER_RECORD_TOO_LARGE', `${what} is ${s.length} characters long; at most ${max} are kept`);
  return s;
}

/** Text that names something (a serial, a host): no control or invisible characters. */
function identifier(value: unknown, what: string, max: number): string | null {
  const s = text(value, what, max);
  if (s !== null && INVISIBLE.test(s)) throw invalid(`${what} ${show(s)} holds a control, invisible or replacement character`);
  return s;
}

/** A non-negative integer, also when written as a string ("2"). */
function count(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function field(value: unknown, key: string): unknown {
  return isObject(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message);
}
