// Reads RowBinary back into row objects (as accessEventRow builds them), so
// tests can check what an encoder wrote column by column. Test-only: the
// server is the reader in production.

export type Row = Record<string, unknown>;

class Cursor {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (!(b & 0x80)) return n;
      scale *= 128;
    }
  }
}

function readValue(c: Cursor, type: string): unknown {
  const nullable = /^Nullable\((.*)\)$/.exec(type);
  if (nullable) return c.buf[c.pos++] === 1 ? null : readValue(c, nullable[1]!);
  const array = /^Array\((.*)\)$/.exec(type);
  if (array) {
    const n = c.varint();
    return Array.from({ length: n }, () => readValue(c, array[1]!));
  }
  const buf = c.buf;
  const at = c.pos;
  switch (type) {
    case 'String': {
      const length = c.varint();
      const start = c.pos;
      c.pos += length;
      return buf.toString('utf8', start, start + length);
    }
    case 'UInt8': c.pos += 1; return buf.readUInt8(at);
    case 'Int32': c.pos += 4; return buf.readInt32LE(at);
    case 'DateTime': c.pos += 4; return buf.readUInt32LE(at);
    case 'Float32': c.pos += 4; return buf.readFloatLE(at);
    case 'UInt64': c.pos += 8; return Number(buf.readBigUInt64LE(at));
    case 'Int64': c.pos += 8; return Number(buf.readBigInt64LE(at));
    default: throw new Error(`the test reader does not know ${type}`);
  }
}

/** Every row in the bytes, each an object keyed by column name. */
export function readRowBinary(bytes: Buffer, columns: readonly (readonly [string, string])[]): Row[] {
  const c = new Cursor(bytes);
  const rows: Row[] = [];
  while (c.pos < bytes.length) {
    const row: Row = {};
    for (const [name, type] of columns) row[name] = readValue(c, type);
    rows.push(row);
  }
  if (c.pos !== bytes.length) throw new Error(`trailing bytes: read ${c.pos} of ${bytes.length}`);
  return rows;
}
