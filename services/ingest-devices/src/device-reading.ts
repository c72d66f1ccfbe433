// What one MDM record (a Fleet host, an Intune managedDevice, a Jamf
// computer) says about a device, with the times the record gives for each
// fact (reference §A5): when it was enrolled, from when its assignee holds,
// and when it reported its state and addresses. The sources' readers make
// these; device-history.ts turns them into DeviceVersions over time. Pure.
import { normaliseSerial } from '#schemas';
import type { Stamp } from './fields.ts';

/** The state a device reported at one time, with the addresses it held then. */
export interface Observation {
  at: Stamp;
  ips: string[];
}

export interface DeviceReading {
  platform: string;
  /** The MDM's own id of this record: one per enrolment (a re-enrolment is a new one). */
  recordId: string;
  /** `serial:<SERIAL>` (the key the sources meet on), else a hardware or source key. */
  deviceId: string;
  /** As the record wrote it; null for none or a placeholder. */
  serial: string | null;
  hostname: string | null;
  os: string | null;
  managed: boolean;
  compliant: boolean | null;
  active: boolean;
  assignedEmail: string | null;
  /** Start of this enrolment. */
  enrolledAt: Stamp | null;
  /** From when the assignee holds, when the record says (Fleet's IdP end user update). */
  assignedAt: Stamp | null;
  /** Check-ins and reports, each with what it saw; at least one. */
  observations: Observation[];
}

/**
 * The device key (§A5: merge on serial, then on hardware UUID, never on
 * hostname): `serial:<SERIAL>` for a usable serial (placeholders are none),
 * else the fallback (`uuid:<UUID>`, or `<platform>:<record id>`).
 */
export function deviceKey(serialText: string | null, fallback: string): { deviceId: string; serial: string | null; serialKey: string | null } {
  const serialKey = normaliseSerial(serialText);
  return serialKey === null ? { deviceId: fallback, serial: null, serialKey } : { deviceId: `serial:${serialKey}`, serial: serialText, serialKey };
}

/** The latest time a reading gives. */
export function latestOf(reading: DeviceReading): Stamp {
  return [reading.enrolledAt, reading.assignedAt, ...reading.observations.map((o) => o.at)].reduce<Stamp>(
    (a, b) => (b !== null && b.ms > a.ms ? b : a),
    reading.observations[0]!.at,
  );
}

/** The latest check-in or report. */
export function lastObservation(reading: DeviceReading): Observation {
  return reading.observations.reduce((a, b) => (b.at.ms > a.at.ms ? b : a));
}
