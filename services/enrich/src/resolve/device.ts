// Resolves the device behind an event as of its time: an explicit device id,
// serial or hostname on the event first; else the device that held the
// event's source IP then (a fresh observation before a stale one), preferring
// the one assigned to the resolved person. A device reassigned later still
// reports the assignee of the event's time.
import { emailMatchKey, hostnameKeys, normaliseIp, normaliseSerial, type DeviceVersion, type PersonVersion, type SourceEndpoint } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { nonBlank } from '../store/normalise.ts';
import { CONFIDENCE, DEVICE_METHOD, IP_OBSERVATION_MAX_AGE_MS, LEASE_SOURCES, REASON, reason } from './policy.ts';
import { addressPersonId } from './person.ts';

export interface DeviceResolution {
  device: DeviceVersion | undefined;
  method: string;
  confidence: number;
  reasons: string[];
}

const DAY_MS = 86_400_000;

export interface DeviceHints {
  /** The event is a token used by an app (OAuth client): its address is the vendor's servers. */
  tokenUse?: boolean;
}

export function resolveDevice(view: IdentityView, src: SourceEndpoint, t: number, person: PersonVersion | undefined, hints: DeviceHints = {}): DeviceResolution {
  const reasons: string[] = [];
  /** `mine`: already known to be the person's (chosen as theirs). */
  const done = (device: DeviceVersion, method: string, confidence: number, mine = false): DeviceResolution => {
    if (!device.active) reasons.push(reason(REASON.deviceRetired, device.device_id));
    const assignee = device.assigned_person_id !== null || nonBlank(device.assigned_email) !== null;
    if (person && assignee && !mine && !assignedTo(view, device, person, t)) reasons.push(reason(REASON.deviceAssignedToAnotherPerson, device.device_id));
    return { device, method, confidence, reasons };
  };

  const deviceId = nonBlank(src.device_id)?.trim() ?? null;
  if (deviceId !== null) {
    const device = view.device(deviceId, t);
    if (device) return done(device, DEVICE_METHOD.deviceId, CONFIDENCE.device.deviceId);
    reasons.push(reason(REASON.deviceIdUnknown, deviceId));
  }
  const serial = normaliseSerial(src.device_serial);
  if (serial !== null) {
    const held = choose(view, view.deviceIdsBySerial(serial), t, person, (d) => normaliseSerial(d.serial) === serial);
    if (held.device) return done(held.device, DEVICE_METHOD.serial, CONFIDENCE.device.serial * held.factor, held.assigned);
    reasons.push(held.candidates > 1 ? reason(REASON.deviceSerialAmbiguous, `${serial} on ${held.candidates} device records`) : reason(REASON.deviceSerialUnknown, serial));
  }
  const hostnames = hostnameKeys(src.hostname);
  if (hostnames.length > 0) {
    const held = choose(view, view.deviceIdsByHostname(src.hostname!), t, person, (d) => hostnameKeys(d.hostname).some((h) => hostnames.includes(h)));
    if (held.device) return done(held.device, DEVICE_METHOD.hostname, CONFIDENCE.device.hostname * held.factor, held.assigned);
    reasons.push(reason(held.candidates > 1 ? REASON.deviceHostnameAmbiguous : REASON.deviceHostnameUnknown, src.hostname!.trim()));
  }
  let ip = src.ip === null ? null : normaliseIp(src.ip);
  if (src.ip !== null && ip === null && nonBlank(src.ip) !== null) reasons.push(reason(REASON.deviceIpInvalid, src.ip.trim()));
  if (ip !== null && hints.tokenUse) {
    // A company laptop that once held the same address (a shared NAT) must not be named as the app's servers.
    reasons.push(reason(REASON.deviceTokenUse, ip));
    ip = null;
  }
  if (ip !== null) {
    const fresh = (d: DeviceVersion) => LEASE_SOURCES.has(d.source.platform) || t - d.valid_from <= IP_OBSERVATION_MAX_AGE_MS;
    const held = choose(view, view.deviceIdsByIp(ip), t, person, (d) => d.ip_addresses.some((a) => a === ip || normaliseIp(a) === ip), fresh, addressEvidence);
    if (held.device) {
      let confidence = (held.assigned ? CONFIDENCE.device.ipAssignedToPerson : CONFIDENCE.device.ipSoleHolder) * held.factor;
      if (!fresh(held.device)) {
        confidence *= CONFIDENCE.device.ipStaleFactor;
        const days = Math.floor((t - held.device.valid_from) / DAY_MS);
        reasons.push(reason(REASON.deviceIpStale, `${ip} on ${held.device.device_id} observed ${days} days before the event`));
      }
      // The device as it stands at t (its assignee, MDM state), which may be another source's version than the address's.
      return done(view.device(held.device.device_id, t) ?? held.device, DEVICE_METHOD.ipObservation, confidence, held.assigned);
    }
    reasons.push(held.candidates > 1 ? reason(REASON.deviceIpAmbiguous, `${ip} held by ${held.candidates} devices`) : reason(REASON.deviceIpUnknown, ip));
  }
  if (deviceId === null && serial === null && hostnames.length === 0 && nonBlank(src.ip) === null) reasons.push(REASON.deviceNoHint);
  return { device: undefined, method: DEVICE_METHOD.unresolved, confidence: 0, reasons };
}

/**
 * The assignee as a person id at the event's time: the device's own, else the
 * directory person its assignee email named when this assignment was recorded
 * (a leaver whose record kept a reused address must not win over the person it
 * was reused for, nor the reverse; a person renamed since is still its holder).
 */
export function assigneeOf(view: IdentityView, device: DeviceVersion, t: number): string | null {
  if (device.assigned_person_id !== null) return device.assigned_person_id;
  return addressPersonId(view, device.assigned_email, Math.min(device.valid_from, t), t);
}

/** Whether the device was the person's at t: by the assignee of the time, not by today's owner of its assignee email. */
function assignedTo(view: IdentityView, device: DeviceVersion, person: PersonVersion, t: number): boolean {
  if (device.assigned_person_id !== null) return device.assigned_person_id === person.person_id;
  const email = nonBlank(device.assigned_email);
  if (email === null) return false;
  if (person.record_kind === 'directory') {
    // Cheap tests first (on a shared IP many devices are checked). The person carries
    // the address now and no other directory person ever did: theirs. Never carried
    // by them: not theirs. Otherwise (reused, renamed) ask who it named for this assignment.
    const emailIds = view.personIdsByAlias('email', email);
    const primary = person.email !== null && sameMailbox(person.email, email);
    if (primary && emailIds.every((id) => id === person.person_id || !isDirectory(view, id))) return true;
    if (!emailIds.includes(person.person_id) && !view.personIdsByAlias('upn', email).includes(person.person_id)) return false;
    return assigneeOf(view, device, t) === person.person_id;
  }
  // A platform account (no directory person): its own address is all there is to compare.
  return person.email !== null && sameMailbox(device.assigned_email!, person.email);
}

/** Two addresses with the same match key (plus tags aside); text that is no address matches nothing. */
function sameMailbox(a: string, b: string): boolean {
  const key = emailMatchKey(a);
  return key !== null && key === emailMatchKey(b);
}

function isDirectory(view: IdentityView, personId: string): boolean {
  return view.personHistory(personId)[0]?.record_kind === 'directory';
}

interface Choice {
  device: DeviceVersion | undefined;
  candidates: number;
  assigned: boolean;
  factor: number;
}

/**
 * Among the devices carrying a key at t: the one assigned to the person;
 * else the only one; several without a tie-breaker resolve to none. Where
 * observations age (IPs), fresh ones are preferred over stale ones, so an
 * address a device stopped reporting does not make a current one ambiguous.
 */
function choose(
  view: IdentityView, ids: readonly string[], t: number, person: PersonVersion | undefined,
  carries: (d: DeviceVersion) => boolean, fresh: (d: DeviceVersion) => boolean = () => true,
  versionsAt: (view: IdentityView, id: string, t: number) => readonly DeviceVersion[] = latestOnly,
): Choice {
  const holders: DeviceVersion[] = [];
  for (const id of ids) {
    // The newest of a device's versions (as of t) that carries the key: one per device.
    const d = versionsAt(view, id, t).filter(carries).reduce<DeviceVersion | undefined>((a, b) => (a === undefined || b.valid_from > a.valid_from ? b : a), undefined);
    if (d) holders.push(d);
  }
  if (holders.length === 0) return { device: undefined, candidates: 0, assigned: false, factor: 1 };
  if (person) {
    const mine = preferFresh(holders.filter((d) => assignedTo(view, d, person, t)), fresh);
    if (mine.length === 1) return { device: mine[0], candidates: holders.length, assigned: true, factor: 1 };
    if (mine.length > 1) return { device: newest(mine), candidates: holders.length, assigned: true, factor: CONFIDENCE.device.ambiguousFactor };
  }
  const pool = preferFresh(holders, fresh);
  if (pool.length === 1) return { device: pool[0], candidates: 1, assigned: false, factor: 1 };
  return { device: undefined, candidates: pool.length, assigned: false, factor: 1 };
}

function latestOnly(view: IdentityView, id: string, t: number): readonly DeviceVersion[] {
  const d = view.device(id, t);
  return d ? [d] : [];
}

/**
 * A device's latest version as of t from each source that wrote it. Several
 * sources describe one device (Fleet, Intune and osquery share the serial
 * key) and only some report addresses: an MDM version without addresses
 * written after a Fleet check-in says nothing about the address Fleet saw.
 */
function addressEvidence(view: IdentityView, id: string, t: number): readonly DeviceVersion[] {
  const bySource = new Map<string, DeviceVersion>();
  for (const v of view.deviceHistory(id)) {
    if (v.valid_from > t) break;
    bySource.set(v.source.platform, v);
  }
  return [...bySource.values()];
}

function preferFresh(devices: DeviceVersion[], fresh: (d: DeviceVersion) => boolean): DeviceVersion[] {
  if (devices.length < 2) return devices;
  const current = devices.filter(fresh);
  return current.length > 0 ? current : devices;
}

function newest(devices: readonly DeviceVersion[]): DeviceVersion {
  return devices.reduce((a, b) => (b.valid_from > a.valid_from ? b : a));
}
