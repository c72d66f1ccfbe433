// Real-world and hostile CSV shapes through the whole pure import: each bad
// row is refused with its bytes and a reason, the good rows around it land,
// and nothing throws.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseDirectoryCsv, type DirectoryRow } from '../src/csv-directory.ts';

const OBSERVED = Date.UTC(2026, 10, 25);
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name));
const parse = (csv: string | Buffer) => normaliseDirectoryCsv(typeof csv === 'string' ? Buffer.from(csv) : csv, { observedAt: OBSERVED });
const outcome = (r: DirectoryRow) => (r.ok ? 'ok' : r.error.code);
const HEADER = 'email,external_id,status,source,updated_at';

describe('directory CSV, a hostile export (BOM, CRLF, odd header, broken rows)', () => {
  const file = fixture('hostile.csv');
  const parsed = parse(file);
  const byLine = new Map(parsed.rows.map((r) => [r.line, r]));

  it('reads a header with a BOM, other case, padding and order, and an unknown column', () => {
    expect(parsed.fileError).toBeNull();
    expect(parsed.ignoredColumns).toEqual(['notes']);
  });

  it('refuses each broken row with a reason and lands the rest', () => {
    expect(parsed.rows.map((r) => [r.line, outcome(r)])).toEqual([
      [2, 'ok'],
      [4, 'ok'],
      [5, 'TETHER_SOURCE_PARSE'], // too few fields
      [6, 'TETHER_SOURCE_PARSE'], // too many fields
      [7, 'TETHER_SOURCE_PARSE'], // a quote inside an unquoted field
      [8, 'TETHER_SOURCE_PARSE'], // latin-1
      [9, 'TETHER_SOURCE_PARSE'], // NUL
      [10, 'TETHER_SOURCE_PARSE'], // text after a closing quote
      [11, 'TETHER_SOURCE_PARSE'], // a quote never closed
      [12, 'ok'], // read although the quote on line 11 is never closed
    ]);
    expect(parsed.blankRows).toBe(1); // ",,,,,,,,," padding; the empty last line is not a row at all
    const latin1 = byLine.get(8)!;
    expect(latin1.ok ? '' : latin1.error.message).toMatch(/^line 8: not UTF-8: byte 0xe9/);
  });

  it('dead-letters the original bytes, not a decoded copy (latin-1 and NUL survive)', () => {
    // Records end in CRLF; the one on lines 2-3 holds a bare LF, so record n >= 4 is on line n + 1.
    const records = file.toString('latin1').split('\r\n');
    for (const line of [8, 9, 10, 11]) expect(byLine.get(line)!.raw.equals(Buffer.from(records[line - 2]!, 'latin1'))).toBe(true);
    expect(byLine.get(2)!.raw.toString()).toBe(records[1]);
    expect(records[1]).toContain('""Staff""\nEngineer"');
  });

  it('keeps formula-looking values verbatim: they are data, escaping is the exporter\'s job', () => {
    const bo = byLine.get(4)!;
    expect(bo.ok && bo.versions[0]).toMatchObject({ display_name: "=cmd|' /C calc'!A0", title: '+SUM(1+1)', department: '-2+3' });
  });

  it('reads quoted commas, doubled quotes and line breaks inside a field', () => {
    const ana = byLine.get(2)!;
    expect(ana.ok && ana.versions[0]).toMatchObject({ display_name: 'Lima, Ana', title: 'Senior "Staff"\nEngineer', department: 'Research' });
    // Hal's manager is named by the address of a person on a multi-line row.
    const hal = byLine.get(12)!;
    expect(hal.ok && hal.versions[0]!.manager_person_id).toBe('hr:E1');
  });

  it('reads LF and CRLF copies of the file to the same versions', () => {
    const lf = parse(Buffer.from(file.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'));
    const versions = (rows: DirectoryRow[]) => rows.flatMap((r) => (r.ok ? r.versions : [])).map((v) => ({ ...v, title: v.title?.replace('\r\n', '\n') ?? null }));
    expect(versions(lf.rows)).toEqual(versions(parsed.rows));
    expect(lf.rows.map(outcome)).toEqual(parsed.rows.map(outcome));
  });
});

describe('directory CSV, files that cannot be read at all', () => {
  it('refuses empty files, a BOM alone and UTF-16 whole, with a reason', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from('\ufeff'), Buffer.from('\r\n\r\n')]) {
      expect(parse(bytes).fileError?.message).toBe('directory CSV is empty (no header row)');
    }
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\r\n`, 'utf16le')]);
    expect(parse(utf16).fileError).toMatchObject({ code: 'TETHER_SOURCE_PARSE', message: expect.stringMatching(/UTF-16/) });
  });

  it('refuses a header it cannot read', () => {
    expect(parse('"email,external_id\na,b\n').fileError?.message).toMatch(/header is unreadable: line 1: a quoted field is never closed/);
  });

  it('imports a header-only file (with or without a trailing line) as nothing, without error', () => {
    for (const csv of [HEADER, `${HEADER}\n`, `${HEADER}\r\n\r\n`]) expect(parse(csv)).toMatchObject({ fileError: null, rows: [], notes: [] });
  });
});

describe('directory CSV, columns', () => {
  it('reads the required columns alone (every optional one missing)', () => {
    const [row] = parse(`${HEADER}\nana@example.com,E1,active,hr,2026-01-01\n`).rows;
    expect(row!.ok && row!.versions).toEqual([{
      person_id: 'hr:E1', record_kind: 'directory', valid_from: Date.UTC(2026, 0, 1),
      source: { platform: 'hr', feed: 'directory_csv', source_time: '2026-01-01', observed_at: OBSERVED },
      active: true, lifecycle_state: 'active', email: 'ana@example.com', display_name: null, department: null, title: null,
      manager_person_id: null, aliases: [{ kind: 'email', value: 'ana@example.com' }, { kind: 'external_id', value: 'E1' }], platform_role: null,
      groups: null, directory_record: null,
    }]);
  });

  it('reads a column named twice from the filled copy and refuses a row that gives it two values', () => {
    const csv = `${HEADER},Email,title,TITLE\na@example.com,E1,active,hr,2026-01-01,,Eng,Eng\nb@example.com,E2,active,hr,2026-01-01,c@example.com,,\nd@example.com,E3,active,hr,2026-01-01,d@example.com,X,Y\n`;
    const { rows } = parse(csv);
    expect(rows.map((r) => (r.ok ? [r.versions[0]!.email, r.versions[0]!.title] : r.error.message))).toEqual([
      ['a@example.com', 'Eng'],
      'line 3: column email appears 2 times in the header and this row gives it different values',
      'line 4: column title appears 2 times in the header and this row gives it different values',
    ]);
  });

  it('refuses 1 MB values in the columns it stores, and lands a row whose 1 MB value is in a column it ignores', () => {
    const mb = 'A'.repeat(1 << 20);
    const { rows, ignoredColumns } = parse(`${HEADER},display_name,blob\na@example.com,E1,active,hr,2026-01-01,${mb},x\nb@example.com,E2,active,hr,2026-01-01,Bo,"${mb}"\n`);
    expect(rows.map((r) => (r.ok ? 'ok' : [r.error.code, r.error.message]))).toEqual([
      ['TETHER_RECORD_TOO_LARGE', 'line 2: display_name is 1048576 characters long; at most 1024 are kept'],
      'ok',
    ]);
    expect(rows[0]!.raw.equals(Buffer.from(`a@example.com,E1,active,hr,2026-01-01,${mb},x`))).toBe(true);
    expect(ignoredColumns).toEqual(['blob']);
  });

  it('refuses control and invisible characters in identifiers but keeps free text as written', () => {
    const { rows } = parse(`${HEADER},display_name\n"ana\u200b@example.com",E1,active,hr,2026-01-01,A\nb@example.com,"E\u202e2",active,hr,2026-01-01,B\nc@example.com,E3,active,hr,2026-01-01,"Zoë \u200d 👩‍💻"\n`);
    expect(rows.map((r) => (r.ok ? r.versions[0]!.display_name : r.error.message))).toEqual([
      'line 2: email "ana\u200b@example.com" holds a control, invisible or replacement character',
      'line 3: external_id "E\u202e2" holds a control, invisible or replacement character',
      'Zoë \u200d 👩‍💻',
    ]);
  });

  it('never throws on mangled files: every row is a version or a refusal', () => {
    const base = fixture('workday-2026-11-20.csv');
    const noise = [0x22, 0x2c, 0x0a, 0x00, 0xe9, 0x40, 0x3b, 0x20];
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.from(base);
      for (let n = 0; n < 1 + Math.floor(random() * 6); n++) bytes[Math.floor(random() * bytes.length)] = noise[Math.floor(random() * noise.length)]!;
      const parsed = parse(bytes);
      for (const r of parsed.rows) {
        expect(bytes.includes(r.raw)).toBe(true);
        if (r.ok) expect(r.versions.length).toBeGreaterThan(0);
        else expect(['TETHER_SOURCE_PARSE', 'TETHER_NORMALISE_INVALID', 'TETHER_RECORD_TOO_LARGE', 'TETHER_DUPLICATE_CONFLICT']).toContain(r.error.code);
      }
    }
  });
});
