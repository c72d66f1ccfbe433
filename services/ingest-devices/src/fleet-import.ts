// The checks one Fleet export needs as a whole, after each host was read on
// its own. Answers depend on the set of hosts, never on their order. Pure.
//
// - A host without a usable serial whose uuid another host of the same
//   export lists with one serial is that device: keyed by the serial (§A5:
//   merge on serial, then on hardware UUID).
// - Two hosts giving one device different versions at the same valid_from
//   (a re-enrolled machine listed twice, a cloned VM): the current enrolment
//   wins (later last_enrolled_at, then the higher Fleet id, then the bytes
//   that sort first), the other goes to the DLQ. Identical versions are one
//   observation listed twice: both kept.
// - One serial on hosts with different uuids (a clone, or a re-imaged
//   machine) is kept under the serial (§A5) and reported.
import { tetherError, type TetherError } from '#errors';
import type { DeviceVersion } from '#schemas';
import { normaliseFleetHost, type HostFacts } from './fleet-hosts.ts';

export interface HostInput {
  raw: Buffer;
  value?: unknown;
  /** Set when the record could not even be parsed. */
  error?: TetherError;
}

export type HostRow =
  | { ok: true; raw: Buffer; version: DeviceVersion }
  | { ok: false; raw: Buffer; stage: 'parsing' | 'normalising'; error: TetherError };

export interface HostNote {
  /** Index of the host in the export. */
  index: number;
  device_id: string | null;
  message: string;
}

export interface HostsImport {
  rows: HostRow[];
  notes: HostNote[];
}

interface Read {
  index: number;
  raw: Buffer;
  version: DeviceVersion;
  facts: HostFacts;
}

export function normaliseFleetHosts(inputs: readonly HostInput[], ctx: { observedAt: number }): HostsImport {
  const notes: HostNote[] = [];
  const slots: (HostRow | Read)[] = inputs.map((input, index): HostRow | Read => {
    if (input.error) return { ok: false, raw: input.raw, stage: 'parsing', error: input.error };
    const result = normaliseFleetHost(input.value, ctx);
    if (!result.ok) {
      return { ok: false, raw: input.raw, stage: 'normalising', error: tetherError(result.error.code, `host ${index}: ${result.error.message}`, { cause: result.error }) };
    }
    for (const message of result.notes) notes.push({ index, device_id: result.version.device_id, message });
    return { index, raw: input.raw, version: result.version, facts: result.facts };
  });
  const read = slots.filter((s): s is Read => !('ok' in s));
  mergeByUuid(read, notes);
  reportSharedSerials(read, notes);
  const losers = settleDuplicates(read);
  const rows = slots.map((s): HostRow => {
    if ('ok' in s) return s;
    const lost = losers.get(s);
    return lost ? { ok: false, raw: s.raw, stage: 'normalising', error: lost } : { ok: true, raw: s.raw, version: s.version };
  });
  return { rows, notes };
}

function mergeByUuid(read: Read[], notes: HostNote[]): void {
  const serialsByUuid = new Map<string, Set<string>>();
  for (const r of read) {
    if (r.facts.uuid === null || r.facts.serial === null) continue;
    const set = serialsByUuid.get(r.facts.uuid) ?? new Set();
    set.add(r.facts.serial);
    serialsByUuid.set(r.facts.uuid, set);
  }
  for (const r of read) {
    if (r.facts.serial !== null || r.facts.uuid === null) continue;
    const serials = serialsByUuid.get(r.facts.uuid);
    if (serials?.size !== 1) continue;
    const [serial] = serials;
    r.version = { ...r.version, device_id: `serial:${serial}` };
    notes.push({ index: r.index, device_id: r.version.device_id, message: `no usable serial; uuid ${r.facts.uuid} is listed with serial ${serial} in this export: keyed by it` });
  }
}

function reportSharedSerials(read: Read[], notes: HostNote[]): void {
  const uuidsBySerial = new Map<string, Map<string, number>>();
  for (const r of read) {
    if (r.facts.serial === null || r.facts.uuid === null) continue;
    const uuids = uuidsBySerial.get(r.facts.serial) ?? new Map<string, number>();
    if (!uuids.has(r.facts.uuid)) uuids.set(r.facts.uuid, r.index);
    uuidsBySerial.set(r.facts.serial, uuids);
  }
  for (const [serial, uuids] of uuidsBySerial) {
    if (uuids.size < 2) continue;
    const hosts = [...uuids.values()].sort((a, b) => a - b);
    notes.push({ index: hosts[0]!, device_id: `serial:${serial}`, message: `serial ${serial} is reported by ${uuids.size} hosts with different uuids (hosts ${hosts.join(', ')}): a clone or a re-imaged machine, kept as one device` });
  }
}

function settleDuplicates(read: Read[]): Map<Read, TetherError> {
  const groups = new Map<string, Read[]>();
  for (const r of read) {
    const key = `${r.version.device_id}@${r.version.valid_from}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  const losers = new Map<Read, TetherError>();
  for (const [key, group] of groups) {
    if (group.length < 2) continue;
    const [winner, ...rest] = [...group].sort(rank);
    for (const r of rest) {
      if (comparable(r.version) === comparable(winner!.version)) continue;
      losers.set(r, tetherError(
        'TETHER_DUPLICATE_CONFLICT',
        `host ${r.index} gives ${key.replace(/@\d+$/, '')} a different version at ${new Date(r.version.valid_from).toISOString()} than host ${winner!.index}, which was kept (the current enrolment, then the higher Fleet id)`,
        { context: { index: r.index, keptIndex: winner!.index, deviceId: r.version.device_id } },
      ));
    }
  }
  return losers;
}

function rank(a: Read, b: Read): number {
  return (b.facts.lastEnrolledAt ?? -1) - (a.facts.lastEnrolledAt ?? -1) || (b.facts.fleetId ?? -1) - (a.facts.fleetId ?? -1) || Buffer.compare(a.raw, b.raw);
}

/** How a host spelled its time does not make a different observation. */
function comparable(v: DeviceVersion): string {
  return JSON.stringify({ ...v, source: { ...v.source, source_time: null } });
}
