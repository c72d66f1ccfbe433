// RFC 4180 records from a file's bytes, each with its exact bytes and the
// line it starts on. Reading recovers row by row: a malformed row becomes an
// error record and reading resumes at its next line, so one bad row never
// hides the rest of the file. Pure, and it never throws on any input.
//
// Beyond RFC 4180, and deliberately: a UTF-8 BOM is skipped; CRLF, LF and a
// lone CR all end a record; spaces around a quoted field are allowed
// (`a, "b" ,c`); blank lines are skipped. Refused per row: a quote inside an
// unquoted field, text after a closing quote, a quote never closed, a field
// count other than the header's, a NUL byte, bytes that are not UTF-8.
import { isUtf8 } from 'node:buffer';
import { tetherError, type TetherError } from '#errors';

export type CsvRecord =
  | { line: number; raw: Buffer; fields: string[]; error?: undefined }
  | { line: number; raw: Buffer; fields?: undefined; error: TetherError };

export interface CsvFile {
  /** The first non-blank record; undefined for a file with none. */
  header: CsvRecord | undefined;
  records: CsvRecord[];
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const QUOTE_BYTES = Buffer.from('"');

/** Whether the file starts with a UTF-16 byte order mark: its bytes are not UTF-8 text at all. */
export function isUtf16(bytes: Buffer): boolean {
  return bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
}

export function readCsv(bytes: Buffer): CsvFile {
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 1;
  let header: CsvRecord | undefined;
  const records: CsvRecord[] = [];
  while (at < bytes.length) {
    const scan = scanRecord(bytes, at);
    const multiLine = scan.problem?.resync === true || spansLines(bytes, at, scan.rawEnd);
    const width = header?.fields?.length;
    const problem =
      scan.problem?.message ??
      (width !== undefined && scan.fields.length !== width && !isBlank(bytes, at, scan.rawEnd)
        ? `${scan.fields.length} fields where the header has ${width}`
        : undefined);
    if (problem !== undefined && multiLine) {
      // Where a record spanning lines went wrong is unknowable (a stray quote
      // swallows the rows after it): refuse its first line, read on from the next.
      const eol = lineEnd(bytes, at);
      const record = failed(line, bytes.subarray(at, eol), problem);
      if (header === undefined) header = record;
      else records.push(record);
      at = afterTerminator(bytes, eol);
      line += 1;
      continue;
    }
    const raw = bytes.subarray(at, scan.rawEnd);
    if (!isBlank(bytes, at, scan.rawEnd)) {
      const record = problem !== undefined ? failed(line, raw, problem) : decoded(line, raw, scan.fields);
      if (header === undefined) header = record;
      else records.push(record);
    }
    at = scan.end;
    line += scan.lines;
  }
  return { header, records };
}

interface Scan {
  fields: Buffer[];
  problem?: { message: string; resync: boolean };
  /** End of the record's bytes (before its line terminator). */
  rawEnd: number;
  /** Start of the next record. */
  end: number;
  /** Lines the record and its terminator cover. */
  lines: number;
}

function scanRecord(b: Buffer, start: number): Scan {
  const fields: Buffer[] = [];
  let problem: Scan['problem'];
  let i = start;
  for (;;) {
    let j = i;
    while (b[j] === SPACE || b[j] === TAB) j++;
    if (b[j] === QUOTE) {
      const parts: Buffer[] = [];
      let k = j + 1;
      for (;;) {
        const q = b.indexOf(QUOTE, k);
        if (q < 0) return unclosed(b, start, 'a quoted field is never closed');
        parts.push(b.subarray(k, q));
        if (b[q + 1] === QUOTE) {
          parts.push(QUOTE_BYTES);
          k = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      while (b[i] === SPACE || b[i] === TAB) i++;
      if (i < b.length && b[i] !== COMMA && b[i] !== CR && b[i] !== LF) {
        return unclosed(b, start, 'text follows a closing quote (a quote inside a quoted field must be doubled)');
      }
      fields.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    } else {
      let k = i;
      while (k < b.length && b[k] !== COMMA && b[k] !== CR && b[k] !== LF) {
        if (b[k] === QUOTE) problem ??= { message: 'a quote inside an unquoted field (such a field must be quoted and the quote doubled)', resync: false };
        k++;
      }
      fields.push(b.subarray(i, k));
      i = k;
    }
    if (b[i] === COMMA) {
      i++;
      continue;
    }
    const rawEnd = i;
    let end = i;
    if (b[end] === CR) end++;
    if (b[end] === LF) end++;
    return { fields, problem, rawEnd, end, lines: countLf(b, start, rawEnd) + (end > rawEnd ? 1 : 0) };
  }
}

/** A quoting error: the record's extent is unknown, so the caller resyncs at the next line. */
function unclosed(b: Buffer, start: number, message: string): Scan {
  const eol = lineEnd(b, start);
  return { fields: [], problem: { message, resync: true }, rawEnd: eol, end: afterTerminator(b, eol), lines: 1 };
}

function decoded(line: number, raw: Buffer, fields: Buffer[]): CsvRecord {
  const nul = raw.indexOf(0);
  if (nul >= 0) return failed(line, raw, `a NUL byte at byte ${nul} of the row`);
  if (!isUtf8(raw)) {
    const bad = firstInvalidUtf8(raw);
    return failed(line, raw, `not UTF-8: byte 0x${raw[bad]!.toString(16).padStart(2, '0')} at byte ${bad} of the row (a latin-1 or cp1252 export?)`);
  }
  return { line, raw: Buffer.from(raw), fields: fields.map((f) => f.toString('utf8')) };
}

function failed(line: number, raw: Buffer, problem: string): CsvRecord {
  return { line, raw: Buffer.from(raw), error: tetherError('TETHER_SOURCE_PARSE', `line ${line}: ${problem}`, { context: { line } }) };
}

function isBlank(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== SPACE && b[i] !== TAB) return false;
  return true;
}

function spansLines(b: Buffer, from: number, to: number): boolean {
  const eol = lineEnd(b, from);
  return eol < to;
}

function lineEnd(b: Buffer, from: number): number {
  for (let i = from; i < b.length; i++) if (b[i] === LF || b[i] === CR) return i;
  return b.length;
}

function afterTerminator(b: Buffer, eol: number): number {
  let i = eol;
  if (b[i] === CR) i++;
  if (b[i] === LF) i++;
  return i;
}

function countLf(b: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = b.indexOf(LF, from); i >= 0 && i < to; i = b.indexOf(LF, i + 1)) n++;
  return n;
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence (the text is known not to be UTF-8). */
export function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const size = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (size === 0 || i + size > b.length || !isUtf8(b.subarray(i, i + size))) return i;
    i += size;
  }
  return 0;
}
