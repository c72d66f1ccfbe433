// What a failed ClickHouse call means for a writer: one of the rows was bad
// (find it, dead-letter it, keep the rest), or the server cannot take writes
// right now (back off and retry everything, lose nothing).
//
// 18.16 answers "Code: 27, e.displayText() = DB::Exception: ...: (at row 3)";
// current servers add the type in parentheses. @clickhouse/client parses the
// current form only, so the code is read from the text here.

export interface ClickHouseErrorInfo {
  /** The server's numeric error code, when the server answered. */
  code: number | null;
  message: string;
  /** 1-based row of the insert's data the server stopped at, when it says. */
  row: number | null;
}

/**
 * row: the data of the insert is at fault (some row cannot be parsed or
 * stored); retrying the same rows fails the same way.
 * schema: the table does not match what is written (missing table or
 * column): every row would fail; an operator must migrate.
 * unavailable: anything else (network, timeouts, overload, restarts): retry.
 */
export type WriteErrorKind = 'row' | 'schema' | 'unavailable';

// Errors ClickHouse raises while parsing or converting the inserted data.
const ROW_ERROR_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  25, // CANNOT_PARSE_ESCAPE_SEQUENCE (a lone surrogate's \ud800 in JSON)
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA (unless it names an unknown field: see below)
  130, // CANNOT_READ_ARRAY_FROM_TEXT
  131, // TOO_LARGE_STRING_SIZE
  190, // SIZES_OF_ARRAYS_DOESNT_MATCH
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  407, // DECIMAL_OVERFLOW
]);

const SCHEMA_ERROR_CODES = new Set([
  10, // NOT_FOUND_COLUMN_IN_BLOCK
  16, // NO_SUCH_COLUMN_IN_TABLE
  47, // UNKNOWN_IDENTIFIER
  60, // UNKNOWN_TABLE
  81, // UNKNOWN_DATABASE
]);

export function clickHouseErrorInfo(err: unknown): ClickHouseErrorInfo {
  const message = err instanceof Error ? err.message : String(err);
  const typed = (err as { code?: unknown } | null)?.code;
  const fromText = /\bCode: (\d+)/.exec(message)?.[1];
  const code = fromText !== undefined ? Number(fromText) : typeof typed === 'string' && /^\d+$/.test(typed) ? Number(typed) : null;
  const row = /\(at row (\d+)\)/.exec(message)?.[1];
  return { code, message, row: row === undefined ? null : Number(row) };
}

export function classifyWriteError(err: unknown): WriteErrorKind {
  const { code, message } = clickHouseErrorInfo(err);
  if (code === null) return 'unavailable';
  // A field the table lacks is a schema mismatch, not a bad row: every row has it.
  if (/Unknown field found|No such column|There is no column/i.test(message)) return 'schema';
  if (SCHEMA_ERROR_CODES.has(code)) return 'schema';
  if (ROW_ERROR_CODES.has(code)) return 'row';
  return 'unavailable';
}

/**
 * The server's message without the echo of the row it could not parse
 * ("before: <data>"), which may hold payload text: safe to log.
 */
export function loggableClickHouseMessage(message: string): string {
  const cut = message.search(/\bbefore: |\bat row \d+: /);
  const head = cut === -1 ? message : `${message.slice(0, cut)}…`;
  return head.replace(/\s+/g, ' ').slice(0, 300);
}
