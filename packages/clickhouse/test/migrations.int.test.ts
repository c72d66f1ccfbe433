// The migrations on the real server (Debian's ClickHouse 18.16): from an
// empty database, again as a no-op, refusing an edited applied file, and the
// tables matching the rows the code writes.
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MIGRATIONS_DIR, TABLES, VIEWS, accessEventFromRow, accessEventRow, connectorVersionRow, createClickHouse, deadLetterRow,
  deviceVersionRow, loadMigrations, migrate, nhiVersionRow, personVersionRow,
} from '#clickhouse';
import { createLogger } from '#log';
import { testConfig, uniqueName } from '#testkit';
import {
  connectorVersion, deadLetter, deviceVersion, enrichedAccessEvent, nhiVersion, personVersion,
} from '../../schemas/test/samples.ts';

const config = testConfig();
const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
const log = createLogger({ service: 'test', level: 'warn' });
const admin = createClickHouse({ ...server, database: 'default' });
const cleanup: (() => unknown)[] = [];

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
  await admin.close();
});

function newDatabase(): string {
  const database = uniqueName('migr');
  cleanup.push(() => admin.command(`DROP DATABASE IF EXISTS ${database}`));
  return database;
}

function copyOfMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tether-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('ClickHouse migrations', () => {
  it('apply from empty (creating the database), then re-apply as a no-op', async () => {
    const database = newDatabase();
    const files = loadMigrations().map((m) => m.name);
    const first = await migrate({ clickhouse: server, database, log });
    expect(first).toEqual({ database, applied: files, alreadyApplied: [] });

    const second = await migrate({ clickhouse: server, database, log });
    expect(second).toEqual({ database, applied: [], alreadyApplied: files });

    const ch = createClickHouse({ ...server, database });
    cleanup.push(() => ch.close());
    const recorded = await ch.queryRows<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${TABLES.schemaMigrations} ORDER BY version`);
    expect(recorded).toEqual(loadMigrations().map((m) => ({ name: m.name, checksum: m.checksum })));
    const tables = (await ch.queryRows<{ name: string }>('SHOW TABLES')).map((t) => t.name);
    for (const name of [...Object.values(TABLES), ...Object.values(VIEWS)]) expect(tables).toContain(name);
  });

  it('refuses an applied migration that was edited, and applies a new one on top', async () => {
    const database = newDatabase();
    const dir = copyOfMigrations();
    await migrate({ clickhouse: server, database, dir, log });

    writeFileSync(path.join(dir, '0099_add_probe.sql'), `-- a later migration\nALTER TABLE ${TABLES.deadLetters} ADD COLUMN probe UInt8 DEFAULT 0;\n`);
    const next = await migrate({ clickhouse: server, database, dir, log });
    expect(next.applied).toEqual(['0099_add_probe.sql']);

    appendFileSync(path.join(dir, '0002_identity_history.sql'), '\n-- an edit after the fact\n');
    await expect(migrate({ clickhouse: server, database, dir, log })).rejects.toMatchObject({
      code: 'TETHER_MIGRATION',
      message: expect.stringMatching(/0002_identity_history\.sql changed after it was applied/),
    });
  });

  it('creates tables whose columns are exactly the fields the sink writes, and reads an event back whole', async () => {
    const database = newDatabase();
    await migrate({ clickhouse: server, database, log });
    const ch = createClickHouse({ ...server, database });
    cleanup.push(() => ch.close());
    const columns = async (table: string) =>
      (await ch.queryRows<{ name: string }>(`SELECT name FROM system.columns WHERE database = '${database}' AND table = '${table}'`)).map((c) => c.name).sort();

    const written = {
      [TABLES.accessEvents]: accessEventRow(enrichedAccessEvent),
      [TABLES.accessEventsByPerson]: accessEventRow(enrichedAccessEvent),
      [TABLES.personsHistory]: personVersionRow(personVersion),
      [TABLES.devicesHistory]: deviceVersionRow(deviceVersion),
      [TABLES.nhiHistory]: nhiVersionRow(nhiVersion),
      [TABLES.connectorsHistory]: connectorVersionRow(connectorVersion),
      [TABLES.deadLetters]: deadLetterRow(deadLetter, { topic: 'tether.dlq', partition: 0, offset: 7n }),
    };
    for (const [table, row] of Object.entries(written)) {
      expect(await columns(table), table).toEqual(Object.keys(row).sort());
    }

    await ch.insertRows(TABLES.accessEvents, [accessEventRow(enrichedAccessEvent)]);
    const rows = await ch.queryRows(`SELECT * FROM ${TABLES.accessEvents} FINAL`);
    const expected = structuredClone(enrichedAccessEvent);
    expected.attribution.confidence = Math.fround(expected.attribution.confidence);
    expected.attribution.device_confidence = Math.fround(expected.attribution.device_confidence);
    expected.event.raw = Buffer.from(enrichedAccessEvent.event.raw);
    expect(rows.map(accessEventFromRow)).toEqual([expected]);
  });
});
