// Every migration on a current ClickHouse engine (chdb, in process, through
// infra/chdb/run_sql.py), in order in one session, then a row as the sink
// writes it and a read of every view: the schema must not depend on 18.16.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, TABLES, VIEWS, accessEventRow, connectorVersionRow, findingRow, loadMigrations, splitStatements } from '#clickhouse';
import { connectorVersion, enrichedAccessEvent, finding } from '../../schemas/test/samples.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PYTHON = path.join(ROOT, '.tether/venv/bin/python');
const RUN_SQL = path.join(ROOT, 'infra/chdb/run_sql.py');
const hasChdb = existsSync(PYTHON) && existsSync(RUN_SQL);
if (!hasChdb) {
  console.warn(`[chdb] skipped: ${PYTHON} or ${RUN_SQL} is missing; create the venv with: bash infra/local/stack.sh install`);
}

describe('ClickHouse migrations on a current engine (chdb)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tether-chdb-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasChdb)('applies every migration, accepts the rows the sink writes, and answers every view', () => {
    // run_sql.py splits at ';' line ends: the rows go on one line each.
    const probe = path.join(dir, '9999_probe.sql');
    writeFileSync(probe, [
      `INSERT INTO ${TABLES.accessEvents} FORMAT JSONEachRow ${JSON.stringify(accessEventRow(enrichedAccessEvent))};`,
      `INSERT INTO ${TABLES.connectorsHistory} FORMAT JSONEachRow ${JSON.stringify(connectorVersionRow(connectorVersion))};`,
      `SELECT count() FROM ${TABLES.accessEventsByPerson} FINAL;`,
      `INSERT INTO ${TABLES.findings} FORMAT JSONEachRow ${JSON.stringify(findingRow(finding))};`,
      `SELECT count() FROM ${TABLES.findings} FINAL;`,
      ...Object.values(VIEWS).map((view) => `SELECT count() FROM ${view};`),
      '',
    ].join('\n'));
    const out = execFileSync(PYTHON, [RUN_SQL, MIGRATIONS_DIR, probe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 170_000 });

    expect(out).toMatch(/^engine: chdb (\d+)\./m);
    const major = Number(/^engine: chdb (\d+)\./m.exec(out)![1]);
    expect(major).toBeGreaterThanOrEqual(24);
    const statements = loadMigrations().reduce((n, m) => n + splitStatements(m.sql).length, 0);
    const okLines = out.split('\n').filter((l) => l.startsWith('ok '));
    expect(okLines.length).toBe(statements + 5 + Object.values(VIEWS).length);
    // The materialized view copied the row to the person-first table.
    const afterCopy = out.split('\n').findIndex((l) => l.startsWith(`ok ${probe}:3`));
    expect(out.split('\n')[afterCopy + 1]?.trim()).toBe('1');
  });
});
