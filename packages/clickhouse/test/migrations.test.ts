import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checksum, loadMigrations, planMigrations, type Migration } from '#clickhouse';

function migration(version: number, name: string, sql = `SELECT ${version}`): Migration {
  return { version, name: `${String(version).padStart(4, '0')}_${name}.sql`, sql, checksum: checksum(sql) };
}

const files = [migration(1, 'access_events'), migration(2, 'identity'), migration(3, 'views')];
const record = (m: Migration) => ({ version: m.version, name: m.name, checksum: m.checksum });

describe('planMigrations', () => {
  it('applies everything on an empty database and nothing on an up-to-date one', () => {
    expect(planMigrations(files, [])).toEqual({ pending: files, done: [] });
    expect(planMigrations(files, files.map(record))).toEqual({ pending: [], done: files });
  });

  it('applies only the new ones after the applied ones', () => {
    const plan = planMigrations(files, files.slice(0, 2).map(record));
    expect(plan.pending.map((m) => m.name)).toEqual(['0003_views.sql']);
  });

  it('refuses an applied file that changed', () => {
    const edited = [files[0]!, { ...files[1]!, sql: 'SELECT 22', checksum: checksum('SELECT 22') }, files[2]!];
    expect(() => planMigrations(edited, files.map(record))).toThrow(/0002_identity\.sql changed after it was applied/);
  });

  it('refuses an applied migration whose file is gone or renamed', () => {
    expect(() => planMigrations(files.slice(0, 2), files.map(record))).toThrow(/0003_views\.sql is applied in the database but not in the migrations directory/);
    const renamed = [files[0]!, files[1]!, { ...files[2]!, name: '0003_other.sql' }];
    expect(() => planMigrations(renamed, files.map(record))).toThrow(/applied as 0003_views\.sql but the file is now 0003_other\.sql/);
  });

  it('refuses a new migration numbered below an applied one', () => {
    expect(() => planMigrations(files, [record(files[0]!), record(files[2]!)])).toThrow(/0002_identity\.sql is new but numbered below one already applied \(0003\)/);
  });

  it('throws errors with the migration code', () => {
    try {
      planMigrations(files.slice(0, 1), files.map(record));
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'TETHER_MIGRATION' });
    }
  });
});

describe('loadMigrations', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  function dirWith(names: string[]): string {
    dir = mkdtempSync(path.join(tmpdir(), 'tether-mig-'));
    for (const name of names) writeFileSync(path.join(dir, name), `-- ${name}\nSELECT 1;\n`);
    return dir;
  }

  it('reads .sql files in version order with their checksums, ignoring other files', () => {
    const loaded = loadMigrations(dirWith(['0002_b.sql', '0001_a.sql', 'README.md']));
    expect(loaded.map((m) => [m.version, m.name])).toEqual([[1, '0001_a.sql'], [2, '0002_b.sql']]);
    expect(loaded[0]!.checksum).toBe(checksum('-- 0001_a.sql\nSELECT 1;\n'));
  });

  it('refuses misnamed files and duplicate versions', () => {
    expect(() => loadMigrations(dirWith(['1_a.sql']))).toThrow(/1_a\.sql is not named NNNN_lower_snake_name\.sql/);
    expect(() => loadMigrations(dirWith(['0001_a.sql', '0001_b.sql']))).toThrow(/share version 1/);
  });

  it('finds the repository migrations, numbered without gaps from 0001', () => {
    const loaded = loadMigrations();
    expect(loaded.map((m) => m.version)).toEqual(loaded.map((_, i) => i + 1));
  });
});
