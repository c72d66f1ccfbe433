// The one way Tether code talks to ClickHouse: a thin layer over
// @clickhouse/client that only does what works on 18.16 and on current
// servers. Object inserts always name JSONEachRow (the client defaults to
// JSONCompactEachRow, which 18.16 does not know); binary inserts go through
// `exec` with a streamed RowBinary body (the client's insert() takes no
// RowBinary); no server-side query parameters (18.16 has none: bind values
// with the query layer's escaping).
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';

export interface ClickHouseOptions {
  url: string;
  username?: string;
  password?: string;
  database: string;
  /** Per-request timeout; a stopped server is noticed after this long. */
  requestTimeoutMs?: number;
  /** Shown in the server's query log. */
  application?: string;
}

export interface InsertOptions {
  /**
   * Ignore object keys the table has no column for. Off by default: for a
   * writer, a missing column is a migration to run, not data to drop.
   */
  skipUnknownFields?: boolean;
  signal?: AbortSignal;
}

export interface BinaryInsertOptions {
  /** Extra settings for this insert (async_insert on servers that have it). */
  settings?: ClickHouseSettings;
  signal?: AbortSignal;
}

export interface QueryOptions {
  settings?: ClickHouseSettings;
  signal?: AbortSignal;
}

export interface ClickHouse {
  readonly database: string;
  /** Inserts rows (objects keyed by column) as JSONEachRow; resolves once the server acknowledged. */
  insertRows(table: string, rows: readonly object[], options?: InsertOptions): Promise<void>;
  /**
   * Inserts rows already encoded as RowBinary for `columns` (in that order),
   * streamed as they are; resolves once the server acknowledged.
   */
  insertRowBinary(table: string, columns: readonly string[], chunks: readonly Uint8Array[], options?: BinaryInsertOptions): Promise<void>;
  /** Runs a SELECT and returns every row (JSONEachRow; 64-bit integers come back as strings). */
  queryRows<T = Record<string, unknown>>(sql: string, options?: QueryOptions): Promise<T[]>;
  /** Streams the rows of a SELECT, for results too big to hold. */
  queryStream<T = Record<string, unknown>>(sql: string, options?: QueryOptions): AsyncIterable<T>;
  /** Runs a statement without a result (DDL). */
  command(sql: string, options?: QueryOptions): Promise<void>;
  /** True when the server answers /ping. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const INSERT_SETTINGS: ClickHouseSettings = {
  // Accepts ISO-8601 with a zone ('2024-01-01T00:00:00Z') as well as unix seconds.
  date_time_input_format: 'best_effort',
};

export function createClickHouse(options: ClickHouseOptions): ClickHouse {
  const client: ClickHouseClient = createClient({
    url: options.url,
    username: options.username ?? 'default',
    password: options.password ?? '',
    database: options.database,
    application: options.application ?? 'tether',
    request_timeout: options.requestTimeoutMs ?? 30_000,
    // The client logs every failed request at ERROR with the server's text,
    // which echoes the rows it could not parse. Callers log what failed
    // themselves (see loggableClickHouseMessage), so the client stays quiet.
    log: { level: ClickHouseLogLevel.OFF },
  });

  return {
    database: options.database,
    async insertRows(table, rows, insert = {}) {
      if (rows.length === 0) return;
      await client.insert({
        table,
        values: rows as object[],
        format: 'JSONEachRow',
        clickhouse_settings: insert.skipUnknownFields
          ? { ...INSERT_SETTINGS, input_format_skip_unknown_fields: 1 }
          : INSERT_SETTINGS,
        abort_signal: insert.signal,
      });
    },
    async insertRowBinary(table, columns, chunks, insert = {}) {
      if (chunks.length === 0) return;
      const result = await client.exec({
        query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT RowBinary`,
        values: Readable.from(chunks, { objectMode: false }),
        clickhouse_settings: insert.settings,
        abort_signal: insert.signal,
      });
      // The answer of an insert is empty, but it must be read for the socket to be reused.
      result.stream.resume();
      await finished(result.stream);
    },
    async queryRows<T>(sql: string, query: QueryOptions = {}) {
      const result = await client.query({
        query: sql,
        format: 'JSONEachRow',
        clickhouse_settings: query.settings,
        abort_signal: query.signal,
      });
      return result.json<T>();
    },
    async *queryStream<T>(sql: string, query: QueryOptions = {}): AsyncIterable<T> {
      const result = await client.query({
        query: sql,
        format: 'JSONEachRow',
        clickhouse_settings: query.settings,
        abort_signal: query.signal,
      });
      for await (const rows of result.stream<T>()) {
        for (const row of rows) yield row.json<T>();
      }
    },
    async command(sql, query = {}) {
      await client.command({ query: sql, clickhouse_settings: query.settings, abort_signal: query.signal });
    },
    async ping() {
      const result = await client.ping();
      return result.success;
    },
    close: () => client.close(),
  };
}
