// The binder against the real ClickHouse 18.16 lexer: thousands of hostile
// strings, lists and byte strings, each bound into `SELECT {s:String} AS v`
// (many per query to keep it fast). Every query must come back as exactly
// one row whose values are exactly what was bound: nothing ended a literal
// early, commented out the rest, added a statement or a FORMAT clause.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from '#clickhouse';
import { TetherError } from '#errors';
import { testConfig } from '#testkit';
import { bindQuery, type ParamValue } from '../src/bind.ts';
import { hostileBytes, hostileString, prng } from './hostile.ts';

const SEED = 0x18_16_2026;
const BATCH = 200;
let ch: ClickHouse;

beforeAll(() => {
  const config = testConfig();
  ch = createClickHouse({ url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD, database: 'system' });
});

afterAll(async () => {
  await ch?.close();
});

/** Binds `values` as v0..vN of one SELECT (each through `expr`) and returns the single row. */
async function roundTrip(type: string, values: ParamValue[], expr = (p: string) => p): Promise<Record<string, unknown>> {
  const template = `SELECT ${values.map((_, i) => `${expr(`{p${i}:${type}}`)} AS v${i}`).join(', ')} -- {p0:${type}} stays a comment`;
  const sql = bindQuery(template, Object.fromEntries(values.map((v, i) => [`p${i}`, v])));
  const rows = await ch.queryRows<Record<string, unknown>>(sql);
  expect(rows).toHaveLength(1);
  expect(Object.keys(rows[0]!)).toHaveLength(values.length);
  return rows[0]!;
}

describe('binder fuzz on ClickHouse 18.16', () => {
  it('5000 hostile strings come back unchanged, one row per query', async () => {
    const rand = prng(SEED);
    for (let batch = 0; batch < 25; batch++) {
      const values = Array.from({ length: BATCH }, () => hostileString(rand));
      const row = await roundTrip('String', values);
      values.forEach((s, i) => expect(row[`v${i}`], `seed ${SEED} batch ${batch} #${i}: ${JSON.stringify(s)}`).toBe(s));
    }
  });

  it('hostile lists come back unchanged', async () => {
    const rand = prng(SEED + 1);
    for (let batch = 0; batch < 5; batch++) {
      const values = Array.from({ length: BATCH }, () => Array.from({ length: Math.floor(rand() * 4) }, () => hostileString(rand)));
      const row = await roundTrip('Array(String)', values);
      values.forEach((a, i) => expect(row[`v${i}`], `seed ${SEED + 1} batch ${batch} #${i}`).toEqual(a));
    }
  });

  it('byte strings (invalid UTF-8, NUL, quotes) keep every byte', async () => {
    const rand = prng(SEED + 2);
    for (let batch = 0; batch < 5; batch++) {
      const values = Array.from({ length: BATCH }, () => hostileBytes(rand));
      const row = await roundTrip('String', values, (p) => `hex(${p})`);
      values.forEach((b, i) => expect(row[`v${i}`], `seed ${SEED + 2} batch ${batch} #${i}`).toBe(Buffer.from(b).toString('hex').toUpperCase()));
    }
  });

  it('boundary numbers and times arrive as the values they name', async () => {
    const row = await roundTrip('Int64', ['-9223372036854775808', 9223372036854775807n, -1, 0]);
    expect([row.v0, row.v1, row.v2, row.v3].map(String)).toEqual(['-9223372036854775808', '9223372036854775807', '-1', '0']);
    const unsigned = await roundTrip('UInt64', ['18446744073709551615', 0]);
    expect(String(unsigned.v0)).toBe('18446744073709551615');
    const floats = await roundTrip('Float64', [-0.1, 1e-300, '1.5e+21', 2.2250738585072014e-308, '-2.2250738585072014e-308', Number.MAX_VALUE]);
    expect([floats.v0, floats.v1, floats.v2, floats.v3, floats.v4, floats.v5].map(Number)).toEqual([-0.1, 1e-300, 1.5e21, 2 ** -1022, -(2 ** -1022), Number.MAX_VALUE]);
    const times = await roundTrip('DateTime', ['2026-01-15T10:30:00+02:00', 0, '2106-02-07T06:28:15Z'], (p) => `toUnixTimestamp(${p})`);
    expect([times.v0, times.v1, times.v2].map(Number)).toEqual([Date.UTC(2026, 0, 15, 8, 30) / 1000, 0, 4294967295]);
  });

  it('random Float64 bit patterns: every normal value arrives exact, every subnormal is refused by the binder', async () => {
    // 18.16 calls a subnormal literal a syntax error (the API answered 502): the binder must stop it, with its reason.
    const rand = prng(SEED + 3);
    const bits = new DataView(new ArrayBuffer(8));
    let refused = 0;
    for (let batch = 0; batch < 10; batch++) {
      const values: Array<number | string> = [];
      while (values.length < BATCH) {
        bits.setUint32(0, Math.floor(rand() * 2 ** 32));
        bits.setUint32(4, Math.floor(rand() * 2 ** 32));
        // A quarter with exponent 0 (zero and subnormals), a quarter just above the smallest normal.
        const pick = rand();
        if (pick < 0.25) bits.setUint16(0, bits.getUint16(0) & 0x800f);
        else if (pick < 0.5) bits.setUint16(0, (bits.getUint16(0) & 0x800f) | 0x0010);
        const x = bits.getFloat64(0);
        if (!Number.isFinite(x)) continue;
        const value = rand() < 0.5 ? x : x.toExponential();
        if (x !== 0 && Math.abs(x) < 2 ** -1022) {
          let error: unknown;
          try {
            bindQuery('SELECT {f:Float64}', { f: value });
          } catch (err) {
            error = err;
          }
          expect(TetherError.is(error) && error.code, `subnormal ${x}`).toBe('TETHER_QUERY_BIND');
          refused++;
        } else {
          values.push(value);
        }
      }
      const row = await roundTrip('Float64', values);
      values.forEach((v, i) => expect(Object.is(Number(row[`v${i}`]), Number(v) === 0 ? 0 : Number(v)), `seed ${SEED + 3} batch ${batch} #${i}: ${v} came back ${String(row[`v${i}`])}`).toBe(true));
    }
    expect(refused).toBeGreaterThan(100);
  });
});
