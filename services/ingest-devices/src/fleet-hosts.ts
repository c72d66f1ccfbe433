// Fleet host inventory (reference: sources-devices-and-ocsf §A2, §A5) to
// DeviceVersion. One host record is one observation of the device as of its
// `seen_time`: its assignee, MDM state and the IPs it held. Pure.
import { tetherError, type TetherError } from '#errors';
import type { DeviceVersion } from '#schemas';

/** Serials that vendors and VMs report when there is none: never a device key. */
const PLACEHOLDER_SERIALS = new Set(['', '0', 'none', 'n/a', 'na', 'unknown', 'default string', 'to be filled by o.e.m.', 'system serial number', '0123456789']);

export type HostResult = { ok: true; version: DeviceVersion } | { ok: false; error: TetherError };

interface FleetHost {
  id?: unknown;
  uuid?: unknown;
  hostname?: unknown;
  computer_name?: unknown;
  hardware_serial?: unknown;
  platform?: unknown;
  os_version?: unknown;
  primary_ip?: unknown;
  public_ip?: unknown;
  seen_time?: unknown;
  updated_at?: unknown;
  status?: unknown;
  mdm?: { enrollment_status?: unknown } | null;
  issues?: { failing_policies_count?: unknown } | null;
  end_users?: { idp_username?: unknown; idp_id?: unknown }[] | null;
  device_mapping?: { email?: unknown; source?: unknown }[] | null;
}

export function normaliseFleetHost(record: unknown, ctx: { observedAt: number }): HostResult {
  try {
    return { ok: true, version: toVersion(unwrap(record), ctx) };
  } catch (err) {
    return { ok: false, error: err as TetherError };
  }
}

/** List responses hold `hosts[]`, the detail endpoint `{host: {...}}`. */
function unwrap(record: unknown): FleetHost {
  if (!record || typeof record !== 'object' || Array.isArray(record)) throw invalid('host record is not an object');
  const inner = (record as { host?: unknown }).host;
  return (inner && typeof inner === 'object' ? inner : record) as FleetHost;
}

function toVersion(host: FleetHost, ctx: { observedAt: number }): DeviceVersion {
  const serial = text(host.hardware_serial);
  const uuid = text(host.uuid);
  const usableSerial = serial && !PLACEHOLDER_SERIALS.has(serial.toLowerCase()) ? serial : null;
  // Merge on serial, then on hardware UUID; never on hostname alone (§A5).
  const deviceId = usableSerial ? `serial:${usableSerial.toUpperCase()}` : uuid ? `uuid:${uuid.toUpperCase()}` : null;
  if (!deviceId) throw invalid('host has neither a usable hardware_serial nor a uuid');
  const seen = text(host.seen_time) ?? text(host.updated_at);
  if (!seen) throw invalid('host has no seen_time');
  const validFrom = Date.parse(seen);
  if (Number.isNaN(validFrom)) throw invalid(`seen_time ${JSON.stringify(seen)} is not RFC 3339`);

  const enrollment = text(host.mdm?.enrollment_status)?.toLowerCase() ?? '';
  const failing = host.issues?.failing_policies_count;
  return {
    device_id: deviceId,
    valid_from: validFrom,
    source: { platform: 'fleet', feed: 'hosts', source_time: seen, observed_at: ctx.observedAt },
    active: text(host.status)?.toLowerCase() !== 'missing',
    serial: usableSerial,
    hostname: text(host.hostname),
    os: text(host.os_version) ?? text(host.platform),
    managed: enrollment.startsWith('on'),
    compliant: typeof failing === 'number' ? failing === 0 : null,
    assigned_person_id: null,
    assigned_email: assignee(host),
    ip_addresses: [...new Set([text(host.primary_ip), text(host.public_ip)].filter((ip): ip is string => ip !== null))],
  };
}

/**
 * The IdP end user is the owner; an MDM or admin-set mapping next. A Chrome
 * profile email may be personal: seen on the device, not its owner (§A2.3).
 */
function assignee(host: FleetHost): string | null {
  for (const user of host.end_users ?? []) {
    const login = text(user.idp_username);
    if (login?.includes('@')) return login.toLowerCase();
  }
  for (const source of ['mdm_idp_accounts', 'custom_override', 'custom_installer', 'custom']) {
    const hit = (host.device_mapping ?? []).find((m) => m.source === source && text(m.email));
    if (hit) return text(hit.email)!.toLowerCase();
  }
  return null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

function invalid(message: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message);
}
