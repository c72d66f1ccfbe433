import { describe, expect, it } from 'vitest';
import { readCsv, type CsvRecord } from '../src/csv-records.ts';

const view = (records: CsvRecord[]) => records.map((r) => (r.error ? [r.line, r.error.code, r.error.message] : [r.line, r.fields]));

describe('RFC 4180 reader', () => {
  it('reads CRLF, LF and lone-CR files alike, with quoted commas, quotes and line breaks', () => {
    const rows = ['name,title', '"Chen, Bo","Account Exec, ""Enterprise"""', '"Ana','Lima",Engineer', 'Bo,x'];
    const expected = [
      [2, ['Chen, Bo', 'Account Exec, "Enterprise"']],
      [3, ['Ana\nLima', 'Engineer']],
      [5, ['Bo', 'x']],
    ];
    for (const eol of ['\r\n', '\n']) {
      const { header, records } = readCsv(Buffer.from(rows.join(eol) + eol));
      expect(header?.fields).toEqual(['name', 'title']);
      // The embedded break is kept as the file wrote it.
      expect(view(records)).toEqual(expected.map(([line, f]) => [line, (f as string[]).map((v) => v.replace('\n', eol))]));
    }
    const cr = readCsv(Buffer.from('name,title\rBo,x\rCy,y'));
    expect(view(cr.records)).toEqual([[2, ['Bo', 'x']], [3, ['Cy', 'y']]]);
  });

  it('keeps each record\'s exact bytes, without the line break; skips the BOM and blank lines; reads a last line without a break', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\r\n\r\n  \r\n"x\r\ny",z\r\nlast,one')]);
    const { header, records } = readCsv(bytes);
    expect(header?.fields).toEqual(['a', 'b']);
    expect(records.map((r) => [r.line, r.raw.toString()])).toEqual([[4, '"x\r\ny",z'], [6, 'last,one']]);
  });

  it('allows spaces around a quoted field; trailing commas are empty fields', () => {
    const { records } = readCsv(Buffer.from('a,b,c\n  "x" , "y",\n'));
    expect(view(records)).toEqual([[2, ['x', 'y', '']]]);
  });

  it('refuses a malformed row with its bytes and reads on from the next line', () => {
    const file = [
      'a,b',
      'ok,1',
      'stray "quote",2',
      '"closed"then,3',
      '"never closed,4',
      'after,5',
      'short',
      'too,many,fields',
      'end,6',
    ].join('\n');
    const { records } = readCsv(Buffer.from(file));
    expect(records.map((r) => [r.line, r.raw.toString(), r.error?.message ?? r.fields])).toEqual([
      [2, 'ok,1', ['ok', '1']],
      [3, 'stray "quote",2', 'line 3: a quote inside an unquoted field (such a field must be quoted and the quote doubled)'],
      [4, '"closed"then,3', 'line 4: text follows a closing quote (a quote inside a quoted field must be doubled)'],
      [5, '"never closed,4', 'line 5: a quoted field is never closed'],
      [6, 'after,5', ['after', '5']],
      [7, 'short', 'line 7: 1 fields where the header has 2'],
      [8, 'too,many,fields', 'line 8: 3 fields where the header has 2'],
      [9, 'end,6', ['end', '6']],
    ]);
    expect(records.filter((r) => r.error).every((r) => r.error!.code === 'TETHER_SOURCE_PARSE')).toBe(true);
  });

  it('does not let a stray quote swallow the rows after it: the row that opened it is refused, the next ones are read', () => {
    // The quote opened on line 2 "closes" on line 3; the record would span both with the wrong shape.
    const { records } = readCsv(Buffer.from('a,b\nx,"oops\n"y",2\nz,3\n'));
    expect(records.map((r) => [r.line, r.error ? 'refused' : r.fields])).toEqual([[2, 'refused'], [3, ['y', '2']], [4, ['z', '3']]]);
  });

  it('refuses NUL bytes and bytes that are not UTF-8, keeping the bytes exactly', () => {
    const latin1 = Buffer.from('Jos\xe9,1', 'latin1');
    const overlong = Buffer.from([0x78, 0xc0, 0xaf, 0x2c, 0x31]);
    const surrogate = Buffer.from([0x78, 0xed, 0xa0, 0x80, 0x2c, 0x31]);
    const nul = Buffer.from('a\u0000b,1');
    const { records } = readCsv(Buffer.concat([Buffer.from('a,b\n'), ...[latin1, overlong, surrogate, nul].flatMap((r) => [r, Buffer.from('\n')])]));
    expect(records.map((r) => r.error?.message)).toEqual([
      'line 2: not UTF-8: byte 0xe9 at byte 3 of the row (a latin-1 or cp1252 export?)',
      'line 3: not UTF-8: byte 0xc0 at byte 1 of the row (a latin-1 or cp1252 export?)',
      'line 4: not UTF-8: byte 0xed at byte 1 of the row (a latin-1 or cp1252 export?)',
      'line 5: a NUL byte at byte 1 of the row',
    ]);
    expect(records.map((r) => r.raw)).toEqual([latin1, overlong, surrogate, nul]);
  });

  it('reads 1 MB fields, quoted (with escaped quotes) or not', () => {
    const big = 'x'.repeat(1 << 20);
    const quoted = `"${'a""'.repeat(350_000)}"`;
    const { records } = readCsv(Buffer.from(`a,b\n${big},1\n${quoted},2\n`));
    expect(records[0]!.fields![0]).toHaveLength(1 << 20);
    expect(records[1]!.fields![0]).toBe('a"'.repeat(350_000));
  });

  it('gives a file without records an undefined header', () => {
    for (const bytes of ['', '\n\n', '\ufeff', '   \r\n']) expect(readCsv(Buffer.from(bytes))).toEqual({ header: undefined, records: [] });
  });

  it('never throws and accounts for every record on mangled input', () => {
    const base = Buffer.from('email,external_id,status\r\n"a@x.io",E1,active\r\nb@x.io,"E,2",active\n"c\n@x.io",E3,"ter""minated"\r\n');
    const noise = [0x22, 0x2c, 0x0d, 0x0a, 0x00, 0xff, 0xc3, 0x20, 0x41];
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff) / 0x7fffffff);
    for (let round = 0; round < 2_000; round++) {
      const bytes = Buffer.from(base);
      for (let n = 0; n < 1 + Math.floor(random() * 4); n++) bytes[Math.floor(random() * bytes.length)] = noise[Math.floor(random() * noise.length)]!;
      const { header, records } = readCsv(bytes);
      for (const r of [...(header ? [header] : []), ...records]) {
        expect(bytes.includes(r.raw)).toBe(true);
        expect(r.error === undefined ? Array.isArray(r.fields) : r.error.code === 'TETHER_SOURCE_PARSE').toBe(true);
      }
    }
  });
});
