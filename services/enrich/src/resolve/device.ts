// Resolves the device behind an event as of its time: an explicit device id,
// serial or hostname on the event first; else the device that held the
// event's source IP then, preferring the one assigned to the resolved person.
// A device reassigned later still reports the assignee of the event's time.
import type { DeviceVersion, PersonVersion, SourceEndpoint } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { hostnameKeys, normaliseEmail, normaliseIp, normaliseSerial } from '../store/normalise.ts';
import { CONFIDENCE, DEVICE_METHOD, REASON, reason } from './policy.ts';
import { holderBetween } from './person.ts';

export interface DeviceResolution {
  device: DeviceVersion | undefined;
  method: string;
  confidence: number;
  reasons: string[];
}

export function resolveDevice(view: IdentityView, src: SourceEndpoint, t: number, person: PersonVersion | undefined): DeviceResolution {
  const reasons: string[] = [];
  const done = (device: DeviceVersion, method: string, confidence: number): DeviceResolution => {
    if (!device.active) reasons.push(reason(REASON.deviceRetired, device.device_id));
    const assignee = device.assigned_person_id !== null || device.assigned_email !== null;
    if (person && assignee && !assignedTo(device, person)) reasons.push(reason(REASON.deviceAssignedToAnotherPerson, device.device_id));
    return { device, method, confidence, reasons };
  };

  if (src.device_id) {
    const device = view.device(src.device_id.trim(), t);
    if (device) return done(device, DEVICE_METHOD.deviceId, CONFIDENCE.device.deviceId);
    reasons.push(reason(REASON.deviceIdUnknown, src.device_id));
  }
  const serial = normaliseSerial(src.device_serial);
  if (serial !== null) {
    const held = choose(view, view.deviceIdsBySerial(serial), t, person, (d) => normaliseSerial(d.serial) === serial);
    if (held.device) return done(held.device, DEVICE_METHOD.serial, CONFIDENCE.device.serial * held.factor);
    reasons.push(reason(REASON.deviceSerialUnknown, serial));
  }
  if (src.hostname && hostnameKeys(src.hostname).length > 0) {
    const wanted = hostnameKeys(src.hostname);
    const held = choose(view, view.deviceIdsByHostname(src.hostname), t, person, (d) => hostnameKeys(d.hostname).some((h) => wanted.includes(h)));
    if (held.device) return done(held.device, DEVICE_METHOD.hostname, CONFIDENCE.device.hostname * held.factor);
    reasons.push(reason(held.candidates > 1 ? REASON.deviceHostnameAmbiguous : REASON.deviceHostnameUnknown, src.hostname));
  }
  if (src.ip && src.ip.trim() !== '') {
    const ip = normaliseIp(src.ip);
    const held = choose(view, view.deviceIdsByIp(ip), t, person, (d) => d.ip_addresses.some((a) => normaliseIp(a) === ip));
    if (held.device) {
      const confidence = (held.assigned ? CONFIDENCE.device.ipAssignedToPerson : CONFIDENCE.device.ipSoleHolder) * held.factor;
      return done(held.device, DEVICE_METHOD.ipObservation, confidence);
    }
    reasons.push(held.candidates > 1 ? reason(REASON.deviceIpAmbiguous, `${ip} held by ${held.candidates} devices`) : reason(REASON.deviceIpUnknown, ip));
  }
  if (!src.device_id && serial === null && !src.hostname && !src.ip) reasons.push(REASON.deviceNoHint);
  return { device: undefined, method: DEVICE_METHOD.unresolved, confidence: 0, reasons };
}

/** The assignee as a person id at the event's time: the device's own, else its assignee email's directory person. */
export function assigneeOf(view: IdentityView, device: DeviceVersion, t: number): string | null {
  if (device.assigned_person_id !== null) return device.assigned_person_id;
  if (device.assigned_email === null) return null;
  // The email names whoever held it when this assignment was recorded: a leaver whose
  // record kept the address must not win over the person it was reused for, nor the reverse.
  return holderBetween(view, 'email', device.assigned_email, Math.min(device.valid_from, t), t)?.id ?? null;
}

function assignedTo(device: DeviceVersion, person: PersonVersion): boolean {
  if (device.assigned_person_id !== null && device.assigned_person_id === person.person_id) return true;
  return device.assigned_email !== null && person.email !== null && normaliseEmail(device.assigned_email) === normaliseEmail(person.email);
}

/**
 * Among the devices carrying a key at t: the one assigned to the person;
 * else the only one; several without a tie-breaker resolve to none.
 */
function choose(
  view: IdentityView, ids: readonly string[], t: number, person: PersonVersion | undefined, carries: (d: DeviceVersion) => boolean,
): { device: DeviceVersion | undefined; candidates: number; assigned: boolean; factor: number } {
  const holders: DeviceVersion[] = [];
  for (const id of ids) {
    const d = view.device(id, t);
    if (d && carries(d)) holders.push(d);
  }
  if (holders.length === 0) return { device: undefined, candidates: 0, assigned: false, factor: 1 };
  if (person) {
    const mine = holders.filter((d) => assignedTo(d, person));
    if (mine.length === 1) return { device: mine[0], candidates: holders.length, assigned: true, factor: 1 };
    if (mine.length > 1) return { device: newest(mine), candidates: holders.length, assigned: true, factor: CONFIDENCE.device.ambiguousFactor };
  }
  if (holders.length === 1) return { device: holders[0], candidates: 1, assigned: false, factor: 1 };
  return { device: undefined, candidates: holders.length, assigned: false, factor: 1 };
}

function newest(devices: readonly DeviceVersion[]): DeviceVersion {
  return devices.reduce((a, b) => (b.valid_from > a.valid_from ? b : a));
}
