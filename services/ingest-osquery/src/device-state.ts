// Device state over time from osquery results (reference §A1.5, §A5): each
// host's identity from system_info, who uses it from logged_in_users, and
// each address it holds from interface_addresses. Rows are applied in run
// order per (host, query): `added` opens, `removed` closes, a snapshot
// replaces the set, and a run with counter 0 (or a new epoch) is the full
// initial set, so it replaces what the host had before (osquery restarted,
// or the machine was re-imaged). Every change of what a device is, who uses
// it or which addresses it holds is a DeviceVersion valid from the run's
// time: enrichment's "which device held this address at t" then reads the
// version valid at t. Pure: the state is plain data the caller checkpoints.
import type { DeviceVersion } from '#schemas';
import { hostnameKeys, normaliseIp, normaliseSerial } from '#schemas';
import type { ResultRecord, ResultRow } from './result-record.ts';
import { tableKindOf, type TableKind } from './table-kind.ts';

/** The tables that shape a device version; the others are evidence, not state. */
const STATE_TABLES: ReadonlySet<TableKind> = new Set(['system_info', 'os_version', 'logged_in_users', 'interface_addresses']);

/** logged_in_users types that are records of the system, not a person's session (utmp). */
const NON_SESSION_TYPES = new Set(['boot_time', 'runlevel', 'init', 'login', 'dead', 'accounting', 'new_time', 'old_time']);

export interface QueryRows {
  /** The table the query reads, as it was placed when its rows arrived. */
  kind: TableKind;
  /** The run these rows were last replaced or changed by: `<epoch>/<counter>/<unixTime>`. */
  run: string;
  rows: Record<string, Record<string, string>>;
}

export interface HostState {
  host: string;
  tables: Record<string, QueryRows>;
  /** Content of the last version emitted for this host (device id included), to emit only on change. */
  emitted: string | null;
}

export interface DeviceStateOptions {
  /** Query name (or its last segment) -> table, where the columns alone do not tell. */
  tableMapping?: Readonly<Record<string, TableKind>>;
  /** Domain for local user names that are not addresses ("ana" -> "ana@example.com"); none: such users name nobody. */
  userDomain?: string | null;
  observedAt: number;
}

/** Who a host's evidence is about, as far as its state knows. */
export interface HostIdentity {
  deviceId: string | null;
  serial: string | null;
  hostname: string | null;
}

export type DeviceStateStep = { state: HostState; version: DeviceVersion | null; reason: string | null; host: HostIdentity };

export function emptyHostState(host: string): HostState {
  return { host, tables: {}, emitted: null };
}

/**
 * Applies one result record of this host to its state; a version when what the device is, who uses it or
 * which addresses it holds changed, and who the host is now (for the record's evidence). `kind` is the
 * table the record's query reads, when the caller placed it already.
 */
export function applyResult(
  state: HostState, record: ResultRecord, options: DeviceStateOptions,
  kind: TableKind | null = tableKindOf(record.name, record.rows, options.tableMapping),
): DeviceStateStep {
  let next = state;
  if (kind !== null && STATE_TABLES.has(kind)) {
    const run = `${record.epoch ?? ''}/${record.counter ?? ''}/${record.timeMs}`;
    const previous = state.tables[record.name];
    const fullSet = record.shape === 'snapshot' || record.counter === 0;
    // One run may arrive as many lines (event format): only its first line replaces the set.
    const rows = fullSet && previous?.run !== run ? {} : { ...(previous?.rows ?? {}) };
    applyRows(rows, record.rows);
    next = { ...state, tables: { ...state.tables, [record.name]: { kind, run, rows } } };
  }
  const derived = derive(next, record, options);
  const host = { deviceId: derived?.device_id ?? null, serial: derived?.serial ?? null, hostname: derived?.hostname ?? null };
  if (next === state) return { state, version: null, reason: null, host };
  if (derived === null) return { state: next, version: null, reason: 'no device identity yet (no system_info row or identity decoration)', host };
  const content = JSON.stringify([derived.device_id, derived.serial, derived.hostname, derived.os, derived.assigned_email, derived.ip_addresses]);
  if (content === state.emitted) return { state: next, version: null, reason: null, host };
  const version: DeviceVersion = {
    ...derived,
    valid_from: record.timeMs,
    source: { platform: 'osquery', feed: record.name, source_time: record.timeRaw, observed_at: options.observedAt },
  };
  return { state: { ...next, emitted: content }, version, reason: null, host };
}

function applyRows(rows: Record<string, Record<string, string>>, changes: readonly ResultRow[]): void {
  for (const row of changes) {
    const key = rowKey(row.columns);
    if (row.action === 'removed') delete rows[key];
    else rows[key] = { ...row.columns };
  }
}

/** A row's identity: its columns in a fixed order (a removed row repeats the added row's columns). */
export function rowKey(columns: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.keys(columns).sort().map((k) => [k, columns[k]]));
}

function derive(state: HostState, record: ResultRecord, options: DeviceStateOptions): Omit<DeviceVersion, 'valid_from' | 'source'> | null {
  const byKind = new Map<TableKind, Record<string, string>[]>();
  for (const table of Object.values(state.tables)) byKind.set(table.kind, [...(byKind.get(table.kind) ?? []), ...Object.values(table.rows)]);
  const info = byKind.get('system_info')?.[0];
  const decorations = record.decorations;
  const serial = normaliseSerial(info?.hardware_serial ?? decorations.hardware_serial ?? decorations.serial ?? null);
  const uuid = upperOrNull(info?.uuid ?? decorations.host_uuid ?? decorations.uuid ?? null);
  // Merge on serial, then hardware UUID, as the Fleet import does; never on hostname alone (§A5).
  const deviceId = serial !== null ? `serial:${serial}` : uuid !== null ? `uuid:${uuid}` : null;
  if (deviceId === null) return null;
  const hostname = hostnameKeys(info?.hostname ?? decorations.hostname ?? info?.computer_name ?? null)[0] ?? null;
  const os = byKind.get('os_version')?.[0];
  return {
    device_id: deviceId,
    active: true,
    serial,
    hostname,
    os: os ? [os.name, os.version].filter((p) => p && p !== '').join(' ') || null : null,
    // An osquery agent reporting to the company's fleet is a managed endpoint; MDM compliance is another source's.
    managed: true,
    compliant: null,
    assigned_person_id: null,
    assigned_email: currentUser(byKind.get('logged_in_users') ?? [], options.userDomain ?? null),
    ip_addresses: heldAddresses(byKind.get('interface_addresses') ?? []),
  };
}

/** The most recent person's session: a local name becomes an address only with the operator's domain. */
function currentUser(rows: readonly Record<string, string>[], domain: string | null): string | null {
  let best: { user: string; time: number } | null = null;
  for (const row of rows) {
    const user = row.user?.trim() ?? '';
    if (user === '' || NON_SESSION_TYPES.has((row.type ?? '').toLowerCase())) continue;
    const time = Number(row.time ?? 0);
    if (best === null || time > best.time || (time === best.time && user < best.user)) best = { user, time: Number.isFinite(time) ? time : 0 };
  }
  if (best === null) return null;
  // Windows writes DOMAIN\user; the account name is what a directory knows.
  const name = best.user.includes('\\') ? best.user.slice(best.user.lastIndexOf('\\') + 1) : best.user;
  if (name.includes('@')) return name;
  return domain ? `${name}@${domain}` : null;
}

/** Addresses another system could have seen: loopback, link-local and unspecified ones are not. */
function heldAddresses(rows: readonly Record<string, string>[]): string[] {
  const out = new Set<string>();
  for (const row of rows) {
    const ip = normaliseIp(row.address ?? '');
    if (ip === null || !routable(ip)) continue;
    out.add(ip);
  }
  return [...out].sort();
}

function routable(ip: string): boolean {
  if (ip.includes(':')) return !(ip === '::' || ip === '::1' || /^fe[89ab]/.test(ip));
  return !(ip.startsWith('127.') || ip.startsWith('169.254.') || ip === '0.0.0.0');
}

function upperOrNull(value: string | null): string | null {
  const v = value?.trim() ?? '';
  return v === '' ? null : v.toUpperCase();
}
