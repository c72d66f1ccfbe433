import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { bindQuery, formatValue, placeholders, quoteBytes, quoteString, toEpochMs } from '../src/bind.ts';
import { hostileBytes, hostileString, prng } from './hostile.ts';

/**
 * An oracle written from ClickHouse's lexer rules (not from bind.ts): reads
 * the '...' literal starting at `at`, returns its bytes and where it ends.
 */
function readLiteral(sql: string, at: number): { bytes: Buffer; end: number } {
  expect(sql[at]).toBe("'");
  const out: number[] = [];
  const simple: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9, '0': 0, a: 7, v: 11 };
  let i = at + 1;
  for (;;) {
    const ch = sql[i];
    if (ch === undefined) throw new Error('unterminated literal');
    if (ch === "'") {
      if (sql[i + 1] === "'") {
        out.push(0x27);
        i += 2;
        continue;
      }
      return { bytes: Buffer.from(out), end: i + 1 };
    }
    if (ch === '\\') {
      const next = sql[i + 1]!;
      if (next === 'x') {
        out.push(parseInt(sql.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        out.push(...Buffer.from(simple[next] !== undefined ? String.fromCharCode(simple[next]) : next));
        i += 2;
      }
      continue;
    }
    const cp = sql.codePointAt(i)!;
    out.push(...Buffer.from(String.fromCodePoint(cp)));
    i += cp > 0xffff ? 2 : 1;
  }
}

function bindError(fn: () => unknown): TetherError {
  try {
    fn();
  } catch (err) {
    if (TetherError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a TETHER_QUERY_BIND error');
}

describe('quoteString', () => {
  it('escapes quote, backslash and control characters, keeps other text readable', () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString('a\\b')).toBe("'a\\\\b'");
    expect(quoteString('a\0b\n\r\t\x7f')).toBe("'a\\x00b\\x0A\\x0D\\x09\\x7F'");
    expect(quoteString('é😀 -- /* ;')).toBe("'é😀 -- /* ;'");
    expect(quoteString('')).toBe("''");
  });

  it('writes line separators, C1 controls and bidi marks as the bytes they are', () => {
    expect(quoteString('a\u2028b\u0085c\u202ed')).toBe("'a\\xE2\\x80\\xA8b\\xC2\\x85c\\xE2\\x80\\xAEd'");
  });

  it('refuses lone surrogates instead of letting them turn into U+FFFD', () => {
    expect(bindError(() => quoteString('a\ud800b', 'who')).code).toBe('TETHER_QUERY_BIND');
    expect(bindError(() => quoteString('\udc00')).message).toMatch(/lone surrogate/);
  });

  it('keeps exact bytes, invalid UTF-8 included, as hex escapes', () => {
    expect(quoteBytes(Uint8Array.of(0x61, 0xff, 0x27, 0x5c, 0x00))).toBe("'a\\xFF\\'\\\\\\x00'");
  });
});

describe('bindQuery', () => {
  it('binds every supported type to a typed literal', () => {
    const sql = bindQuery(
      'SELECT {s:String}, {i:Int64}, {u:UInt64}, {f:Float64}, {t:DateTime}, {a:Array(String)}, {e:Array(String)}',
      { s: 'x', i: '-9223372036854775808', u: 18446744073709551615n, f: 0.25, t: '2026-03-01T10:00:00.999Z', a: ['p', "q'"], e: [] },
    );
    expect(sql).toBe(
      "SELECT 'x', (-9223372036854775808), 18446744073709551615, toFloat64(0.25), " +
        "toDateTime(1772359200, 'UTC'), ['p', 'q\\''], emptyArrayString()",
    );
  });

  it('reuses a parameter wherever it appears and leaves braces in literals and comments alone', () => {
    const sql = bindQuery("SELECT '{x:String}', \"{x}\" -- {x:String}\n, {x:String} /* {y:Int64} */ WHERE a = {x:String}", { x: 'v' });
    expect(sql).toBe("SELECT '{x:String}', \"{x}\" -- {x:String}\n, 'v' /* {y:Int64} */ WHERE a = 'v'");
  });

  it('fails on missing, unknown and conflicting parameters, naming them', () => {
    expect(bindError(() => bindQuery('SELECT {a:String}', {})).message).toMatch(/missing parameter "a"/);
    expect(bindError(() => bindQuery('SELECT {a:String}', { a: 'x', b: 'y' })).message).toMatch(/unknown parameter "b"/);
    expect(bindError(() => bindQuery('SELECT {a:String}, {a:Int64}', { a: '1' })).message).toMatch(/both String and Int64/);
    expect(bindError(() => placeholders('SELECT {a:String}, {a:Int64}')).code).toBe('TETHER_QUERY_BIND');
    expect(bindError(() => bindQuery('SELECT {a:Nullable(String)}', { a: 'x' })).message).toMatch(/unsupported parameter type/);
    expect(bindError(() => bindQuery('SELECT {a}', {})).message).toMatch(/malformed placeholder/);
    expect(bindError(() => bindQuery("SELECT 'open", {})).message).toMatch(/unterminated/);
  });

  it('keeps a negative integer from turning the rest of a line into a comment', () => {
    expect(bindQuery('SELECT 1 -{x:Int64} AS v', { x: -5 })).toBe('SELECT 1 -(-5) AS v');
    expect(bindQuery('SELECT 1 LIMIT {n:UInt64}', { n: '10' })).toBe('SELECT 1 LIMIT 10');
  });

  it('lists placeholders once each, in order', () => {
    expect(placeholders('SELECT {b:Int64}, {a:String}, {b:Int64}')).toEqual([
      { name: 'b', type: 'Int64' },
      { name: 'a', type: 'String' },
    ]);
  });
});

describe('strict values', () => {
  const bad: Array<[Parameters<typeof formatValue>[0], unknown]> = [
    ['Int64', '1.5'], ['Int64', '1e3'], ['Int64', ' 1'], ['Int64', '0x10'], ['Int64', '9223372036854775808'],
    ['Int64', 1.5], ['Int64', Number.MAX_SAFE_INTEGER + 1], ['Int64', '1 OR 1=1'], ['Int64', ''],
    ['UInt64', '-1'], ['UInt64', -1], ['UInt64', '18446744073709551616'], ['UInt64', '01'],
    ['Float64', Number.NaN], ['Float64', Infinity], ['Float64', '1e999'], ['Float64', 'inf'], ['Float64', '1;'],
    // Subnormals (and text that underflows to 0): 18.16's lexer calls them a syntax error.
    ['Float64', 5e-324], ['Float64', '4.9e-324'], ['Float64', -2.225073858507201e-308], ['Float64', '1e-400'], ['Float64', '-0.1e-307'],
    // Digits too short for epoch ms: a compact date, epoch seconds, 1970.
    ['DateTime', '20260101'], ['DateTime', '1767225600'], ['DateTime', '0'], ['DateTime', '99999999999'], ['DateTime', '0001767225600000'],
    ['DateTime', '2026-02-30'], ['DateTime', '2026-01-01T24:00:00Z'], ['DateTime', '2026-01-01T10:00:00+25:00'],
    ['DateTime', 'yesterday'], ['DateTime', '1969-12-31T23:59:59Z'], ['DateTime', '2107-01-01'], ['DateTime', -1],
    ['DateTime', '2026-01-01 10:00:00\' OR 1=1'], ['DateTime', Number.NaN],
    ['String', 5], ['String', ['a']], ['Array(String)', 'a'], ['Array(String)', ['a', 1]],
  ];
  it.each(bad)('%s refuses %j', (type, value) => {
    expect(bindError(() => formatValue(type, value as never, 'p')).code).toBe('TETHER_QUERY_BIND');
  });

  it('reads ISO times with offsets and epoch ms alike', () => {
    const expected = Date.UTC(2026, 0, 15, 8, 30, 0);
    expect(toEpochMs('2026-01-15T08:30:00Z')).toBe(expected);
    expect(toEpochMs('2026-01-15T10:30:00+02:00')).toBe(expected);
    expect(toEpochMs('2026-01-15 03:30-0500')).toBe(expected);
    expect(toEpochMs(String(expected))).toBe(expected);
    expect(toEpochMs(expected)).toBe(expected);
    expect(toEpochMs(new Date(expected))).toBe(expected);
    expect(toEpochMs('2026-01-15')).toBe(Date.UTC(2026, 0, 15));
    expect(toEpochMs('100000000000')).toBe(100_000_000_000);
  });

  it('says what to write instead of a digit string that is not epoch ms', () => {
    expect(bindError(() => toEpochMs('20260101', 'from')).message).toMatch(/"from".*not epoch milliseconds.*ISO-8601.*write 2026-01-01$/);
    expect(bindError(() => toEpochMs('1767225600', 'to')).message).toMatch(/epoch seconds that is 1767225600000 in ms/);
  });

  it('binds every normal Float64 and refuses the subnormals with the reason', () => {
    expect(formatValue('Float64', 2.2250738585072014e-308)).toBe('toFloat64(2.2250738585072014e-308)');
    expect(formatValue('Float64', '-2.2250738585072014e-308')).toBe('toFloat64(-2.2250738585072014e-308)');
    expect(formatValue('Float64', '0.000e-400')).toBe('toFloat64(0)');
    expect(bindError(() => formatValue('Float64', 5e-324, 'f')).message).toMatch(/"f" is too close to zero/);
    const rand = prng(0xf10a7);
    const bits = new DataView(new ArrayBuffer(8));
    for (let n = 0; n < 5000; n++) {
      bits.setUint32(0, Math.floor(rand() * 2 ** 32));
      bits.setUint32(4, Math.floor(rand() * 2 ** 32));
      // Exponent 0 (zero and subnormals) half of the time, so both sides of the line are exercised.
      if (n % 2 === 0) bits.setUint16(0, bits.getUint16(0) & 0x800f);
      const x = bits.getFloat64(0);
      if (!Number.isFinite(x)) continue;
      const subnormal = x !== 0 && Math.abs(x) < 2 ** -1022;
      if (subnormal) expect(bindError(() => formatValue('Float64', x)).code).toBe('TETHER_QUERY_BIND');
      else expect(formatValue('Float64', x), String(x)).toBe(`toFloat64(${Object.is(x, -0) ? 0 : x})`);
    }
  });
});

describe('binder fuzz (pure)', () => {
  const SEED = 0x7e7e_2026;
  const TEMPLATE = 'SELECT {s:String} AS v, {a:Array(String)} AS w -- trailing {x:String}\nWHERE 1';

  it('no hostile string ends its literal early or changes the rest of the query', () => {
    const rand = prng(SEED);
    for (let n = 0; n < 5000; n++) {
      const s = hostileString(rand);
      const a = [hostileString(rand), hostileString(rand)];
      const sql = bindQuery(TEMPLATE, { s, a });
      const context = `seed ${SEED} case ${n}: ${JSON.stringify(s)}`;
      expect(sql.startsWith('SELECT '), context).toBe(true);
      const v = readLiteral(sql, 'SELECT '.length);
      expect(v.bytes.toString('utf8'), context).toBe(s);
      expect(sql.slice(v.end, v.end + ' AS v, ['.length), context).toBe(' AS v, [');
      const a0 = readLiteral(sql, v.end + ' AS v, ['.length);
      expect(sql.slice(a0.end, a0.end + 2), context).toBe(', ');
      const a1 = readLiteral(sql, a0.end + 2);
      expect([a0.bytes.toString('utf8'), a1.bytes.toString('utf8')], context).toEqual(a);
      expect(sql.slice(a1.end), context).toBe('] AS w -- trailing {x:String}\nWHERE 1');
      // Bound text carries no raw control character or line separator: a literal cannot span a line.
      expect(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(sql.slice(0, a1.end)), context).toBe(false);
    }
  });

  it('hostile bytes come back byte for byte', () => {
    const rand = prng(SEED + 1);
    for (let n = 0; n < 2000; n++) {
      const bytes = hostileBytes(rand);
      const sql = bindQuery('SELECT {b:String}', { b: bytes });
      const lit = readLiteral(sql, 'SELECT '.length);
      expect(lit.end, `seed ${SEED + 1} case ${n}`).toBe(sql.length);
      expect(Buffer.compare(lit.bytes, Buffer.from(bytes)), `seed ${SEED + 1} case ${n}`).toBe(0);
    }
  });

  it('hostile text for numeric and time types is refused, never pasted', () => {
    const rand = prng(SEED + 2);
    for (let n = 0; n < 2000; n++) {
      const s = hostileString(rand);
      for (const type of ['Int64', 'UInt64', 'Float64', 'DateTime'] as const) {
        let out: string | undefined;
        try {
          out = formatValue(type, s, 'p');
        } catch (err) {
          expect(TetherError.is(err) && err.code).toBe('TETHER_QUERY_BIND');
        }
        if (out !== undefined) expect(out, `${type} ${JSON.stringify(s)}`).toMatch(/^(\d+|\(-\d+\)|to(Float64|DateTime)\([-0-9.e+]+(, 'UTC')?\))$/);
      }
    }
  });
});
