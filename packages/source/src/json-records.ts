// Exported files: JSONL (one record a line, streamed) or JSON (an array, an
// API page envelope, or one object). Each record keeps its original bytes:
// the exact line for JSONL, the exact array element for a JSON array (both
// cut from the bytes, so text that is not valid UTF-8 survives as written);
// for an envelope the element re-serialised (its bytes cannot be cut out
// without a full parser). A line that is not JSON, or not UTF-8, is a failure
// of that record with its exact bytes, not a stop; text is never decoded with
// U+FFFD replacement.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tetherError, type TetherError } from '#errors';
import { stringifyJson } from './json-text.ts';
import { decodeUtf8, notUtf8Error } from './utf8.ts';

export type FileRecord = { raw: Buffer; value: unknown; error?: undefined } | { raw: Buffer; value?: undefined; error: TetherError };

/** Array keys under which the sources' list responses carry their records (Graph's `value`, Jamf's `results` among them). */
const ENVELOPE_KEYS = ['data', 'events', 'usageEvents', 'teamMembers', 'records', 'hosts', 'value', 'results'] as const;

export interface ReadJsonOptions {
  batchSize: number;
  signal?: AbortSignal;
  /**
   * Text that is not UTF-8: `refuse` (default) fails that record with its
   * bytes; `replace` decodes it with U+FFFD, for a reader that checks every
   * field it keeps itself and must not refuse a record for a field it ignores.
   */
  invalidUtf8?: 'refuse' | 'replace';
}

export async function* readJsonRecords(path: string, options: ReadJsonOptions): AsyncGenerator<FileRecord[]> {
  if (/\.(jsonl|ndjson)$/i.test(path)) yield* readJsonLines(path, options);
  else yield* batches(readJsonDocument(await readFile(path), options.invalidUtf8), options.batchSize);
}

async function* readJsonLines(path: string, options: ReadJsonOptions): AsyncGenerator<FileRecord[]> {
  let batch: FileRecord[] = [];
  let number = 0;
  for await (const line of byteLines(path, options.signal)) {
    number++;
    if (isBlank(line)) continue;
    batch.push(parseOne(line, `line ${number}`, options.invalidUtf8));
    if (batch.length >= options.batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The file's lines as bytes (LF or CRLF), undecoded: a line's raw is exactly what the file holds. */
async function* byteLines(path: string, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (signal?.aborted) return;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      pending.push(chunk.subarray(start, nl));
      yield withoutCr(Buffer.concat(pending));
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield withoutCr(Buffer.concat(pending));
}

function withoutCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}

/** JSON's whitespace: space, tab, LF, CR. */
function isJsonSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function isBlank(line: Buffer): boolean {
  return line.every((b) => isJsonSpace(b));
}

/** Splits one JSON document into records with their bytes. */
export function readJsonDocument(bytes: Buffer, invalidUtf8: 'refuse' | 'replace' = 'refuse'): FileRecord[] {
  const decoded = decodeUtf8(bytes);
  if (!decoded.ok && invalidUtf8 === 'refuse') return readInvalidDocument(bytes, decoded);
  const text = decoded.ok ? decoded.text : bytes.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return [{ raw: bytes, error: tetherError('TETHER_SOURCE_PARSE', `file is not JSON: ${(err as Error).message}`, { cause: err }) }];
  }
  if (Array.isArray(doc)) {
    const spans = jsonArraySpans(bytes.length, (i) => bytes[i]!);
    const raws = spans?.length === doc.length ? spans.map(([from, to]) => Buffer.from(bytes.subarray(from, to))) : doc.map((e) => serialiseElement(e));
    return raws.map((raw, i) => ({ raw, value: doc[i] as unknown }));
  }
  if (doc && typeof doc === 'object') {
    for (const key of ENVELOPE_KEYS) {
      const list = (doc as Record<string, unknown>)[key];
      if (Array.isArray(list)) return list.map((value: unknown) => ({ raw: serialiseElement(value), value }));
    }
  }
  return [{ raw: bytes, value: doc }];
}

/**
 * A document that is not UTF-8 throughout: an array is split on its bytes
 * (every structural character is ASCII) so only the elements that are not
 * UTF-8 fail; anything else fails whole.
 */
function readInvalidDocument(bytes: Buffer, decoded: Extract<ReturnType<typeof decodeUtf8>, { ok: false }>): FileRecord[] {
  const spans = jsonArraySpans(bytes.length, (i) => bytes[i]!);
  if (!spans) return [{ raw: bytes, error: notUtf8Error('file', bytes, decoded) }];
  return spans.map(([from, to], i) => parseOne(Buffer.from(bytes.subarray(from, to)), `element ${i + 1}`));
}

function parseOne(raw: Buffer, where: string, invalidUtf8: 'refuse' | 'replace' = 'refuse'): FileRecord {
  const decoded = decodeUtf8(raw);
  if (!decoded.ok && invalidUtf8 === 'refuse') return { raw, error: notUtf8Error(where, raw, decoded) };
  try {
    return { raw, value: JSON.parse(decoded.ok ? decoded.text : raw.toString('utf8')) as unknown };
  } catch (err) {
    return { raw, error: tetherError('TETHER_SOURCE_PARSE', `${where} is not JSON: ${(err as Error).message}`, { cause: err }) };
  }
}

/**
 * The source text of each element of a top-level JSON array (whitespace
 * around elements trimmed). Assumes valid JSON; returns null otherwise.
 */
export function splitJsonArray(text: string): string[] | null {
  return jsonArraySpans(text.length, (i) => text.charCodeAt(i))?.map(([from, to]) => text.slice(from, to)) ?? null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPENERS = new Set([0x5b, 0x7b]);
const CLOSERS = new Set([0x5d, 0x7d]);

/**
 * [from, to) of each element of a top-level array, scanning code units
 * (UTF-16 of a string, or bytes: every structural character is ASCII and no
 * byte of a multi-byte UTF-8 sequence is, so both scan alike).
 */
function jsonArraySpans(length: number, codeAt: (i: number) => number): [number, number][] | null {
  let i = 0;
  while (i < length && isJsonSpace(codeAt(i))) i++;
  if (codeAt(i) !== 0x5b) return null;
  const out: [number, number][] = [];
  const push = (from: number, to: number) => {
    let end = to;
    while (end > from && isJsonSpace(codeAt(end - 1))) end--;
    out.push([from, end]);
  };
  let depth = 0;
  let inString = false;
  let start = -1;
  for (i = i + 1; i < length; i++) {
    const ch = codeAt(i);
    if (inString) {
      if (ch === BACKSLASH) i++;
      else if (ch === QUOTE) inString = false;
      continue;
    }
    if (ch === QUOTE) {
      inString = true;
      if (start < 0) start = i;
    } else if (OPENERS.has(ch)) {
      if (start < 0) start = i;
      depth++;
    } else if (CLOSERS.has(ch)) {
      if (depth === 0) {
        if (start >= 0) push(start, i);
        for (let j = i + 1; j < length; j++) if (!isJsonSpace(codeAt(j))) return null;
        return out;
      }
      depth--;
    } else if (ch === COMMA && depth === 0) {
      if (start < 0) return null;
      push(start, i);
      start = -1;
    } else if (start < 0 && !isJsonSpace(ch)) {
      start = i;
    }
  }
  return null;
}

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * An API element's bytes, re-serialised: JSON.stringify's text, also for
 * nesting deeper than JSON.stringify can walk (JSON.parse accepts it), so
 * such an element keeps its bytes instead of stalling its feed.
 */
export function serialiseElement(value: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  } catch {
    // Too deep for the native serialiser (RangeError): the iterative one gives the same text.
  }
  try {
    return Buffer.from(stringifyJson(value) ?? 'null', 'utf8');
  } catch (err) {
    // Only a cycle or a BigInt, which parsed JSON never holds.
    return Buffer.from(JSON.stringify({ tether_unserialisable: (err as Error).message ?? String(err) }), 'utf8');
  }
}
