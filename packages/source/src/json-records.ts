// Exported files: JSONL (one record a line, streamed) or JSON (an array, an
// API page envelope, or one object). Each record keeps its original bytes:
// the exact line for JSONL, the exact array element for a JSON array; for
// an envelope the element re-serialised (its bytes cannot be cut out without
// a full parser). A line that is not JSON is a parse failure, not a stop.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tetherError, type TetherError } from '#errors';

export type FileRecord = { raw: Buffer; value: unknown; error?: undefined } | { raw: Buffer; value?: undefined; error: TetherError };

/** Array keys under which the sources' list responses carry their records. */
const ENVELOPE_KEYS = ['data', 'events', 'usageEvents', 'teamMembers', 'records', 'hosts'] as const;

export async function* readJsonRecords(path: string, options: { batchSize: number; signal?: AbortSignal }): AsyncGenerator<FileRecord[]> {
  if (/\.(jsonl|ndjson)$/i.test(path)) yield* readJsonLines(path, options);
  else yield* batches(readJsonDocument(await readFile(path)), options.batchSize);
}

async function* readJsonLines(path: string, options: { batchSize: number; signal?: AbortSignal }): AsyncGenerator<FileRecord[]> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let batch: FileRecord[] = [];
  let number = 0;
  for await (const line of lines) {
    number++;
    if (options.signal?.aborted) break;
    if (line.trim() === '') continue;
    batch.push(parseOne(Buffer.from(line, 'utf8'), `line ${number}`));
    if (batch.length >= options.batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Splits one JSON document into records with their bytes. */
export function readJsonDocument(bytes: Buffer): FileRecord[] {
  const text = bytes.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return [{ raw: bytes, error: tetherError('TETHER_SOURCE_PARSE', `file is not JSON: ${(err as Error).message}`, { cause: err }) }];
  }
  if (Array.isArray(doc)) {
    const slices = splitJsonArray(text) ?? doc.map((e) => JSON.stringify(e));
    return slices.map((slice, i) => ({ raw: Buffer.from(slice, 'utf8'), value: doc[i] as unknown }));
  }
  if (doc && typeof doc === 'object') {
    for (const key of ENVELOPE_KEYS) {
      const list = (doc as Record<string, unknown>)[key];
      if (Array.isArray(list)) return list.map((value: unknown) => ({ raw: Buffer.from(JSON.stringify(value), 'utf8'), value }));
    }
  }
  return [{ raw: bytes, value: doc }];
}

function parseOne(raw: Buffer, where: string): FileRecord {
  try {
    return { raw, value: JSON.parse(raw.toString('utf8')) as unknown };
  } catch (err) {
    return { raw, error: tetherError('TETHER_SOURCE_PARSE', `${where} is not JSON: ${(err as Error).message}`, { cause: err }) };
  }
}

/**
 * The source text of each element of a top-level JSON array (whitespace
 * around elements trimmed). Assumes valid JSON; returns null otherwise.
 */
export function splitJsonArray(text: string): string[] | null {
  let i = text.indexOf('[');
  if (i < 0 || text.slice(0, i).trim() !== '') return null;
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (i = i + 1; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      if (start < 0) start = i;
    } else if (ch === '[' || ch === '{') {
      if (start < 0) start = i;
      depth++;
    } else if (ch === ']' || ch === '}') {
      if (depth === 0) {
        if (start >= 0) out.push(text.slice(start, i).trim());
        return text.slice(i + 1).trim() === '' ? out : null;
      }
      depth--;
    } else if (ch === ',' && depth === 0) {
      if (start < 0) return null;
      out.push(text.slice(start, i).trim());
      start = -1;
    } else if (start < 0 && !/\s/.test(ch!)) {
      start = i;
    }
  }
  return null;
}

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/**
 * An API element's bytes, re-serialised. JSON.parse accepts nesting that
 * JSON.stringify cannot walk (it overflows the stack): such an element gets
 * a marker instead of a throw that would stall its feed on the same page.
 */
export function serialiseElement(value: unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  } catch (err) {
    return Buffer.from(JSON.stringify({ tether_unserialisable: (err as Error).message ?? String(err) }), 'utf8');
  }
}
