// Every saved query must run on a current ClickHouse as well as on 18.16.
// One script (database, migrations, the seeded world, every trail, report
// and hunt bound with sample values, a batch of hostile strings) goes through
// infra/chdb/run_sql.py twice: on chdb (ClickHouse 26.x in process) and on
// the real 18.16 server. Every statement must run on both and every query
// must print the same rows, value for value.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessEventRow, connectorVersionRow, createClickHouse, deviceVersionRow, MIGRATIONS_DIR, nhiVersionRow, personVersionRow,
  TABLES,
} from '#clickhouse';
import { testConfig, uniqueName } from '#testkit';
import { bindQuery } from '../src/bind.ts';
import { connectorsQuery } from '../src/connectors.ts';
import { bindHunt, loadHunts } from '../src/hunts.ts';
import { findingsQuery } from '../src/findings.ts';
import { orphansQuery } from '../src/orphans.ts';
import { trailQuery, type TrailRequest } from '../src/trail.ts';
import { CONNECTORS, DEVICES, EVENTS, NHIS, PERSONS, REDELIVERIES, t } from './fixtures.ts';
import { hostileString, prng } from './hostile.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PYTHON = path.join(ROOT, '.tether/venv/bin/python');
const RUN_SQL = path.join(ROOT, 'infra/chdb/run_sql.py');
const NOW = new Date('2026-02-01T00:00:00Z');
const JANUARY = { fromMs: t('2026-01-01T00:00:00Z'), toMs: t('2026-02-01T00:00:00Z') };

/** Every query the service can send, bound with sample values. */
function sampleQueries(): Array<{ name: string; sql: string }> {
  const trails: Array<[string, TrailRequest]> = [
    ['trail by email', { subject: 'email', value: 'Alice@acme.test', ...JANUARY }],
    ['trail by person', { subject: 'person', value: 'okta:00u_bob', ...JANUARY }],
    ['trail by nhi', { subject: 'nhi', value: 'openai:api_key:key_bob', ...JANUARY }],
    ['trail by connector', { subject: 'connector', value: 'google:chatgpt-client:bob@acme.test', ...JANUARY }],
    ['trail of a hostile email', { subject: 'email', value: "o'brien\\' OR 1=1 --@acme.test", ...JANUARY }],
  ];
  const hunts = [...loadHunts().values()].map((hunt) => ({
    name: `hunt ${hunt.name}`,
    sql: bindHunt(hunt, hunt.params.some((p) => p.name === 'since') ? { since: '2026-01-01' } : {}, NOW),
  }));
  return [
    ...trails.map(([name, request]) => ({ name, sql: trailQuery(request).sql })),
    { name: 'connectors', sql: connectorsQuery({ provider: '', classification: '', state: 'all', sanctioned: 'any' }).sql },
    { name: 'connectors filtered', sql: connectorsQuery({ provider: 'google', classification: 'ai_tool', state: 'active', sanctioned: 'no' }).sql },
    { name: 'orphans', sql: orphansQuery({ kind: '', platform: '', minUsesAfterLeft: 0 }).sql },
    { name: 'orphans filtered', sql: orphansQuery({ kind: 'api_key', platform: 'openai', minUsesAfterLeft: 1 }).sql },
    { name: 'findings', sql: findingsQuery({ ...JANUARY, rule: '', minSeverity: 'info', person: '', limit: 100 }).sql },
    { name: 'findings filtered', sql: findingsQuery({ ...JANUARY, rule: "tether.x' OR 1=1 --", minSeverity: 'high', person: 'okta:00u_bob', limit: 1 }).sql },
    ...hunts,
  ];
}

/** INSERT ... FORMAT JSONEachRow with its rows inline; the ';' alone on the last line ends it for run_sql. */
function insert(table: string, rows: readonly object[]): string {
  return `INSERT INTO ${table} FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}\n;\n`;
}

/** The TSV rows of each statement of `file`: run_sql prints `ok <file>:<n>`, then the rows indented by four spaces. */
function resultsOf(stdout: string, file: string): string[][][] {
  const results: Array<{ file: string; rows: string[][] }> = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('ok ')) results.push({ file: path.basename(line.slice(3).replace(/:\d+$/, '')), rows: [] });
    else if (line.startsWith('    ') && results.length > 0) results.at(-1)!.rows.push(line.slice(4).split('\t'));
  }
  return results.filter((r) => r.file === file).map((r) => r.rows);
}

let dir: string;
const out = { chdb: '', server: '' };
const database = uniqueName('tether_query_compat');
const queries = sampleQueries();
const rand = prng(0x26_09);
const hostile = Array.from({ length: 300 }, () => hostileString(rand));

beforeAll(async () => {
  if (!existsSync(PYTHON) || !existsSync(RUN_SQL)) {
    throw new Error(`chdb is not installed (${PYTHON}, ${RUN_SQL}): run bash infra/local/stack.sh install`);
  }
  dir = mkdtempSync(path.join(tmpdir(), 'tether-query-chdb-'));
  writeFileSync(path.join(dir, '0000_database.sql'), `CREATE DATABASE ${database};\nUSE ${database};\n`);
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) {
    writeFileSync(path.join(dir, `1${file}`), readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
  }
  writeFileSync(path.join(dir, '8000_seed.sql'), [
    insert(TABLES.personsHistory, PERSONS.map(personVersionRow)),
    insert(TABLES.devicesHistory, DEVICES.map(deviceVersionRow)),
    insert(TABLES.nhiHistory, NHIS.map(nhiVersionRow)),
    insert(TABLES.connectorsHistory, CONNECTORS.map(connectorVersionRow)),
    insert(TABLES.accessEvents, EVENTS.map(accessEventRow)),
    insert(TABLES.accessEvents, REDELIVERIES.map(accessEventRow)),
  ].join(''));
  writeFileSync(path.join(dir, '9000_queries.sql'), queries.map((q) => `${q.sql}\n;\n`).join(''));
  // One column per line: no hostile ';' can land at a line end and split the statement.
  const fuzz = bindQuery(`SELECT\n${hostile.map((_, i) => `hex({s${i}:String}) AS v${i}`).join(',\n')}\n;\n`,
    Object.fromEntries(hostile.map((s, i) => [`s${i}`, s])));
  writeFileSync(path.join(dir, '9500_fuzz.sql'), fuzz);

  const run = (engine: string, args: string[]) =>
    promisify(execFile)(PYTHON, [RUN_SQL, ...args, dir], { maxBuffer: 64 * 1024 * 1024 }).then(
      (r) => r.stdout,
      (err: { stdout?: string; stderr?: string }) => {
        throw new Error(`run_sql failed on ${engine}:\n${err.stderr ?? ''}\n${(err.stdout ?? '').slice(-2000)}`);
      },
    );
  out.chdb = await run('chdb', []);
  out.server = await run('ClickHouse 18.16', ['--http', testConfig().TETHER_CLICKHOUSE_URL]);
}, 300_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  const config = testConfig();
  const ch = createClickHouse({ url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD, database: 'default' });
  await ch.command(`DROP DATABASE IF EXISTS ${database}`);
  await ch.close();
});

describe('the same script on chdb 26.x and on ClickHouse 18.16', () => {
  it.each(['chdb', 'server'] as const)('%s runs every migration, the seed and every query', (engine) => {
    expect(out[engine]).toMatch(engine === 'chdb' ? /^engine: chdb 2\d\./m : /^engine: ClickHouse 18\.16/m);
    const ran = out[engine].split('\n').filter((l) => l.startsWith('ok ')).map((l) => path.basename(l.slice(3).replace(/:\d+$/, '')));
    expect(ran.filter((f) => f === '9000_queries.sql')).toHaveLength(queries.length);
    for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql'))) expect(ran).toContain(`1${file}`);
  });

  it('every query prints the same rows on both', () => {
    const current = resultsOf(out.chdb, '9000_queries.sql');
    const old = resultsOf(out.server, '9000_queries.sql');
    for (const [i, query] of queries.entries()) expect(current[i], query.name).toEqual(old[i]);
    // ... and the seeded world is visible to them: most queries find rows.
    expect(old.filter((rows) => rows.length > 0).length).toBeGreaterThan(queries.length / 2);
    const orphans = old[queries.findIndex((q) => q.name === 'orphans')]!;
    expect(orphans.map((row) => row[1]).sort()).toEqual([
      'google:chatgpt-client:bob@acme.test', 'openai:api_key:key_bob', 'openai:api_key:key_carol_old', 'openai:api_key:key_sa',
      'openai:service_account:svc_bob',
    ]);
  });

  it.each(['chdb', 'server'] as const)('%s: hostile strings bound by the binder arrive byte for byte', (engine) => {
    const [rows] = resultsOf(out[engine], '9500_fuzz.sql');
    expect(rows).toHaveLength(1);
    expect(rows![0]).toEqual(hostile.map((s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase()));
  });
});
