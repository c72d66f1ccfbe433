// RowBinary, ClickHouse's native row format over HTTP (`INSERT ... FORMAT
// RowBinary`): understood unchanged by 18.16 and current servers, and far
// cheaper than JSON on both sides (no quoting, no number printing or
// parsing). Values are little-endian; String and Array lengths are LEB128
// varints; Nullable(T) is one byte (1 = NULL) then T when not NULL;
// DateTime is UInt32 seconds.
//
// RowBinary carries no column names or types: the server reads bytes as the
// INSERT's column list says. So every value is range-checked against its
// column type here; a value that does not fit is a row error (the row is
// dead-lettered with the column named), never bytes the server would read
// as something else (a negative UInt64 as 2^64 - 1).
import { tetherError } from '#errors';

const TWO_32 = 2 ** 32;
/** Strings this short are at most 3 bytes a UTF-16 unit: 127 bytes, a one-byte length. */
const ONE_BYTE_LENGTH_CHARS = 42;

/** Rows are written into slabs of this size; a row bigger than a slab gets one of its own. */
export const DEFAULT_SLAB_BYTES = 1 << 20;

export function rowValueError(column: string, value: unknown, type: string): Error {
  return tetherError('TETHER_SINK_ROW_REJECTED', `${column} ${String(value)} does not fit the column's type ${type}`, { context: { column, type } });
}

/**
 * Appends rows to large slabs and hands each row back as a view of its
 * bytes (no copy), so a batch is a list of views that can be split for row
 * isolation and sent as they are.
 */
export class RowBinaryWriter {
  private buf: Buffer;
  private pos = 0;
  private rowStart = 0;
  private readonly slabBytes: number;

  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    this.slabBytes = slabBytes;
    this.buf = Buffer.allocUnsafe(slabBytes);
  }

  /** Ends the row begun after the previous endRow/abortRow and returns its bytes. */
  endRow(): Buffer {
    const row = this.buf.subarray(this.rowStart, this.pos);
    this.rowStart = this.pos;
    return row;
  }

  /** Forgets what was written since the last row ended (a value did not fit). */
  abortRow(): void {
    this.pos = this.rowStart;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    // A new slab; the row written so far moves with it (old slabs stay alive while views of them do).
    const partial = this.pos - this.rowStart;
    const next = Buffer.allocUnsafe(Math.max(this.slabBytes, (partial + bytes) * 2));
    this.buf.copy(next, 0, this.rowStart, this.pos);
    this.buf = next;
    this.rowStart = 0;
    this.pos = partial;
  }

  private varint(n: number): void {
    this.ensure(10);
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[this.pos++] = n;
  }

  string(s: string): void {
    const length = s.length;
    if (length <= ONE_BYTE_LENGTH_CHARS) {
      this.ensure(1 + 3 * length);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      // ASCII by hand: cheaper than a native call for the short ids and names most columns hold.
      for (let i = 0; i < length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) {
          p = start + 1 + buf.write(s, start + 1, 'utf8');
          break;
        }
        buf[p++] = c;
      }
      buf[start] = p - start - 1;
      this.pos = p;
      return;
    }
    const bytes = Buffer.byteLength(s, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A String column from bytes that are already its UTF-8 (or any bytes: String is bytes). */
  bytes(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A String column from a span of another buffer (UTF-8 already), copied once. */
  stringSpan(src: Uint8Array, start: number, end: number): void {
    const length = end - start;
    this.varint(length);
    this.ensure(length);
    const buf = this.buf;
    if (length < 16) {
      for (let i = start, p = this.pos; i < end; i++, p++) buf[p] = src[i]!;
    } else {
      buf.set(src.subarray(start, end), this.pos);
    }
    this.pos += length;
  }

  /** Bytes that already are a value's RowBinary form (a little-endian Float32 from Avro). */
  copy(src: Uint8Array, start: number, length: number): void {
    this.ensure(length);
    for (let i = 0; i < length; i++) this.buf[this.pos + i] = src[start + i]!;
    this.pos += length;
  }

  /** An Array's length prefix; the elements follow. */
  arrayLength(n: number): void {
    this.varint(n);
  }

  nullableString(s: string | null): void {
    if (s === null) return this.nullFlag(true);
    this.nullFlag(false);
    this.string(s);
  }

  strings(values: readonly string[]): void {
    this.varint(values.length);
    for (const v of values) this.string(v);
  }

  nullableStrings(values: readonly (string | null)[]): void {
    this.varint(values.length);
    for (const v of values) this.nullableString(v);
  }

  nullFlag(isNull: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = isNull ? 1 : 0;
  }

  uint8(n: number, column: string): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw rowValueError(column, n, 'UInt8');
    this.ensure(1);
    this.buf[this.pos++] = n;
  }

  nullableUint8(n: number | null, column: string): void {
    if (n === null) return this.nullFlag(true);
    this.nullFlag(false);
    this.uint8(n, column);
  }

  int32(n: number, column: string): void {
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw rowValueError(column, n, 'Int32');
    this.ensure(4);
    this.pos = this.buf.writeInt32LE(n, this.pos);
  }

  /** DateTime: UInt32 seconds (callers bound the range first, see dateTimeSeconds). */
  dateTime(seconds: number, column: string): void {
    if (!Number.isInteger(seconds) || seconds < 0 || seconds >= TWO_32) throw rowValueError(column, seconds, 'DateTime');
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(seconds, this.pos);
  }

  /** UInt64 from a JS number: Avro longs decode to safe integers. */
  uint64(n: number, column: string): void {
    if (!Number.isSafeInteger(n) || n < 0) throw rowValueError(column, n, 'UInt64');
    this.ensure(8);
    const low = n % TWO_32;
    this.buf.writeUInt32LE(low, this.pos);
    this.buf.writeUInt32LE((n - low) / TWO_32, this.pos + 4);
    this.pos += 8;
  }

  nullableUint64(n: number | null, column: string): void {
    if (n === null) return this.nullFlag(true);
    this.nullFlag(false);
    this.uint64(n, column);
  }

  int64(n: number, column: string): void {
    if (!Number.isSafeInteger(n)) throw rowValueError(column, n, 'Int64');
    this.ensure(8);
    // Two's complement in two halves: the high half is floor(n / 2^32) as a signed 32-bit value.
    const high = Math.floor(n / TWO_32);
    this.buf.writeUInt32LE(n - high * TWO_32, this.pos);
    this.buf.writeInt32LE(high, this.pos + 4);
    this.pos += 8;
  }

  float32(n: number, column: string): void {
    if (typeof n !== 'number') throw rowValueError(column, n, 'Float32');
    this.ensure(4);
    this.pos = this.buf.writeFloatLE(n, this.pos);
  }
}

/** Merges views that are contiguous in one slab, so a batch goes out in few large writes. */
export function coalesce(rows: readonly Uint8Array[]): Buffer[] {
  const out: Buffer[] = [];
  let current: Buffer | undefined;
  for (const row of rows) {
    if (row.length === 0) continue;
    if (current && current.buffer === row.buffer && current.byteOffset + current.length === row.byteOffset) {
      current = Buffer.from(current.buffer, current.byteOffset, current.length + row.length);
      out[out.length - 1] = current;
    } else {
      current = Buffer.from(row.buffer, row.byteOffset, row.length);
      out.push(current);
    }
  }
  return out;
}
