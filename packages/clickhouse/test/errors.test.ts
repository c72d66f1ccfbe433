// Error texts as ClickHouse 18.16 returns them through @clickhouse/client
// (recorded against the local server), and as current servers word them.
import { describe, expect, it } from 'vitest';
import { classifyWriteError, clickHouseErrorInfo, loggableClickHouseMessage } from '#clickhouse';

const v18 = {
  unsigned: "Code: 72, e.displayText() = DB::Exception: Unsigned type must not contain '-' symbol: (while read the value of key enrichment_waited_ms): (at row 1)\n, e.what() = DB::Exception\n",
  parse: 'Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected " before: abc"}\\n: (while read the value of key dlq_offset): (at row 2)\n, e.what() = DB::Exception\n',
  nullInString: 'Code: 26, e.displayText() = DB::Exception: Cannot parse JSON string: expected opening quote: (while read the value of key stage): (at row 2)\n, e.what() = DB::Exception\n',
  unknownField: 'Code: 117, e.displayText() = DB::Exception: Unknown field found while parsing JSONEachRow format: nope: (at row 1)\n, e.what() = DB::Exception\n',
  noTable: "Code: 60, e.displayText() = DB::Exception: Table sink_x.access_events doesn't exist., e.what() = DB::Exception\n",
  loneSurrogate: 'Code: 25, e.displayText() = DB::Exception: Cannot parse escape sequence: missing second part of surrogate pair: (while read the value of key s), e.what() = DB::Exception\n',
  tooManyParts: 'Code: 252, e.displayText() = DB::Exception: Too many parts (300). Merges are processing significantly slower than inserts., e.what() = DB::Exception\n',
};

function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('ClickHouse write errors', () => {
  it('reads the code and the row from 18.16 texts', () => {
    expect(clickHouseErrorInfo(new Error(v18.parse))).toMatchObject({ code: 27, row: 2 });
    expect(clickHouseErrorInfo(new Error(v18.noTable))).toMatchObject({ code: 60, row: null });
  });

  it('reads the code the client parsed from a current server', () => {
    const err = Object.assign(new Error('Cannot parse input: expected \'"\' before: \'abc\': (at row 3)'), { code: '27', type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED' });
    expect(clickHouseErrorInfo(err)).toMatchObject({ code: 27, row: 3 });
    expect(classifyWriteError(err)).toBe('row');
  });

  it('calls data errors row errors, schema mismatches schema errors, and everything else unavailable', () => {
    expect(classifyWriteError(new Error(v18.unsigned))).toBe('row');
    expect(classifyWriteError(new Error(v18.parse))).toBe('row');
    expect(classifyWriteError(new Error(v18.nullInString))).toBe('row');
    expect(classifyWriteError(new Error(v18.loneSurrogate))).toBe('row');
    expect(classifyWriteError(new Error(v18.unknownField))).toBe('schema');
    expect(classifyWriteError(new Error(v18.noTable))).toBe('schema');
    expect(classifyWriteError(new Error(v18.tooManyParts))).toBe('unavailable');
    expect(classifyWriteError(networkError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:18123'))).toBe('unavailable');
    expect(classifyWriteError(networkError('ECONNRESET', 'socket hang up'))).toBe('unavailable');
    expect(classifyWriteError(new Error('Timeout error.'))).toBe('unavailable');
  });

  it('makes a loggable message without the echo of the row', () => {
    const logged = loggableClickHouseMessage(v18.parse);
    expect(logged).toBe('Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected " …');
    expect(logged).not.toContain('abc');
  });
});
