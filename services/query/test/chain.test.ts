import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildManifest, chainHeader, HashChain, normaliseRow, verifyChain, type Column, type ManifestHeader, type Row } from '../src/chain.ts';
import { EXPORT_FORMATS, exportWriter, parseExport, type ExportFormat } from '../src/export-format.ts';
import { hostileString, prng } from './hostile.ts';

const COLUMNS: Column[] = [
  { name: 'event_id', kind: 'string' },
  { name: 'event_time_ms', kind: 'number' },
  { name: 'person_email', kind: 'string', nullable: true },
  { name: 'device_managed', kind: 'bool', nullable: true },
  { name: 'confidence', kind: 'number' },
  { name: 'chain_ids', kind: 'strings' },
];

const HEADER: ManifestHeader = {
  subject: { kind: 'email', value: 'alice@example.com' },
  time_range: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' },
  query: "SELECT ... WHERE person_email = 'alice@example.com'",
  parameters: { email: 'alice@example.com' },
  columns: COLUMNS,
};

/** Rows as ClickHouse's JSONEachRow gives them: 64-bit ints as strings, bools as 0/1. */
function clickhouseRows(count: number, seed: number): Record<string, unknown>[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => ({
    event_id: `ev-${i}-${hostileString(rand)}`,
    event_time_ms: String(1767225600000 + i * 1000),
    person_email: i % 3 === 0 ? null : i % 3 === 1 ? '' : `=${hostileString(rand)}`,
    device_managed: i % 4 === 0 ? null : i % 2,
    confidence: [0.9, 1, 0.333333343267, 0][i % 4],
    chain_ids: i % 2 ? [] : [hostileString(rand), 'openai:api_key:key_1'],
  }));
}

function exportRows(format: ExportFormat, rows: Row[]): { text: string; manifest: ReturnType<typeof buildManifest> } {
  const writer = exportWriter(format, COLUMNS);
  const chain = new HashChain(chainHeader(HEADER, format, new Date('2026-02-02T00:00:00Z')));
  let text = writer.begin();
  for (const row of rows) {
    chain.push(row);
    text += writer.row(row);
  }
  text += writer.end();
  return { text, manifest: buildManifest(HEADER, chain, format, new Date('2026-02-02T00:00:00Z')) };
}

describe('hash chain', () => {
  it('is h_i = sha256(h_{i-1} || canonical row) from a header hash', () => {
    const rows = clickhouseRows(3, 1).map((r) => normaliseRow(COLUMNS, r));
    const { manifest } = exportRows('ndjson', rows);
    // The header as JSON with every object's keys sorted (the replacer rebuilds each object in key order).
    const sorted = (_key: string, value: unknown) =>
      value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))) : value;
    let h = createHash('sha256')
      .update(JSON.stringify({
        time_range: HEADER.time_range, subject: HEADER.subject, query: HEADER.query, parameters: HEADER.parameters, columns: COLUMNS,
        tether_trail_manifest: 3, generated_at: manifest.generated_at, format: 'ndjson',
        hash: { algorithm: 'sha256', chain: manifest.hash.chain, header: manifest.hash.header, canonical_row: manifest.hash.canonical_row },
      }, sorted))
      .digest();
    expect(manifest.hash.h0).toBe(h.toString('hex'));
    for (const [i, row] of rows.entries()) {
      h = createHash('sha256').update(Buffer.concat([h, Buffer.from(JSON.stringify(row))])).digest();
      expect(manifest.row_hashes[i]).toBe(h.toString('hex'));
    }
    expect(manifest.final_digest).toBe(h.toString('hex'));
    expect(manifest.row_count).toBe(3);
  });

  it('an empty trail still has a digest bound to its header', () => {
    const { manifest } = exportRows('json', []);
    expect(manifest.final_digest).toBe(manifest.hash.h0);
    expect(verifyChain(manifest, [])).toEqual({ ok: true, rowCount: 0, finalDigest: manifest.hash.h0 });
  });
});

describe.each(EXPORT_FORMATS)('%s export', (format) => {
  const rows = clickhouseRows(40, 7).map((r) => normaliseRow(COLUMNS, r));

  it('reads back to the same typed rows, hostile values included, and verifies', () => {
    const { text, manifest } = exportRows(format, rows);
    const back = parseExport(format, text, COLUMNS);
    expect(back).toEqual(rows);
    expect(verifyChain(manifest, back)).toMatchObject({ ok: true, rowCount: 40 });
  });

  it('names the first modified row', () => {
    const { text, manifest } = exportRows(format, rows);
    const edited = rows.map((r) => [...r]);
    edited[16]![0] = `${edited[16]![0] as string}x`;
    edited[30]![4] = 0.5;
    const { text: editedText } = exportRows(format, edited);
    expect(editedText).not.toBe(text);
    expect(verifyChain(manifest, parseExport(format, editedText, COLUMNS))).toMatchObject({
      ok: false,
      reason: 'row_modified',
      firstBadRow: 17,
    });
  });

  it('detects removed, added and reordered rows', () => {
    const { manifest } = exportRows(format, rows);
    const reparse = (r: Row[]) => parseExport(format, exportRows(format, r).text, COLUMNS);
    expect(verifyChain(manifest, reparse(rows.slice(0, 39)))).toMatchObject({ ok: false, reason: 'rows_missing', firstBadRow: 40 });
    expect(verifyChain(manifest, reparse([...rows, rows[0]!]))).toMatchObject({ ok: false, reason: 'rows_added', firstBadRow: 41 });
    expect(verifyChain(manifest, reparse([rows[1]!, rows[0]!, ...rows.slice(2)]))).toMatchObject({ ok: false, firstBadRow: 1 });
  });
});

describe('manifest edits', () => {
  const rows = clickhouseRows(5, 3).map((r) => normaliseRow(COLUMNS, r));

  it('a changed query or time range in the manifest is caught', () => {
    const { manifest } = exportRows('csv', rows);
    expect(verifyChain({ ...manifest, query: `${manifest.query} OR 1=1` }, rows)).toMatchObject({ ok: false, reason: 'header_modified' });
    expect(verifyChain({ ...manifest, time_range: { ...manifest.time_range, to: '2027-01-01T00:00:00.000Z' } }, rows)).toMatchObject({
      ok: false,
      reason: 'header_modified',
    });
  });

  it('a rewritten final digest is caught', () => {
    const { manifest } = exportRows('csv', rows);
    expect(verifyChain({ ...manifest, final_digest: '0'.repeat(64) }, rows)).toMatchObject({ ok: false, reason: 'digest_mismatch' });
  });
});

describe('CSV specifics', () => {
  it('guards spreadsheet formulas and keeps null apart from the empty string', () => {
    const row = normaliseRow(COLUMNS, { event_id: '=HYPERLINK("x")', event_time_ms: 1, person_email: '', device_managed: null, confidence: 1, chain_ids: ['a"b'] });
    const line = exportWriter('csv', COLUMNS).row(row);
    expect(line).toBe(`"'=HYPERLINK(""x"")",1,"",,1,"[""a\\""b""]"\r\n`);
    const header = exportWriter('csv', COLUMNS).begin();
    expect(parseExport('csv', header + line, COLUMNS)).toEqual([row]);
    const withNullEmail = parseExport('csv', header + line.replace(',"",', ',,'), COLUMNS);
    expect(withNullEmail[0]![2]).toBeNull();
  });

  it('refuses a file whose header is not the manifest columns', () => {
    expect(() => parseExport('csv', 'event_id,other\r\n', COLUMNS)).toThrow(/header does not match/);
  });
});
