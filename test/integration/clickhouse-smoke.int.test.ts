// ClickHouse through @clickhouse/client on the real server (Debian's 18.16
// here): DDL by command, a batch insert naming its format, select; and the
// same DDL accepted by a current engine (chdb) through infra/chdb/run_sql.py.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { testConfig, uniqueName } from '#testkit';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SMOKE_SQL = path.join(ROOT, 'infra/chdb/smoke.sql');
const VENV_PYTHON = path.join(ROOT, '.tether/venv/bin/python');
const config = testConfig();
const client = createClient({ url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD });
const database = uniqueName('smoke');

afterAll(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await client.close();
});

/** smoke.sql with its statements split; the database name is ours. */
function smokeStatements(): string[] {
  return readFileSync(SMOKE_SQL, 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter(Boolean);
}

describe('ClickHouse smoke', () => {
  it('answers a real query', async () => {
    const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    const [row] = (await rs.json()) as { v: string }[];
    expect(row?.v).toMatch(/^\d+\.\d+/);
  });

  it('runs DDL, a JSONEachRow batch insert and a deduplicating select', async () => {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await client.command({
      query: `CREATE TABLE ${database}.events (
        event_id String, event_time DateTime('UTC'), event_time_ms UInt64, email Nullable(String),
        scopes Array(String), confidence Float32, version UInt64
      ) ENGINE = ReplacingMergeTree(version) PARTITION BY toYYYYMM(event_time) ORDER BY (event_time, event_id)`,
    });
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      event_id: `e${i % 500}`, // every id twice: a redelivery
      event_time: '2026-11-20T09:30:00Z',
      event_time_ms: Date.UTC(2026, 10, 20, 9, 30) + i,
      email: i % 3 === 0 ? null : `p${i}@example.com`,
      scopes: ['drive.readonly'],
      confidence: 0.5,
      version: i,
    }));
    await client.insert({
      table: `${database}.events`, values: rows, format: 'JSONEachRow',
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    const rs = await client.query({ query: `SELECT count() AS n, uniqExact(event_id) AS ids FROM ${database}.events FINAL`, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ n: '500', ids: '500' }]);
  });

  it('runs the portable smoke DDL on this server', async () => {
    const db = uniqueName('smoke_ddl');
    try {
      for (const statement of smokeStatements()) {
        const sql = statement.replaceAll('tether_smoke', db);
        if (/^\s*SELECT/i.test(sql)) await (await client.query({ query: sql, format: 'JSONEachRow' })).json();
        else await client.command({ query: sql });
      }
    } finally {
      await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    }
  });

  it('runs the same DDL on a current engine (chdb)', () => {
    expect(existsSync(VENV_PYTHON), 'the chdb venv: bash infra/local/stack.sh install').toBe(true);
    const out = execFileSync(VENV_PYTHON, [path.join(ROOT, 'infra/chdb/run_sql.py'), SMOKE_SQL], { encoding: 'utf8' });
    expect(out).toMatch(/engine: chdb 2\d\.\d+/);
    expect(out).toContain('ok');
  });
});
