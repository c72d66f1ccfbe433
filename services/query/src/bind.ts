// Client-side binding of typed parameters into SQL text. ClickHouse 18.16
// has no server-side query parameters, so values become literals here; the
// placeholder syntax is current ClickHouse's `{name:Type}` so saved queries
// read the same as on a modern server. Every value is validated for its
// type first and strings are escaped so no input can end a literal.
import { tetherError } from '#errors';
import { parseInstant } from '#time';

export const PARAM_TYPES = ['String', 'Int64', 'UInt64', 'Float64', 'DateTime', 'Array(String)'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export type ParamValue = string | number | bigint | Date | Uint8Array | readonly string[];
export type Params = Readonly<Record<string, ParamValue>>;

export interface Placeholder {
  name: string;
  type: ParamType;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PLACEHOLDER = /^\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([A-Za-z0-9_() ]+?)\s*\}/;

/**
 * Replaces every `{name:Type}` outside string literals, quoted identifiers and
 * comments with the literal for `params[name]`. Unknown, missing or
 * mistyped parameters throw TETHER_QUERY_BIND; the SQL is scanned once, so a
 * bound value is never itself scanned for placeholders.
 */
export function bindQuery(sql: string, params: Params): string {
  const pieces: string[] = [];
  const used = new Map<string, ParamType>();
  for (const part of scan(sql)) {
    if (typeof part === 'string') {
      pieces.push(part);
      continue;
    }
    const before = used.get(part.name);
    if (before !== undefined && before !== part.type) {
      throw bindError(`parameter "${part.name}" is used as both ${before} and ${part.type}`, { name: part.name });
    }
    if (!Object.hasOwn(params, part.name)) {
      throw bindError(`missing parameter "${part.name}" (${part.type})`, { name: part.name, type: part.type });
    }
    pieces.push(formatValue(part.type, params[part.name] as ParamValue, part.name));
    used.set(part.name, part.type);
  }
  const unknown = Object.keys(params).filter((name) => !used.has(name));
  if (unknown.length > 0) {
    throw bindError(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`, {
      names: unknown,
    });
  }
  return pieces.join('');
}

/**
 * The placeholders of a SQL text, each name once, in order of first use;
 * a name used with two types throws.
 */
export function placeholders(sql: string): Placeholder[] {
  const seen = new Map<string, Placeholder>();
  for (const part of scan(sql)) {
    if (typeof part === 'string') continue;
    const before = seen.get(part.name);
    if (before && before.type !== part.type) {
      throw bindError(`parameter "${part.name}" is used as both ${before.type} and ${part.type}`, { name: part.name });
    }
    if (!before) seen.set(part.name, part);
  }
  return [...seen.values()];
}

/** The SQL literal for one value of a parameter type. */
export function formatValue(type: ParamType, value: ParamValue, name = '?'): string {
  switch (type) {
    case 'String':
      if (typeof value === 'string') return quoteString(value, name);
      if (value instanceof Uint8Array) return quoteBytes(value);
      throw typeError(name, type, value);
    // Integers stay bare literals: 18.16 accepts only a number after LIMIT.
    // A negative one is parenthesised so `a -{x:Int64}` cannot become `a --5`.
    case 'Int64':
      return integerLiteral(integer(value, name, type, INT64_MIN, INT64_MAX));
    case 'UInt64':
      return integerLiteral(integer(value, name, type, 0n, UINT64_MAX));
    case 'Float64':
      return `toFloat64(${float(value, name)})`;
    case 'DateTime':
      return `toDateTime(${Math.floor(toEpochMs(value, name) / 1000)}, 'UTC')`;
    case 'Array(String)': {
      if (!Array.isArray(value)) throw typeError(name, type, value);
      // `[]` is Array(Nothing) on 18.16: has()/IN on it fails to type-check.
      if (value.length === 0) return 'emptyArrayString()';
      return `[${value.map((item: unknown, i) => {
        if (typeof item !== 'string') throw typeError(`${name}[${i}]`, 'String', item);
        return quoteString(item, `${name}[${i}]`);
      }).join(', ')}]`;
    }
  }
}

export function isParamType(text: string): text is ParamType {
  return (PARAM_TYPES as readonly string[]).includes(text);
}

export function isParamName(text: string): boolean {
  return NAME.test(text);
}

/**
 * A ClickHouse string literal for `text`: quote and backslash escaped;
 * characters that end or bend a line for some reader are written as the
 * \xHH escapes of their UTF-8 bytes (same value to ClickHouse): C0 and C1
 * controls, DEL, U+2028/U+2029 (line ends to Python's splitlines and old JS),
 * and the bidi and zero-width marks that make a query in a manifest or a log
 * read differently from what runs. Lone UTF-16 surrogates have no UTF-8
 * form and would silently become U+FFFD on the wire: refused.
 */
export function quoteString(text: string, name = '?'): string {
  if (!text.isWellFormed()) {
    throw bindError(`parameter "${name}" is not valid Unicode (lone surrogate)`, { name });
  }
  let out = "'";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x27) out += "\\'";
    else if (code === 0x5c) out += '\\\\';
    else if (code < 0x20 || code === 0x7f) out += hexEscape(code);
    else if (DISGUISING.test(text[i]!)) for (const byte of Buffer.from(text[i]!, 'utf8')) out += hexEscape(byte);
    else out += text[i];
  }
  return `${out}'`;
}

// C1 controls, ALM, zero-width and directional marks, line/paragraph separators, bidi embeddings and isolates, BOM.
const DISGUISING = /[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** A ClickHouse string literal holding exactly these bytes (any encoding, or none). */
export function quoteBytes(bytes: Uint8Array): string {
  let out = "'";
  for (const byte of bytes) {
    if (byte === 0x27) out += "\\'";
    else if (byte === 0x5c) out += '\\\\';
    else if (byte < 0x20 || byte >= 0x7f) out += hexEscape(byte);
    else out += String.fromCharCode(byte);
  }
  return `${out}'`;
}

/**
 * Epoch ms from epoch ms (a number, or 12-13 digits) or an ISO-8601 date /
 * date-time; a time without an offset is UTC. Impossible dates (Feb 30,
 * 25:00), shorter digit strings and times outside DateTime's range are
 * refused rather than normalised.
 */
export function toEpochMs(value: ParamValue, name = '?'): number {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'number') ms = Number.isSafeInteger(value) ? value : Number.NaN;
  else if (typeof value === 'string' && /^\d+$/.test(value)) ms = epochMsDigits(value, name);
  else if (typeof value === 'string') ms = parseIsoTime(value);
  else throw typeError(name, 'DateTime', value);
  if (!Number.isFinite(ms)) throw bindError(`parameter "${name}" is not a valid DateTime: ${preview(value)}`, { name });
  if (ms < 0 || ms > DATETIME_MAX_MS) {
    throw bindError(`parameter "${name}" is outside DateTime's range (1970 to 2106): ${preview(value)}`, { name });
  }
  return ms;
}

// Typed text is epoch ms only with 12 or 13 digits (1973-03-03 to 2106).
// Fewer digits are something else: 20260101 (a compact date) or 1767225600
// (epoch seconds) read as ms would silently query January 1970.
const EPOCH_MS_DIGITS = /^[1-9]\d{11,12}$/;

function epochMsDigits(text: string, name: string): number {
  if (EPOCH_MS_DIGITS.test(text)) return Number(text);
  const hint = text.length === 8
    ? `; for the date write ${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`
    : text.length === 10 ? `; as epoch seconds that is ${text}000 in ms` : '';
  throw bindError(
    `parameter "${name}" is not a valid DateTime: ${preview(text)} is not epoch milliseconds (12 or 13 digits, from 1973) nor ISO-8601 (2026-01-01, 2026-01-01T09:30:00Z)${hint}`,
    { name },
  );
}

// ---------------------------------------------------------------- scanner ---

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const DATETIME_MAX_MS = 4_294_967_295_999;
/** The smallest normal Float64, 2.2250738585072014e-308: the smallest magnitude 18.16 parses. */
const FLOAT64_MIN_NORMAL = 2 ** -1022;

/**
 * Splits SQL into verbatim text and placeholders. Mirrors the ClickHouse
 * lexer for the constructs that can hide a brace: '...' literals (backslash
 * and doubled-quote escapes), "..." and `...` identifiers, -- and /* *\/
 * comments. Any other brace is an error: our SQL uses none.
 */
function* scan(sql: string): Generator<string | Placeholder> {
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === "'" || ch === '"' || ch === '`') {
      i = skipQuoted(sql, i, ch);
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw bindError('unterminated /* comment in query text', { at: i });
      i = end + 2;
    } else if (ch === '{') {
      const match = PLACEHOLDER.exec(sql.slice(i, i + 200));
      if (!match) throw bindError(`malformed placeholder at offset ${i}: ${JSON.stringify(sql.slice(i, i + 30))}`, { at: i });
      const type = match[2]!.replace(/\s+/g, '');
      if (!isParamType(type)) {
        throw bindError(`unsupported parameter type "${match[2]}" for "${match[1]}" (supported: ${PARAM_TYPES.join(', ')})`, {
          name: match[1],
        });
      }
      if (i > start) yield sql.slice(start, i);
      yield { name: match[1]!, type };
      i += match[0].length;
      start = i;
    } else if (ch === '}') {
      throw bindError(`stray "}" at offset ${i} in query text`, { at: i });
    } else {
      i++;
    }
  }
  if (start < sql.length) yield sql.slice(start);
}

function skipQuoted(sql: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '\\') i += 2;
    else if (ch === quote && sql[i + 1] === quote) i += 2;
    else if (ch === quote) return i + 1;
    else i++;
  }
  throw bindError(`unterminated ${quote} quote in query text`, { at: open });
}

// ----------------------------------------------------------------- values ---

function integerLiteral(n: bigint): string {
  return n < 0n ? `(${n})` : `${n}`;
}

function integer(value: ParamValue, name: string, type: ParamType, min: bigint, max: bigint): bigint {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === 'string' && /^-?(0|[1-9]\d{0,19})$/.test(value)) n = BigInt(value);
  else throw typeError(name, type, value);
  if (n < min || n > max) throw bindError(`parameter "${name}" is out of range for ${type}: ${n}`, { name });
  return n;
}

function float(value: ParamValue, name: string): string {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^-?\d{1,300}(\.\d{1,300})?([eE][+-]?\d{1,3})?$/.test(value)) n = Number(value);
  else throw typeError(name, 'Float64', value);
  if (!Number.isFinite(n)) throw bindError(`parameter "${name}" must be a finite Float64`, { name });
  // 18.16's lexer reads number literals with strtod and calls an underflow a
  // syntax error: subnormals (and text so small it reads as 0) are refused
  // here, with the reason, instead of failing the whole query on the server.
  const nonZeroText = typeof value === 'string' && /[1-9]/.test(value.replace(/[eE].*$/, ''));
  if ((n !== 0 && Math.abs(n) < FLOAT64_MIN_NORMAL) || (n === 0 && nonZeroText)) {
    throw bindError(`parameter "${name}" is too close to zero for a Float64 literal (magnitude below ${FLOAT64_MIN_NORMAL}; use 0)`, { name });
  }
  // String(n) is digits, '.', 'e', '+', '-' only: a valid ClickHouse numeric literal.
  return Object.is(n, -0) ? '0' : String(n);
}

function parseIsoTime(text: string): number {
  const parsed = parseInstant(text);
  return parsed.ok ? parsed.ms : Number.NaN;
}

function hexEscape(code: number): string {
  return `\\x${code.toString(16).padStart(2, '0').toUpperCase()}`;
}

function typeError(name: string, type: string, value: unknown): Error {
  return bindError(`parameter "${name}" is not a valid ${type}: ${preview(value)}`, { name, type });
}

function preview(value: unknown): string {
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function bindError(message: string, context: Record<string, unknown>): Error {
  return tetherError('TETHER_QUERY_BIND', message, { context });
}
