// Versioned schema migrations: infra/clickhouse/migrations/NNNN_name.sql,
// applied in order, each once, recorded with its checksum in
// schema_migrations. Re-running is a no-op; an applied file that changed, an
// applied file that is gone, or a new file numbered below an applied one
// fails with the reason instead of guessing.
//
// Migrations are written to be re-runnable (CREATE ... IF NOT EXISTS): a run
// cut off between a migration's statements and its record repeats the
// migration next time.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage, tetherError } from '#errors';
import type { Logger } from '#log';
import { createClickHouse, type ClickHouse, type ClickHouseOptions } from './client.ts';
import { splitStatements } from './sql-split.ts';
import { TABLES } from './tables.ts';

export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../../infra/clickhouse/migrations');

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const DATABASE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface Migration {
  version: number;
  /** File name, e.g. 0001_access_events.sql. */
  name: string;
  sql: string;
  checksum: string;
}

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export interface MigrationResult {
  database: string;
  applied: string[];
  alreadyApplied: string[];
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads the migration files of a directory in version order; refuses misnamed or duplicate versions. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(name);
    if (!match) {
      throw tetherError('TETHER_MIGRATION', `migration file ${name} is not named NNNN_lower_snake_name.sql`, { context: { dir } });
    }
    const sql = readFileSync(path.join(dir, name), 'utf8');
    migrations.push({ version: Number(match[1]), name, sql, checksum: checksum(sql) });
  }
  for (let i = 1; i < migrations.length; i += 1) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw tetherError('TETHER_MIGRATION', `migrations ${migrations[i - 1]!.name} and ${migrations[i]!.name} share version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

/**
 * What to apply, given the files and what the database recorded. Pure, so
 * every refusal is unit-tested without a server.
 */
export function planMigrations(files: readonly Migration[], applied: readonly AppliedMigration[]): { pending: Migration[]; done: Migration[] } {
  const byVersion = new Map(files.map((m) => [m.version, m]));
  const appliedVersions = new Set<number>();
  for (const record of applied) {
    appliedVersions.add(record.version);
    const file = byVersion.get(record.version);
    if (!file) {
      throw tetherError('TETHER_MIGRATION', `migration ${record.name} is applied in the database but not in the migrations directory: was it deleted, or is the database newer than this code?`, { context: { version: record.version } });
    }
    if (file.name !== record.name) {
      throw tetherError('TETHER_MIGRATION', `migration ${record.version} was applied as ${record.name} but the file is now ${file.name}: applied migrations must not be renamed`, { context: { version: record.version } });
    }
    if (file.checksum !== record.checksum) {
      throw tetherError('TETHER_MIGRATION', `migration ${file.name} changed after it was applied (recorded checksum ${record.checksum.slice(0, 12)}, file now ${file.checksum.slice(0, 12)}): add a new migration instead of editing an applied one`, { context: { version: record.version } });
    }
  }
  const done = files.filter((m) => appliedVersions.has(m.version));
  const pending = files.filter((m) => !appliedVersions.has(m.version));
  const highestApplied = Math.max(-1, ...appliedVersions);
  const early = pending.find((m) => m.version < highestApplied);
  if (early) {
    throw tetherError('TETHER_MIGRATION', `migration ${early.name} is new but numbered below one already applied (${String(highestApplied).padStart(4, '0')}): renumber it after the applied ones`, { context: { version: early.version } });
  }
  return { pending, done };
}

/** Creates the database if missing and applies the pending migrations. */
export async function migrate(options: {
  clickhouse: Omit<ClickHouseOptions, 'database'>;
  database: string;
  dir?: string;
  log: Logger;
  now?: () => number;
}): Promise<MigrationResult> {
  const { database, log } = options;
  const now = options.now ?? Date.now;
  if (!DATABASE_PATTERN.test(database)) {
    throw tetherError('TETHER_MIGRATION', `database name ${JSON.stringify(database)} must match ${DATABASE_PATTERN}`);
  }
  const files = loadMigrations(options.dir);

  // The target database may not exist yet, and a client bound to it would fail.
  const server = createClickHouse({ ...options.clickhouse, database: 'default' });
  try {
    await server.command(`CREATE DATABASE IF NOT EXISTS ${database}`);
  } finally {
    await server.close();
  }

  const ch = createClickHouse({ ...options.clickhouse, database });
  try {
    await ch.command(`CREATE TABLE IF NOT EXISTS ${TABLES.schemaMigrations}
      (version UInt32, name String, checksum String, applied_at DateTime('UTC'), applied_at_ms UInt64)
      ENGINE = MergeTree ORDER BY version`);
    const applied = await readApplied(ch);
    const { pending, done } = planMigrations(files, applied);
    for (const migration of pending) {
      await apply(ch, migration, log);
      const at = now();
      await ch.insertRows(TABLES.schemaMigrations, [{
        version: migration.version, name: migration.name, checksum: migration.checksum,
        applied_at: Math.floor(at / 1000), applied_at_ms: at,
      }]);
      log.info({ database, migration: migration.name }, 'migration applied');
    }
    if (pending.length === 0) log.info({ database, applied: done.length }, 'schema is up to date');
    return { database, applied: pending.map((m) => m.name), alreadyApplied: done.map((m) => m.name) };
  } finally {
    await ch.close();
  }
}

/**
 * The migration files not yet applied to the client's database (all of them
 * when it has no schema_migrations table): readiness says "not migrated"
 * until this is empty. Throws what planMigrations throws for a database
 * that does not match the files.
 */
export async function pendingMigrations(ch: ClickHouse, dir?: string): Promise<string[]> {
  const files = loadMigrations(dir);
  const exists = await ch.queryRows<{ n: number | string }>(
    `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = '${TABLES.schemaMigrations}'`,
  );
  if (Number(exists[0]?.n ?? 0) === 0) return files.map((m) => m.name);
  return planMigrations(files, await readApplied(ch)).pending.map((m) => m.name);
}

async function readApplied(ch: ClickHouse): Promise<AppliedMigration[]> {
  // Two runners racing may both record a migration: one row per version is enough.
  const rows = await ch.queryRows<{ version: number; name: string; checksum: string }>(
    `SELECT version, name, checksum FROM ${TABLES.schemaMigrations} GROUP BY version, name, checksum ORDER BY version`,
  );
  return rows.map((r) => ({ version: Number(r.version), name: r.name, checksum: r.checksum }));
}

async function apply(ch: ClickHouse, migration: Migration, log: Logger): Promise<void> {
  let statements: string[];
  try {
    statements = splitStatements(migration.sql);
  } catch (err) {
    throw tetherError('TETHER_MIGRATION', `migration ${migration.name} cannot be split into statements: ${errorMessage(err)}`, { cause: err });
  }
  for (const [index, statement] of statements.entries()) {
    try {
      await ch.command(statement);
    } catch (err) {
      throw tetherError('TETHER_MIGRATION', `migration ${migration.name} failed at statement ${index + 1} of ${statements.length}: ${errorMessage(err)}`, {
        cause: err,
        context: { statement: statement.slice(0, 200) },
      });
    }
    log.debug({ migration: migration.name, statement: index + 1 }, 'statement applied');
  }
}
