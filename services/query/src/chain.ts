// Tamper evidence for exported trails: each row's canonical bytes are hashed
// into a chain, h_i = sha256(h_{i-1} || row_i), whose start h_0 commits to
// the manifest header (subject, range, query, parameters, columns). The same
// canonical bytes come out of CSV, JSON and NDJSON, so a reviewer can verify
// whichever file they were given. The header is hashed in a canonical form
// (keys sorted), so a manifest re-saved by another tool still verifies.
import { createHash } from 'node:crypto';
import { tetherError } from '#errors';

/** How a column's values are typed; decides canonical form and CSV parsing. */
export type ColumnKind = 'string' | 'number' | 'bool' | 'strings';

export interface Column {
  name: string;
  kind: ColumnKind;
  /** Whether the value may be null (never for 'strings'). */
  nullable?: boolean;
}

export type CellValue = string | number | boolean | null | string[];
export type Row = CellValue[];

export interface ManifestHeader {
  subject: Record<string, unknown>;
  time_range: { from: string; to: string };
  query: string;
  parameters: Record<string, unknown>;
  columns: Column[];
}

/**
 * Version 3 hashes every manifest field known before the first row
 * (generated_at, format, the version and the hash description included:
 * MANIFEST_HEADER_FIELDS); row_count, row_hashes and final_digest are what
 * the chain itself yields and are checked against the rows. Version 2
 * hashed {subject, time_range, query, parameters, columns} canonically, so a
 * re-dated manifest still verified; version 1 hashed those fields' JSON in
 * the order the exporter wrote them. All three verify; new exports are 3.
 */
export type ManifestVersion = 1 | 2 | 3;
export const MANIFEST_VERSION = 3;

/** The hash descriptor a manifest carries (part of the v3 header). */
export interface HashDescriptor {
  algorithm: 'sha256';
  chain: string;
  header?: string;
  canonical_row: string;
}

export interface Manifest extends ManifestHeader {
  tether_trail_manifest: ManifestVersion;
  generated_at: string;
  format: string;
  row_count: number;
  /** `header` (how h0's input is written) is absent from version 1. */
  hash: HashDescriptor & { h0: string };
  row_hashes: string[];
  final_digest: string;
}

/** What h0 commits to in version 3: every manifest field but the chain's own results. */
export const MANIFEST_HEADER_FIELDS = ['tether_trail_manifest', 'generated_at', 'subject', 'time_range', 'query', 'parameters', 'columns', 'format', 'hash'] as const;
/** The fields of `hash` inside the v3 header (h0 cannot hash itself). */
const HASH_HEADER_FIELDS = ['algorithm', 'chain', 'header', 'canonical_row'] as const;

/** A v3 header: the query's header plus the fields fixed when the export starts. */
export type ChainHeader = ManifestHeader & Partial<Pick<Manifest, 'tether_trail_manifest' | 'generated_at' | 'format'>> & { hash?: Partial<HashDescriptor> };

export const CHAIN_DESCRIPTION = 'h0 = sha256(canonical header); h_i = sha256(h_{i-1} bytes || canonical row i)';
export const CANONICAL_HEADER =
  'UTF-8 bytes of the JSON object {tether_trail_manifest, generated_at, subject, time_range, query, parameters, columns, format, ' +
  'hash: {algorithm, chain, header, canonical_row}} taken from this manifest (every field but hash.h0, row_count, row_hashes and final_digest, ' +
  'which the chain yields), in RFC 8785 (JCS) form: object keys sorted by UTF-16 code units at every depth, arrays in order, no whitespace, ' +
  'strings and numbers as ECMAScript JSON.stringify writes them';
/** Version 2's description, for reference when reading an older manifest. */
export const CANONICAL_HEADER_V2 =
  'UTF-8 bytes of the JSON object {subject, time_range, query, parameters, columns} taken from this manifest, ' +
  'in RFC 8785 (JCS) form: object keys sorted by UTF-16 code units at every depth, arrays in order, no whitespace, ' +
  'strings and numbers as ECMAScript JSON.stringify writes them';
export const CANONICAL_ROW = "UTF-8 JSON array of the row's values in column order (null, string, number, boolean, array of strings)";

/**
 * Types a value the way its column says; ClickHouse's JSON gives 64-bit
 * integers as strings and booleans as 0/1, CSV gives everything as text.
 */
export function normaliseCell(column: Column, value: unknown): CellValue {
  if (value === null && column.nullable) return null;
  switch (column.kind) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'number': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n === 'number' && Number.isFinite(n)) return n;
      break;
    }
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === '1' || value === 'true') return true;
      if (value === 0 || value === '0' || value === 'false') return false;
      break;
    case 'strings':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...value];
      break;
  }
  throw tetherError('TETHER_TRAIL_VERIFY', `column "${column.name}" (${column.nullable ? 'nullable ' : ''}${column.kind}) cannot hold ${JSON.stringify(value)}`, {
    context: { column: column.name },
  });
}

export function normaliseRow(columns: readonly Column[], record: Record<string, unknown>): Row {
  return columns.map((column) => normaliseCell(column, record[column.name]));
}

export function canonicalRow(row: Row): Buffer {
  return Buffer.from(JSON.stringify(row), 'utf8');
}

/** The header a new export's chain starts from: the query's header, the start time and format, this version's hash descriptor. */
export function chainHeader(header: ManifestHeader, format: string, generatedAt: Date): ChainHeader {
  return {
    ...header,
    tether_trail_manifest: MANIFEST_VERSION,
    generated_at: generatedAt.toISOString(),
    format,
    hash: { algorithm: 'sha256', chain: CHAIN_DESCRIPTION, header: CANONICAL_HEADER, canonical_row: CANONICAL_ROW },
  };
}

/**
 * sha256 of the canonical header: version 3 every field of
 * MANIFEST_HEADER_FIELDS, version 2 the query fields, version 1 the query
 * fields' JSON in key order as read.
 */
export function headerHash(header: ChainHeader, version: ManifestVersion = MANIFEST_VERSION): Buffer {
  const { subject, time_range, query, parameters, columns } = header;
  if (version === 3) {
    const hash = header.hash ?? {};
    const fields = {
      tether_trail_manifest: header.tether_trail_manifest, generated_at: header.generated_at, subject, time_range, query, parameters, columns,
      format: header.format, hash: Object.fromEntries(HASH_HEADER_FIELDS.map((k) => [k, hash[k]])),
    };
    return sha256(Buffer.from(canonicalJson(fields), 'utf8'));
  }
  const fields = { subject, time_range, query, parameters, columns };
  return sha256(Buffer.from(version === 1 ? JSON.stringify(fields) : canonicalJson(fields), 'utf8'));
}

/**
 * RFC 8785 (JCS) for the JSON values a manifest holds: JSON.stringify's
 * strings and numbers, object keys sorted by UTF-16 code units (what
 * Array.prototype.sort does), undefined members left out as JSON.stringify
 * leaves them out.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Running chain over rows in export order. */
export class HashChain {
  #current: Buffer;
  readonly h0: string;
  readonly rowHashes: string[] = [];
  readonly #keep: boolean;

  /** `keepHashes: false` (a verifier) keeps only the running digest: memory stays flat however many rows. */
  constructor(header: ChainHeader, version: ManifestVersion = MANIFEST_VERSION, options: { keepHashes?: boolean } = {}) {
    this.#current = headerHash(header, version);
    this.h0 = this.#current.toString('hex');
    this.#keep = options.keepHashes ?? true;
  }

  push(row: Row): string {
    this.#current = sha256(Buffer.concat([this.#current, canonicalRow(row)]));
    const hex = this.#current.toString('hex');
    if (this.#keep) this.rowHashes.push(hex);
    return hex;
  }

  get digest(): string {
    return this.#current.toString('hex');
  }
}

/** The manifest of a finished chain; `chain` must have started from chainHeader(header, format, generatedAt). */
export function buildManifest(header: ManifestHeader, chain: HashChain, format: string, generatedAt: Date): Manifest {
  const start = chainHeader(header, format, generatedAt);
  return {
    tether_trail_manifest: MANIFEST_VERSION,
    generated_at: start.generated_at!,
    ...header,
    format,
    row_count: chain.rowHashes.length,
    hash: { ...(start.hash as HashDescriptor), h0: chain.h0 },
    row_hashes: chain.rowHashes,
    final_digest: chain.digest,
  };
}

export type VerifyResult =
  | { ok: true; rowCount: number; finalDigest: string }
  | { ok: false; reason: VerifyFailure; firstBadRow: number | null; message: string };

/** `not_canonical`: the values match but the file is not written as the exporter writes them. */
export type VerifyFailure = 'header_modified' | 'row_modified' | 'rows_missing' | 'rows_added' | 'digest_mismatch' | 'not_canonical';

/**
 * Recomputes the chain over `rows` (already parsed from the export) and
 * compares it with the manifest. Rows are numbered from 1 as a reviewer
 * counts them; `firstBadRow` is the first whose chained hash differs.
 */
export function verifyChain(manifest: Manifest, rows: readonly Row[]): VerifyResult {
  const chain = new HashChain(manifest, manifest.tether_trail_manifest);
  if (chain.h0 !== manifest.hash.h0) {
    return { ok: false, reason: 'header_modified', firstBadRow: null, message: headerModifiedMessage(manifest.tether_trail_manifest) };
  }
  const n = Math.min(rows.length, manifest.row_hashes.length);
  for (let i = 0; i < n; i++) {
    if (chain.push(rows[i]!) !== manifest.row_hashes[i]) {
      return { ok: false, reason: 'row_modified', firstBadRow: i + 1, message: `row ${i + 1} differs from the row that was exported` };
    }
  }
  if (rows.length < manifest.row_hashes.length || manifest.row_count > rows.length) {
    return { ok: false, reason: 'rows_missing', firstBadRow: rows.length + 1, message: `${Math.max(manifest.row_hashes.length, manifest.row_count) - rows.length} row(s) missing from the end` };
  }
  if (rows.length > manifest.row_hashes.length || rows.length > manifest.row_count) {
    return { ok: false, reason: 'rows_added', firstBadRow: manifest.row_hashes.length + 1, message: `${rows.length - manifest.row_hashes.length} row(s) added after the last exported row` };
  }
  if (chain.digest !== manifest.final_digest) {
    return { ok: false, reason: 'digest_mismatch', firstBadRow: null, message: 'the rows match their hashes but not the final digest: the manifest was edited' };
  }
  return { ok: true, rowCount: rows.length, finalDigest: chain.digest };
}

/**
 * A manifest file's text. Refused: text that is not JSON, a key given twice
 * in one object (JSON.parse keeps the last, other readers keep the first and
 * would show a header other than the one hashed), an unknown version.
 */
export function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw verifyError(`the manifest is not valid JSON (${(err as Error).message})`);
  }
  const duplicate = duplicateKey(text);
  if (duplicate !== null) throw verifyError(`the manifest gives the key ${JSON.stringify(duplicate)} twice in one object`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw verifyError('the manifest is not a JSON object');
  checkManifestVersion(value as Manifest);
  return value as Manifest;
}

export function checkManifestVersion(manifest: Pick<Manifest, 'tether_trail_manifest'>): void {
  const version: unknown = manifest.tether_trail_manifest;
  if (version !== 1 && version !== 2 && version !== 3) {
    throw verifyError(`not a Tether trail manifest of a known version (1, 2 or 3): tether_trail_manifest is ${JSON.stringify(version) ?? 'missing'}`);
  }
}

export function headerModifiedMessage(version: ManifestVersion): string {
  return version === 3
    ? 'the manifest header (generated_at, format, subject, range, query, parameters, columns or hash description) was modified'
    : 'the manifest header (subject, range, query, parameters or columns) was modified';
}

/** The first key repeated within one object of `text`, already known to be valid JSON. */
function duplicateKey(text: string): string | null {
  // One entry per open container: the keys seen so far of an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        const keys = open.at(-1)!;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (ch === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      open.push(null);
    } else if (ch === '}' || ch === ']') {
      open.pop();
      expectKey = false;
    } else if (ch === ',') {
      expectKey = open.at(-1) instanceof Set;
    }
  }
  return null;
}

function verifyError(message: string): Error {
  return tetherError('TETHER_TRAIL_VERIFY', message);
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
