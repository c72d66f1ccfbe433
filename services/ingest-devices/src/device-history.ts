// MDM records to DeviceVersions over time, dated by the times the records
// give (reference §A5), not by when Tether happened to list them. Each MDM
// record (one enrolment) is an inventory entity; a change of it becomes the
// versions of its device at the times the change names:
//
// - first sight: a version at the enrolment, at the assignee's own time and
//   at each check-in, so an event from before the listing finds the device
//   (and its assignee) that held then;
// - a later change: versions only at the times newer than any the record
//   gave before (history already written is never rewritten); a change the
//   record gives no new time for (an admin's mapping, a server-side
//   compliance change) is dated at the listing that saw it;
// - before the assignee's own time the previous assignee holds (none on
//   first sight): a laptop reassigned while offline keeps its old owner
//   until the reassignment;
// - addresses are only carried from a check-in that saw them, and not past a
//   later enrolment or assignment (the device was not seen since);
// - a record that disappears (retired, or replaced by a re-enrolment's new
//   record) ends just after the last time it gave, so the new enrolment of
//   the same serial is not marked retired.
//
// A device holding addresses is observed again on each new day it checks
// in: the enricher trusts an address observation for days, not months. Pure.
import { versionKey, type DeviceVersion } from '#schemas';
import type { EntityChange, InventoryEntity, OutRecord } from '#source';
import { lastObservation, latestOf, type DeviceReading, type Observation } from './device-reading.ts';
import type { Stamp } from './fields.ts';

const DAY_MS = 86_400_000;

export function deviceEntity(reading: DeviceReading): InventoryEntity<DeviceReading> {
  const { deviceId, serial, hostname, os, managed, compliant, active, assignedEmail } = reading;
  const ips = allIps(reading.observations);
  const last = lastObservation(reading).at.ms;
  return {
    id: `${reading.platform}:${reading.recordId}`,
    content: reading,
    tracked: {
      deviceId, serial, hostname, os, managed, compliant, active, assignedEmail, ips,
      enrolledAt: reading.enrolledAt?.ms ?? null,
      assignedAt: reading.assignedAt?.ms ?? null,
      observedDay: ips.length > 0 ? Math.floor(last / DAY_MS) : null,
      // A check-in after the latest enrolment or assignment shows the addresses again.
      observedSinceFacts: last >= Math.max(reading.enrolledAt?.ms ?? 0, reading.assignedAt?.ms ?? 0),
    },
    createdAt: null,
  };
}

/** The DeviceVersion records one change of an MDM record makes (the inventory's `emit`). */
export function deviceVersionRecords(change: EntityChange<DeviceReading>, feed: string): OutRecord[] {
  return deviceVersions(change, feed).map((value) => ({ role: 'identityDevices', key: versionKey(value.device_id, value.valid_from), value }));
}

interface Point {
  at: number;
  stamp: Stamp | null;
  observation: boolean;
  /** Dated at the listing: the record gave no new time for the change. */
  listing: boolean;
}

export function deviceVersions(change: EntityChange<DeviceReading>, feed: string): DeviceVersion[] {
  const r = change.current;
  const bound = change.observedAt;
  // Times a little after the listing (clock skew) are read as the listing's; far-future ones were refused by the reader.
  const clamp = (ms: number) => Math.min(ms, bound);
  if (change.kind === 'gone') return [ended(r, clamp(latestOf(r).ms) + 1, feed, bound)];

  const prev = change.previous;
  const moved = prev !== null && prev.deviceId !== r.deviceId;
  const prevLatest = prev === null || moved ? Number.NEGATIVE_INFINITY : clamp(latestOf(prev).ms);
  const points = new Map<number, Point>();
  for (const fact of [r.enrolledAt, r.assignedAt]) {
    if (fact !== null && !points.has(clamp(fact.ms))) points.set(clamp(fact.ms), { at: clamp(fact.ms), stamp: fact, observation: false, listing: false });
  }
  // A check-in at the same time as an enrolment is the same point, with its addresses.
  for (const o of r.observations) points.set(clamp(o.at.ms), { at: clamp(o.at.ms), stamp: o.at, observation: true, listing: false });
  let chosen = [...points.values()].filter((p) => p.at > prevLatest).sort((a, b) => a.at - b.at);
  if (chosen.length === 0) chosen = [{ at: Math.max(change.validFrom, prevLatest + 1), stamp: null, observation: false, listing: true }];

  const factTimes = [r.enrolledAt, r.assignedAt].flatMap((s) => (s === null ? [] : [clamp(s.ms)]));
  const assignedFrom = r.assignedAt === null ? null : clamp(r.assignedAt.ms);
  const versions = chosen.map((p): DeviceVersion => {
    const assignee = assignedFrom === null || p.at >= assignedFrom ? r.assignedEmail : (prev?.assignedEmail ?? null);
    return version(r, p.at, p.stamp, { assignee, ips: p.listing ? allIps(r.observations) : ipsAt(r.observations, factTimes, p.at, clamp) }, feed, bound);
  });
  // A record whose device key changed (its serial became known) ends the device it was keyed as.
  if (moved) versions.unshift(ended(prev, clamp(latestOf(prev).ms) + 1, feed, bound));
  return versions;
}

/** The addresses seen by `at`, unless an enrolment or assignment came after the check-in that saw them. */
function ipsAt(observations: readonly Observation[], factTimes: readonly number[], at: number, clamp: (ms: number) => number): string[] {
  const seen = observations.filter((o) => clamp(o.at.ms) <= at);
  if (seen.length === 0) return [];
  const lastSeen = Math.max(...seen.map((o) => clamp(o.at.ms)));
  if (factTimes.some((f) => f > lastSeen && f <= at)) return [];
  return allIps(seen);
}

function allIps(observations: readonly Observation[]): string[] {
  return [...new Set(observations.flatMap((o) => o.ips))].sort();
}

function ended(r: DeviceReading, at: number, feed: string, observedAt: number): DeviceVersion {
  return { ...version(r, at, null, { assignee: r.assignedEmail, ips: [] }, feed, observedAt), active: false };
}

function version(r: DeviceReading, at: number, stamp: Stamp | null, held: { assignee: string | null; ips: string[] }, feed: string, observedAt: number): DeviceVersion {
  return {
    device_id: r.deviceId,
    valid_from: at,
    source: { platform: r.platform, feed, source_time: stamp?.text ?? null, observed_at: observedAt },
    active: r.active,
    serial: r.serial,
    hostname: r.hostname,
    os: r.os,
    managed: r.managed,
    compliant: r.compliant,
    assigned_person_id: null,
    assigned_email: held.assignee,
    ip_addresses: held.ips,
  };
}
