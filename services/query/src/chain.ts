// Tamper evidence for exported trails: each row's canonical bytes are hashed
// into a chain, h_i = sha256(h_{i-1} || row_i), whose start h_0 commits to
// the manifest header (subject, range, query, parameters, columns). The same
// canonical bytes come out of CSV, JSON and NDJSON, so a reviewer can verify
// whichever file they were given.
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

export interface Manifest extends ManifestHeader {
  tether_trail_manifest: 1;
  generated_at: string;
  format: string;
  row_count: number;
  hash: { algorithm: 'sha256'; chain: string; canonical_row: string; h0: string };
  row_hashes: string[];
  final_digest: string;
}

export const CHAIN_DESCRIPTION = 'h0 = sha256(UTF-8 JSON of the header); h_i = sha256(h_{i-1} bytes || canonical row i)';
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

export function headerHash(header: ManifestHeader): Buffer {
  const { subject, time_range, query, parameters, columns } = header;
  return sha256(Buffer.from(JSON.stringify({ subject, time_range, query, parameters, columns }), 'utf8'));
}

/** Running chain over rows in export order. */
export class HashChain {
  #current: Buffer;
  readonly h0: string;
  readonly rowHashes: string[] = [];

  constructor(header: ManifestHeader) {
    this.#current = headerHash(header);
    this.h0 = this.#current.toString('hex');
  }

  push(row: Row): string {
    this.#current = sha256(Buffer.concat([this.#current, canonicalRow(row)]));
    const hex = this.#current.toString('hex');
    this.rowHashes.push(hex);
    return hex;
  }

  get digest(): string {
    return this.#current.toString('hex');
  }
}

export function buildManifest(header: ManifestHeader, chain: HashChain, format: string, generatedAt: Date): Manifest {
  return {
    tether_trail_manifest: 1,
    generated_at: generatedAt.toISOString(),
    ...header,
    format,
    row_count: chain.rowHashes.length,
    hash: { algorithm: 'sha256', chain: CHAIN_DESCRIPTION, canonical_row: CANONICAL_ROW, h0: chain.h0 },
    row_hashes: chain.rowHashes,
    final_digest: chain.digest,
  };
}

export type VerifyResult =
  | { ok: true; rowCount: number; finalDigest: string }
  | { ok: false; reason: 'header_modified' | 'row_modified' | 'rows_missing' | 'rows_added' | 'digest_mismatch'; firstBadRow: number | null; message: string };

/**
 * Recomputes the chain over `rows` (already parsed from the export) and
 * compares it with the manifest. Rows are numbered from 1 as a reviewer
 * counts them; `firstBadRow` is the first whose chained hash differs.
 */
export function verifyChain(manifest: Manifest, rows: readonly Row[]): VerifyResult {
  const chain = new HashChain(manifest);
  if (chain.h0 !== manifest.hash.h0) {
    return { ok: false, reason: 'header_modified', firstBadRow: null, message: 'the manifest header (subject, range, query, parameters or columns) was modified' };
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

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}
