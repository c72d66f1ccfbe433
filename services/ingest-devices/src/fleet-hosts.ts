// Fleet host inventory (reference: sources-devices-and-ocsf §A2, §A5). One
// host record is one observation of the device: its assignee, MDM state and
// the IPs it held, each with the time the record gives for it. Pure; any
// JSON value in, a reading or a typed error out, never a throw.
//
// `readFleetHost` is what the Fleet source (sources/fleet) versions over
// time (device-history.ts). `normaliseFleetHost` is the export import's one
// version per host: valid_from is a time the record itself carries, never
// the import time, so an export imported twice gives the same keys and an
// older export imported after a newer one only fills in history before it:
// the latest of the last check-in (seen_time; updated_at when Fleet has
// none), the last enrolment, and the chosen end user's IdP record update. A
// laptop reassigned while offline keeps its old seen_time, but its new
// assignee is dated from the IdP update, so the new owner does not rewrite
// the old owner's version.
import type { TetherError } from '#errors';
import type { DeviceVersion } from '#schemas';
import { deviceKey, type DeviceReading } from './device-reading.ts';
import {
  MAX_HOSTNAME_CHARS, address, count, field, guardedRead, identifier, invalid, ipAddresses, isObject, list, observedTime, optionalTime, text,
  type ReadContext, type Stamp,
} from './fields.ts';

export { FUTURE_TOLERANCE_MS, type ReadContext } from './fields.ts';

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

export type HostReading = { ok: true; reading: DeviceReading; facts: HostFacts; notes: string[] } | { ok: false; error: TetherError };

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
  const read = readFleetHost(record, ctx);
  if (!read.ok) return read;
  const { reading, facts, notes } = read;
  const checkIn = reading.observations[0]!.at;
  const version: DeviceVersion = {
    device_id: reading.deviceId,
    valid_from: Math.max(checkIn.ms, reading.enrolledAt?.ms ?? 0, reading.assignedAt?.ms ?? 0),
    source: { platform: 'fleet', feed: 'hosts', source_time: checkIn.text, observed_at: ctx.observedAt },
    active: reading.active,
    serial: reading.serial,
    hostname: reading.hostname,
    os: reading.os,
    managed: reading.managed,
    compliant: reading.compliant,
    assigned_person_id: null,
    assigned_email: reading.assignedEmail,
    ip_addresses: reading.observations[0]!.ips,
  };
  return { ok: true, version, facts, notes };
}

export function readFleetHost(record: unknown, ctx: ReadContext): HostReading {
  return guardedRead('host record', (notes) => toReading(unwrap(record), ctx, notes));
}

/** List responses hold `hosts[]`, the detail endpoint `{host: {...}}`. */
function unwrap(record: unknown): FleetHost {
  if (!isObject(record)) throw invalid('host record is not an object');
  const inner = record.host;
  return (isObject(inner) ? inner : record) as FleetHost;
}

function toReading(host: FleetHost, ctx: ReadContext, notes: string[]): { reading: DeviceReading; facts: HostFacts } {
  const serialText = identifier(host.hardware_serial, 'hardware_serial');
  const uuid = identifier(host.uuid, 'uuid')?.toUpperCase() ?? null;
  // Placeholder serials (§A5) are no key; the record keeps the serial as written.
  const key = deviceKey(serialText, uuid ? `uuid:${uuid}` : '');
  if (!key.deviceId) throw invalid('host has neither a usable hardware_serial nor a uuid');

  const seen = checkIn(host, ctx, notes);
  const owner = assignee(host, notes);
  const enrolledAt = optionalTime(host.last_enrolled_at, 'last_enrolled_at', ctx, notes);
  const assignedAt = owner.updatedAt === undefined ? null : optionalTime(owner.updatedAt, 'idp_info_updated_at', ctx, notes);

  const enrollment = text(field(host.mdm, 'enrollment_status'), 'mdm.enrollment_status')?.toLowerCase() ?? '';
  const failing = count(field(host.issues, 'failing_policies_count'));
  const id = host.id;
  const fleetId = typeof id === 'number' && Number.isSafeInteger(id) ? id : typeof id === 'string' && /^\d{1,15}$/.test(id) ? Number(id) : null;
  const reading: DeviceReading = {
    platform: 'fleet',
    recordId: fleetId === null ? key.deviceId : String(fleetId),
    deviceId: key.deviceId,
    serial: key.serial,
    hostname: identifier(host.hostname, 'hostname', MAX_HOSTNAME_CHARS),
    os: text(host.os_version, 'os_version') ?? text(host.platform, 'platform'),
    managed: enrollment.startsWith('on'),
    compliant: failing === null ? null : failing === 0,
    active: text(host.status, 'status')?.toLowerCase() !== 'missing',
    assignedEmail: owner.email,
    enrolledAt,
    assignedAt,
    observations: [{ at: seen, ips: ipAddresses([['primary_ip', host.primary_ip], ['public_ip', host.public_ip]], notes) }],
  };
  return { reading, facts: { fleetId, uuid, serial: key.serialKey, lastEnrolledAt: enrolledAt?.ms ?? null } };
}

/** seen_time, else updated_at (Fleet has no check-in yet): a time the record must have, and a sane one. */
function checkIn(host: FleetHost, ctx: ReadContext, notes: string[]): Stamp {
  for (const column of ['seen_time', 'updated_at'] as const) {
    const value = observedTime(host[column], column, ctx);
    if (value === null) continue;
    if (column === 'updated_at') notes.push('no seen_time: dated by updated_at');
    return value;
  }
  throw invalid('host has no seen_time (nor updated_at)');
}

/**
 * The IdP end user is the owner (dated by its IdP record update); an MDM or
 * admin-set mapping next (Fleet gives it no time). A Chrome profile email
 * may be personal: seen on the device, not its owner (§A2.3). Entries that
 * are not addresses are skipped (with a note), not trusted.
 */
function assignee(host: FleetHost, notes: string[]): { email: string | null; updatedAt: unknown } {
  for (const user of list(host.end_users)) {
    const login = address(field(user, 'idp_username'), 'end_users[].idp_username', notes);
    if (login !== null) return { email: login, updatedAt: field(user, 'idp_info_updated_at') ?? null };
  }
  const mappings = list(host.device_mapping);
  for (const source of ['mdm_idp_accounts', 'custom_override', 'custom_installer', 'custom']) {
    for (const m of mappings) {
      if (field(m, 'source') !== source) continue;
      const email = address(field(m, 'email'), `device_mapping[${source}].email`, notes);
      if (email !== null) return { email, updatedAt: undefined };
    }
  }
  return { email: null, updatedAt: undefined };
}
