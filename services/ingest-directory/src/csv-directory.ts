// Directory CSV import (reference: sources-grants-and-identity §6.3): UTF-8,
// RFC 4180, a header row, ISO 8601 dates. Each row is one version of a
// person (directory-row.ts says from when), so an HR history export of many
// rows per person replays joins, moves and leaves; the file-level rules
// (duplicates, managers) are in reconcile.ts. Pure: bytes in, versions,
// refused rows with their bytes and reasons, and notes out; never throws.
import { TetherError, tetherError } from '#errors';
import type { PersonVersion } from '#schemas';
import { isUtf16, readCsv, type CsvRecord } from './csv-records.ts';
import { OPTIONAL_COLUMNS, REQUIRED_COLUMNS, readRow, type Candidate, type Column } from './directory-row.ts';
import { reconcile, type DirectoryNote } from './reconcile.ts';

export type DirectoryRow =
  | { ok: true; line: number; raw: Buffer; versions: PersonVersion[] }
  | { ok: false; line: number; raw: Buffer; error: TetherError };

export interface DirectoryImport {
  /** Nothing in the file could be read (empty, no usable header): it is refused whole. */
  fileError: TetherError | null;
  /** Every data row that is not blank, in file order. */
  rows: DirectoryRow[];
  notes: DirectoryNote[];
  /** Rows whose every field is empty (an exporter's padding), skipped. */
  blankRows: number;
  /** Header columns the importer does not read (kept nowhere). */
  ignoredColumns: string[];
}

export interface CsvContext {
  observedAt: number;
  feed?: string;
}

const KNOWN: ReadonlySet<string> = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

export function normaliseDirectoryCsv(bytes: Buffer, ctx: CsvContext): DirectoryImport {
  const empty = { rows: [], notes: [], blankRows: 0, ignoredColumns: [] };
  if (isUtf16(bytes)) return { ...empty, fileError: parseError('directory CSV is UTF-16 (it starts with a UTF-16 byte order mark); export it as UTF-8') };
  const { header, records } = readCsv(bytes);
  if (!header) return { ...empty, fileError: parseError('directory CSV is empty (no header row)') };
  if (header.error) return { ...empty, fileError: parseError(`directory CSV header is unreadable: ${header.error.message}`) };

  const names = header.fields.map(columnName);
  const columns = new Map<Column, number[]>();
  names.forEach((name, i) => {
    if (KNOWN.has(name)) columns.set(name as Column, [...(columns.get(name as Column) ?? []), i]);
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length > 0) return { ...empty, fileError: parseError(`directory CSV lacks required columns: ${missing.join(', ')}`) };
  const ignoredColumns = [...new Set(names.filter((n) => !KNOWN.has(n)))];

  let blankRows = 0;
  const read: (Candidate | { line: number; raw: Buffer; error: TetherError })[] = [];
  const feed = ctx.feed ?? 'directory_csv';
  for (const record of records) {
    if (record.error) {
      read.push(record);
      continue;
    }
    if (record.fields.every((f) => f.trim() === '')) {
      blankRows++;
      continue;
    }
    read.push(guard(record, () => readRow(record.line, record.raw, fieldsOf(record.fields, columns), { observedAt: ctx.observedAt, feed })));
  }

  const { versions, conflicts, notes } = reconcile(read.filter((r): r is Candidate => !('error' in r)));
  const rows = read.map((r): DirectoryRow => {
    if ('error' in r) return { ok: false, line: r.line, raw: r.raw, error: r.error };
    const conflict = conflicts.get(r);
    return conflict ? { ok: false, line: r.line, raw: r.raw, error: conflict } : { ok: true, line: r.line, raw: r.raw, versions: versions.get(r)! };
  });
  return { fileError: null, rows, notes, blankRows, ignoredColumns };
}

/** `Email`, ` EXTERNAL_ID `, `Updated At`, `cost-center`: one spelling per column. */
function columnName(header: string): string {
  return header.replace(/\uFEFF/g, '').trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/**
 * Values trimmed, empty ones absent. A column named twice in the header is
 * read from whichever copy is filled; two different values are refused
 * (which one the exporter meant is unknowable).
 */
function fieldsOf(values: readonly string[], columns: ReadonlyMap<Column, number[]>): Map<Column, string> {
  const fields = new Map<Column, string>();
  for (const [column, at] of columns) {
    const filled = [...new Set(at.map((i) => values[i]!.trim()).filter((v) => v !== ''))];
    if (filled.length > 1) {
      throw tetherError('TETHER_NORMALISE_INVALID', `column ${column} appears ${at.length} times in the header and this row gives it different values`);
    }
    if (filled.length === 1) fields.set(column, filled[0]!);
  }
  return fields;
}

/** A row's typed error (or a bug's) as a refused row, never a throw out of the file. */
function guard(record: Extract<CsvRecord, { fields: string[] }>, read: () => Candidate): Candidate | { line: number; raw: Buffer; error: TetherError } {
  try {
    return read();
  } catch (err) {
    const code = TetherError.is(err) ? err.code : 'TETHER_NORMALISE_INVALID';
    const message = err instanceof Error ? err.message : String(err);
    const error = tetherError(code, `line ${record.line}: ${message}`, { cause: err, context: { line: record.line } });
    return { line: record.line, raw: record.raw, error };
  }
}

function parseError(message: string): TetherError {
  return tetherError('TETHER_SOURCE_PARSE', message);
}
