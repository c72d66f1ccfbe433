// One osquery result record (reference: sources-devices-and-ocsf §A1.2, §A1.3)
// to a typed result: the query, the host, the run's time, epoch and counter,
// the decorations, and its rows with their action. Every shape osquery writes
// is read: event lines (`action` + `columns`), batch lines (`diffResults`),
// snapshots (`snapshot: [...]`, or one line per row with action `snapshot`),
// `numerics` true or false, `unixTime` as a number or a string, and
// `calendarTime` when `unixTime` is missing. Pure: any JSON value in, a result
// or a typed error out, never a throw.
import { TetherError, tetherError } from '#errors';
import { parseAsctimeUtc, quoteValue } from '#source';

export type RowAction = 'added' | 'removed' | 'snapshot';
export type RecordShape = 'event' | 'batch' | 'snapshot';

export interface ResultRow {
  action: RowAction;
  /** Column values as text whatever `numerics` was, so a row's identity does not depend on a logger flag. */
  columns: Readonly<Record<string, string>>;
}

export interface ResultRecord {
  /** The query name as scheduled, e.g. `pack/Global/ai_processes`. */
  name: string;
  hostIdentifier: string;
  /** The run's time, epoch ms. */
  timeMs: number;
  /** The record's own time text (`calendarTime`, else `unixTime`). */
  timeRaw: string;
  epoch: number | null;
  counter: number | null;
  decorations: Readonly<Record<string, string>>;
  shape: RecordShape;
  rows: readonly ResultRow[];
}

export type ResultRecordResult = { ok: true; record: ResultRecord } | { ok: false; error: TetherError };

/** Rows one record may carry: a snapshot of a huge table is refused rather than held. */
export const MAX_ROWS = 50_000;
const MAX_NAME_CHARS = 512;
const MAX_VALUE_CHARS = 64 * 1024;
/** Seconds: 2000-01-01 to 2200-01-01. A run outside is a broken clock or a forged record. */
const MIN_UNIX_S = 946_684_800;
const MAX_UNIX_S = 7_258_118_400;

export function readResultRecord(value: unknown): ResultRecordResult {
  try {
    return { ok: true, record: toRecord(value) };
  } catch (err) {
    return { ok: false, error: TetherError.is(err) ? err : tetherError('TETHER_NORMALISE_INVALID', `osquery record not read: ${String(err)}`, { cause: err }) };
  }
}

function toRecord(value: unknown): ResultRecord {
  if (!isObject(value)) throw invalid('an osquery result record is a JSON object');
  const name = text(value.name, 'name', MAX_NAME_CHARS);
  if (name === null) throw invalid('record has no query name');
  // The serializer writes hostIdentifier; docs' examples show hostname (§A1.2).
  const hostIdentifier = text(value.hostIdentifier, 'hostIdentifier', MAX_NAME_CHARS) ?? text(value.hostname, 'hostname', MAX_NAME_CHARS);
  if (hostIdentifier === null) throw invalid('record has no hostIdentifier');
  const time = runTime(value);
  const decorations = stringMap(value.decorations, 'decorations');
  const { shape, rows } = rowsOf(value);
  return {
    name,
    hostIdentifier,
    timeMs: time.ms,
    timeRaw: time.raw,
    epoch: counterValue(value.epoch, 'epoch'),
    counter: counterValue(value.counter, 'counter'),
    decorations,
    shape,
    rows,
  };
}

function runTime(value: Record<string, unknown>): { ms: number; raw: string } {
  const unix = value.unixTime;
  if (unix !== undefined && unix !== null) {
    const seconds = typeof unix === 'number' ? unix : typeof unix === 'string' && /^\d{1,12}$/.test(unix) ? Number(unix) : Number.NaN;
    if (!Number.isSafeInteger(seconds)) throw invalid(`unixTime ${quoteValue(String(unix))} is not whole seconds`);
    if (seconds < MIN_UNIX_S || seconds > MAX_UNIX_S) throw invalid(`unixTime ${seconds} is outside 2000-2200`);
    const calendar = typeof value.calendarTime === 'string' ? value.calendarTime : null;
    return { ms: seconds * 1000, raw: calendar ?? String(unix) };
  }
  if (typeof value.calendarTime !== 'string') throw invalid('record has neither unixTime nor calendarTime');
  const parsed = parseAsctimeUtc(value.calendarTime);
  if (!parsed.ok) throw invalid(parsed.reason);
  if (parsed.ms < MIN_UNIX_S * 1000 || parsed.ms > MAX_UNIX_S * 1000) throw invalid(`calendarTime ${quoteValue(value.calendarTime)} is outside 2000-2200`);
  return { ms: parsed.ms, raw: value.calendarTime };
}

function rowsOf(value: Record<string, unknown>): { shape: RecordShape; rows: ResultRow[] } {
  if (value.diffResults !== undefined) {
    if (!isObject(value.diffResults)) throw invalid('diffResults is not an object');
    const rows = [
      ...rowList(value.diffResults.added, 'diffResults.added', 'added'),
      ...rowList(value.diffResults.removed, 'diffResults.removed', 'removed'),
    ];
    return { shape: 'batch', rows: bounded(rows) };
  }
  if (value.snapshot !== undefined) {
    return { shape: 'snapshot', rows: bounded(rowList(value.snapshot, 'snapshot', 'snapshot')) };
  }
  const action = value.action;
  if (action !== 'added' && action !== 'removed' && action !== 'snapshot') {
    throw invalid(`action ${quoteValue(String(action))} is not added, removed or snapshot`);
  }
  // With --logger_snapshot_event_type a snapshot arrives as one line per row.
  return { shape: action === 'snapshot' ? 'snapshot' : 'event', rows: [{ action, columns: stringMap(value.columns, 'columns') }] };
}

function rowList(value: unknown, path: string, action: RowAction): ResultRow[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${path} is not a list`);
  if (value.length > MAX_ROWS) throw invalid(`${path} has ${value.length} rows (at most ${MAX_ROWS})`);
  return value.map((row, i) => ({ action, columns: stringMap(row, `${path}[${i}]`) }));
}

function bounded(rows: ResultRow[]): ResultRow[] {
  if (rows.length > MAX_ROWS) throw invalid(`record has ${rows.length} rows (at most ${MAX_ROWS})`);
  return rows;
}

/** Column and decoration values to text: numbers as JSON writes them, booleans as osquery's 1/0, null as empty. */
function stringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalid(`${path} is not an object`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, v] of Object.entries(value)) {
    let s: string;
    if (typeof v === 'string') s = v;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid(`${path}.${key} is not a finite number`);
      s = String(v);
    } else if (typeof v === 'boolean') s = v ? '1' : '0';
    else if (v === null) s = '';
    else throw invalid(`${path}.${key} is neither text nor a number`);
    if (s.length > MAX_VALUE_CHARS) throw invalid(`${path}.${key} is longer than ${MAX_VALUE_CHARS} characters`);
    out[key] = s;
  }
  return out;
}

function counterValue(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`${field} ${quoteValue(String(value))} is not a whole number`);
  return n;
}

function text(value: unknown, field: string, max: number): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`${field} is not text`);
  const trimmed = value.trim();
  if (trimmed === '') return null;
  if (trimmed.length > max) throw invalid(`${field} is longer than ${max} characters`);
  return trimmed;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message);
}
