// ClickHouse access for Tether: a client that only uses what runs on 18.16
// and current servers, the schema's table names, record <-> row mappings,
// write-error classification, and the migrations runner.
export { createClickHouse } from './client.ts';
export type { BinaryInsertOptions, ClickHouse, ClickHouseOptions, InsertOptions, QueryOptions } from './client.ts';
export { RowBinaryWriter, coalesce, rowValueError, DEFAULT_SLAB_BYTES } from './row-binary.ts';
export { ACCESS_EVENT_COLUMNS, writeAccessEventRow } from './access-event-binary.ts';
export { transcodeAccessEvent, TRANSCODER_SCHEMA_FINGERPRINT } from './access-event-transcode.ts';
export { asyncInsertSettings, parseServerVersion } from './server-version.ts';
export type { ClickHouseSettings } from '@clickhouse/client';
export { TABLES, VIEWS } from './tables.ts';
export type { TableName } from './tables.ts';
export {
  accessEventRow, accessEventFromRow, personVersionRow, deviceVersionRow, nhiVersionRow, connectorVersionRow,
  deadLetterRow, deadLetterId, findingRow, personKey, dateTimeSeconds, encodeRaw, decodeRaw,
} from './rows.ts';
export type { AccessEventRow, ClickHouseJsonRow, DlqPosition, RawEncoding } from './rows.ts';
export { clickHouseErrorInfo, classifyWriteError, loggableClickHouseMessage } from './errors.ts';
export type { ClickHouseErrorInfo, WriteErrorKind } from './errors.ts';
export { migrate, pendingMigrations, loadMigrations, planMigrations, checksum, MIGRATIONS_DIR } from './migrations.ts';
export type { Migration, AppliedMigration, MigrationResult } from './migrations.ts';
export { splitStatements } from './sql-split.ts';
