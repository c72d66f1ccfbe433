// The binder against the real ClickHouse 18.16 lexer: thousands of hostile
// strings, lists and byte strings, each bound into `SELECT {s:String} AS v`
// (many per query to keep it fast). Every query must come back as exactly
// one row whose values are exactly what was bound: nothing ended a literal
// early, commented out the rest, added a statement or a FORMAT clause.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClickHouse, type ClickHouse } from '#clickhouse';
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
    const floats = await roundTrip('Float64', [-0.1, 1e-300, '1.5e+21']);
    expect([floats.v0, floats.v1, floats.v2].map(Number)).toEqual([-0.1, 1e-300, 1.5e21]);
    const times = await roundTrip('DateTime', ['2026-01-15T10:30:00+02:00', 0, '2106-02-07T06:28:15Z'], (p) => `toUnixTimestamp(${p})`);
    expect([times.v0, times.v1, times.v2].map(Number)).toEqual([Date.UTC(2026, 0, 15, 8, 30) / 1000, 0, 4294967295]);
  });
});
