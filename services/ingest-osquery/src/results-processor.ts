// What one osquery result record becomes, whichever way it arrived (a file
// line, a TLS logger post, a Kafka logger message): the device version its
// host's state change makes, and the AI access events its rows show. The
// per-host state is the caller's (checkpointed with the transport's
// position), so a re-read from a checkpoint rebuilds exactly what was
// produced: version keys and event ids are derived from the records. Pure.
import { tetherError } from '#errors';
import { versionKey } from '#schemas';
import type { OutRecord, ProcessedItem } from '#source';
import { aiToolEvents, type EndpointCatalogue } from './ai-tool-events.ts';
import { applyResult, emptyHostState, type DeviceStateOptions, type HostState } from './device-state.ts';
import { readResultRecord } from './result-record.ts';
import { tableKindOf } from './table-kind.ts';

export interface ProcessorOptions extends DeviceStateOptions {
  catalogue: EndpointCatalogue;
  ingestedAt: number;
}

export type HostStates = Map<string, HostState>;

/** One record (already parsed JSON) and its exact bytes to what goes out; the host's state is updated in `hosts`. */
export function processResult(hosts: HostStates, value: unknown, raw: Buffer, options: ProcessorOptions): ProcessedItem {
  const read = readResultRecord(value);
  if (!read.ok) return { raw, result: { ok: false, stage: 'normalising', error: read.error } };
  const record = read.record;
  const kind = tableKindOf(record.name, record.rows, options.tableMapping);
  // A query whose rows Tether cannot place would otherwise vanish: it is a dead letter that says how to name its table.
  if (record.rows.length > 0 && kind === null) {
    const columns = Object.keys(record.rows[0]!.columns).slice(0, 12).join(', ');
    return {
      raw,
      result: {
        ok: false,
        stage: 'normalising',
        error: tetherError('TETHER_NORMALISE_INVALID', `query ${JSON.stringify(record.name.slice(0, 120))}: its columns (${columns}) match no table Tether reads; name its table in TETHER_OSQUERY_TABLES`),
      },
    };
  }
  const step = applyResult(hosts.get(record.hostIdentifier) ?? emptyHostState(record.hostIdentifier), record, options, kind);
  hosts.set(record.hostIdentifier, step.state);
  const records: OutRecord[] = [];
  if (step.version) records.push({ role: 'identityDevices', key: versionKey(step.version.device_id, step.version.valid_from), value: step.version });
  const events = aiToolEvents(record, { catalogue: options.catalogue, host: step.host, ingestedAt: options.ingestedAt, rawBytes: raw, kind });
  for (const event of events) records.push({ role: 'accessRaw', key: event.event_id, value: event });
  return { raw, result: { ok: true, records } };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A line's bytes as JSON: bytes that are not UTF-8 are refused, never replaced with U+FFFD into fields that look real. */
export function parseJsonBytes(bytes: Buffer): { ok: true; value: unknown } | { ok: false; error: Error } {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, error: tetherError('TETHER_SOURCE_PARSE', 'the line is not valid UTF-8') };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: tetherError('TETHER_SOURCE_PARSE', `the line is not JSON: ${(err as Error).message.slice(0, 200)}`) };
  }
}

/** Host states as checkpoint text and back (a Map does not survive JSON). */
export function serialiseHosts(hosts: HostStates): Record<string, HostState> {
  return Object.fromEntries(hosts);
}

export function restoreHosts(saved: Record<string, HostState> | undefined): HostStates {
  return new Map(Object.entries(saved ?? {}));
}
