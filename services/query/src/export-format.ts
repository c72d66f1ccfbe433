// Trail export formats. Writers are incremental (rows stream from ClickHouse
// to the file); readers rebuild the typed rows so a reviewer's copy of any
// format can be checked against the manifest's hash chain, and the rows are
// written again to check the file holds them exactly as the writer would.
import { tetherError } from '#errors';
import { normaliseCell, type Column, type Row } from './chain.ts';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
};

export interface ExportWriter {
  begin(): string;
  row(row: Row): string;
  end(): string;
}

export function exportWriter(format: ExportFormat, columns: readonly Column[]): ExportWriter {
  const asObject = (row: Row) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, row[i]])));
  switch (format) {
    case 'ndjson':
      return { begin: () => '', row: (row) => `${asObject(row)}\n`, end: () => '' };
    case 'json': {
      let first = true;
      return {
        begin: () => '[',
        row: (row) => {
          const sep = first ? '\n' : ',\n';
          first = false;
          return sep + asObject(row);
        },
        end: () => '\n]\n',
      };
    }
    case 'csv':
      return {
        begin: () => `${columns.map((c) => c.name).join(',')}\r\n`,
        row: (row) => `${row.map(csvCell).join(',')}\r\n`,
        end: () => '',
      };
  }
}

/** Reads an export back into typed rows in file order. */
export function parseExport(format: ExportFormat, text: string, columns: readonly Column[]): Row[] {
  switch (format) {
    case 'ndjson':
      return text.split('\n').filter((line) => line.trim() !== '').map((line, i) => rowFromJson(parseJson(line, i + 1), columns, i + 1));
    case 'json': {
      const value = parseJson(text, 1);
      if (!Array.isArray(value)) throw verifyError('a JSON trail export is an array of rows');
      return value.map((item, i) => rowFromJson(item, columns, i + 1));
    }
    case 'csv': {
      const [header, ...records] = parseCsv(text);
      const names = header?.map((cell) => cell.text) ?? [];
      if (names.join(',') !== columns.map((c) => c.name).join(',')) {
        throw verifyError(`CSV header does not match the manifest's columns: ${names.join(',')}`);
      }
      return records.map((cells, i) => csvRow(cells, columns, i + 1));
    }
  }
}

// -------------------------------------------------------------------- CSV ---

// A spreadsheet runs a cell starting with one of these as a formula (CSV
// injection): such strings get a leading apostrophe, which the reader strips.
const FORMULA_START = /^[=+\-@\t\r']/;

function csvCell(value: Row[number]): string {
  if (value === null) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = Array.isArray(value) ? JSON.stringify(value) : FORMULA_START.test(value) ? `'${value}` : value;
  return `"${text.replaceAll('"', '""')}"`;
}

function csvRow(cells: readonly CsvCell[], columns: readonly Column[], rowNumber: number): Row {
  if (cells.length !== columns.length) throw verifyError(`CSV row ${rowNumber} has ${cells.length} cells, expected ${columns.length}`);
  return columns.map((column, j) => fromCsvCell(column, cells[j]!, rowNumber));
}

/** One CSV record's text (without its line end) as a typed row. */
export function parseCsvRecord(text: string, columns: readonly Column[], rowNumber: number): Row {
  const records = parseCsv(text);
  if (records.length !== 1) throw verifyError(`CSV row ${rowNumber} is not one record`);
  return csvRow(records[0]!, columns, rowNumber);
}

interface CsvCell {
  text: string;
  quoted: boolean;
}

function fromCsvCell(column: Column, cell: CsvCell, rowNumber: number): Row[number] {
  const where = `row ${rowNumber}, column "${column.name}"`;
  if (column.nullable && !cell.quoted && cell.text === '') return null;
  switch (column.kind) {
    case 'string':
      if (!cell.quoted) throw verifyError(`${where}: strings are quoted in Tether CSV`);
      return cell.text.startsWith("'") ? cell.text.slice(1) : cell.text;
    case 'strings':
      return normaliseCell(column, parseJson(cell.text, rowNumber));
    case 'number':
    case 'bool':
      if (cell.quoted) throw verifyError(`${where}: ${column.kind} cells are not quoted`);
      return normaliseCell(column, cell.text);
  }
}

/** RFC 4180 with CRLF or LF line ends; remembers which cells were quoted. */
function parseCsv(text: string): CsvCell[][] {
  const rows: CsvCell[][] = [];
  let row: CsvCell[] = [];
  let i = 0;
  while (i < text.length) {
    let cell: CsvCell;
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const end = text.indexOf('"', i);
        if (end === -1) throw verifyError('unterminated quoted CSV cell');
        value += text.slice(i, end);
        if (text[end + 1] === '"') {
          value += '"';
          i = end + 2;
        } else {
          i = end + 1;
          break;
        }
      }
      cell = { text: value, quoted: true };
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
      cell = { text: text.slice(i, end), quoted: false };
      i = end;
    }
    row.push(cell);
    if (text[i] === ',') {
      i++;
      if (i === text.length) row.push({ text: '', quoted: false });
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') i += 2;
    else if (text[i] === '\n') i++;
    else if (i < text.length) throw verifyError(`unexpected character after a CSV cell at offset ${i}`);
    rows.push(row);
    row = [];
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

// ------------------------------------------------------------------- JSON ---

/** One row from its JSON object (a JSON or NDJSON export's row); refuses unknown and missing columns. */
export function rowFromJson(value: unknown, columns: readonly Column[], rowNumber: number): Row {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw verifyError(`row ${rowNumber} is not a JSON object`);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((key) => !columns.some((c) => c.name === key));
  if (extra.length > 0) throw verifyError(`row ${rowNumber} has columns the manifest does not list: ${extra.join(', ')}`);
  return columns.map((column) => {
    if (!Object.hasOwn(record, column.name)) throw verifyError(`row ${rowNumber} lacks column "${column.name}"`);
    return normaliseCell(column, record[column.name]);
  });
}

function parseJson(text: string, rowNumber: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw verifyError(`row ${rowNumber}: not valid JSON (${(err as Error).message})`);
  }
}

function verifyError(message: string): Error {
  return tetherError('TETHER_TRAIL_VERIFY', message);
}
