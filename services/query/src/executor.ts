// Runs bound SQL on ClickHouse read-only, with a time limit, and turns
// failures into TETHER_QUERY_FAILED (retriable when the server was not
// reachable, not when it refused the query).
import type { ClickHouse } from '#clickhouse';
import { clickHouseErrorInfo, loggableClickHouseMessage } from '#clickhouse';
import { tetherError, TetherError } from '#errors';

export type ResultRow = Record<string, unknown>;

export interface QueryRunner {
  rows(sql: string, signal?: AbortSignal): Promise<ResultRow[]>;
  stream(sql: string, signal?: AbortSignal): AsyncIterable<ResultRow>;
}

export function queryRunner(ch: ClickHouse, options: { timeoutMs: number; maxRows: number }): QueryRunner {
  // readonly=2: no writes or DDL whatever the text says; settings may still be sent.
  // 64-bit integers as JSON numbers, as every other integer: one type per value in every output
  // (counts and epoch ms stay far below 2^53).
  const settings = { readonly: '2', max_execution_time: Math.ceil(options.timeoutMs / 1000), output_format_json_quote_64bit_integers: 0 as const };
  // A whole answer is held in memory: the server stops at the cap instead of
  // sending a result no caller may receive (streams cap themselves).
  const rowsSettings = { ...settings, max_result_rows: String(options.maxRows), result_overflow_mode: 'throw' as const };
  return {
    async rows(sql, signal) {
      try {
        return await ch.queryRows<ResultRow>(sql, { settings: rowsSettings, signal });
      } catch (err) {
        throw queryFailed(err, options.maxRows);
      }
    },
    async *stream(sql, signal) {
      try {
        for await (const row of ch.queryStream<ResultRow>(sql, { settings, signal })) yield row;
      } catch (err) {
        throw queryFailed(err);
      }
    },
  };
}

// Refusals caused by a parameter's value rather than by the query or the
// server: the caller's input to fix (a bad regular expression for match()).
const INPUT_ERROR_CODES = new Set([427]);
const TOO_MANY_ROWS = 396;

function queryFailed(err: unknown, maxRows?: number): Error {
  if (TetherError.is(err)) return err;
  const info = clickHouseErrorInfo(err);
  if (info.code === TOO_MANY_ROWS && maxRows !== undefined) {
    return tetherError('TETHER_QUERY_BIND', `the answer has more than ${maxRows} rows: narrow the filter`, { cause: err, context: { clickhouseCode: info.code } });
  }
  if (info.code !== null && INPUT_ERROR_CODES.has(info.code)) {
    return tetherError('TETHER_QUERY_BIND', `a parameter was refused by ClickHouse: ${loggableClickHouseMessage(info.message)}`, {
      cause: err,
      context: { clickhouseCode: info.code },
    });
  }
  return tetherError('TETHER_QUERY_FAILED', `ClickHouse query failed: ${loggableClickHouseMessage(info.message)}`, {
    cause: err,
    retriable: info.code === null,
    context: { clickhouseCode: info.code },
  });
}
