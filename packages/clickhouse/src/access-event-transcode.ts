// EnrichedAccessEvent Avro body -> access_events RowBinary row in one pass
// over the bytes: strings are copied span for span (Avro and RowBinary both
// store them as a length and the UTF-8 bytes), numbers are re-encoded, and
// no JS object or string is made for the record. Decoding to objects first
// (avsc) and encoding those (writeAccessEventRow) costs several times more
// CPU, which is the sink's budget beside ClickHouse's own on a small machine.
//
// It reads exactly one writer schema, the one it was written for (checked
// by fingerprint: TRANSCODER_SCHEMA_FINGERPRINT). Anything else — another
// schema version, a value that needs a row error, bytes that do not parse —
// returns null, and the caller takes the general path (decode with schema
// resolution, then writeAccessEventRow), which gives the row or the error.
// The output is byte for byte what writeAccessEventRow writes (tested).
import { isUtf8 } from 'node:buffer';
import type { RowBinaryWriter } from './row-binary.ts';

/** SHA-256 (avsc getFingerprint) of the EnrichedAccessEvent schema this transcoder reads. */
export const TRANSCODER_SCHEMA_FINGERPRINT = '1b8a335c825a5cbf9430860b607edc615c8f87c8b15ecbb44538522fa4c0834c';

const MAX_DATETIME_SECONDS = 2 ** 32;
const UTF8 = Buffer.from('utf8');
const BASE64 = Buffer.from('base64');

/** Thrown (one shared instance: no stack to build) when the bytes leave what this transcoder reads. */
const UNSUPPORTED = new Error('not transcodable');

/** Cursor over one Avro body; spans of strings are returned through start/end. */
class Reader {
  buf: Buffer = Buffer.alloc(0);
  pos = 0;
  end = 0;
  start = 0;
  stop = 0;

  reset(buf: Buffer): void {
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
  }

  /** Avro long (zigzag varint) as a safe integer; anything wider is not transcoded. */
  long(): number {
    let b = this.byte();
    let n = b & 0x7f;
    let scale = 128;
    while (b & 0x80) {
      b = this.byte();
      n += (b & 0x7f) * scale;
      scale *= 128;
      if (scale > 2 ** 56) throw UNSUPPORTED;
    }
    if (n > Number.MAX_SAFE_INTEGER) throw UNSUPPORTED;
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  byte(): number {
    if (this.pos >= this.end) throw UNSUPPORTED;
    return this.buf[this.pos++]!;
  }

  /** A string or bytes field: sets start/stop to its span. */
  span(): void {
    const length = this.long();
    if (length < 0 || this.pos + length > this.end) throw UNSUPPORTED;
    this.start = this.pos;
    this.pos += length;
    this.stop = this.pos;
  }

  /** Union branch of ["null", T]: true when T follows. */
  present(): boolean {
    const branch = this.long();
    if (branch === 0) return false;
    if (branch === 1) return true;
    throw UNSUPPORTED;
  }

  /** Next block count of an array (0 ends it). */
  blockCount(): number {
    let count = this.long();
    if (count < 0) {
      count = -count;
      this.long(); // the block's size in bytes
    }
    return count;
  }
}

const reader = new Reader();
/** Spans of array items, reused from row to row: [start, stop] per string, -1 for null. */
const spans: number[] = [];

function copyString(w: RowBinaryWriter, r: Reader): void {
  r.span();
  w.stringSpan(r.buf, r.start, r.stop);
}

function copyNullableString(w: RowBinaryWriter, r: Reader): void {
  if (!r.present()) return w.nullFlag(true);
  w.nullFlag(false);
  copyString(w, r);
}

function pushSpan(r: Reader): void {
  r.span();
  spans.push(r.start, r.stop);
}

function pushNullableSpan(r: Reader): void {
  if (r.present()) pushSpan(r);
  else spans.push(-1, -1);
}

/** Writes every `stride`-th span from `first` as one Array column. */
function writeSpans(w: RowBinaryWriter, buf: Buffer, first: number, stride: number, nullable: boolean): void {
  const items = spans.length / (2 * stride);
  w.arrayLength(items);
  for (let i = 0; i < items; i++) {
    const at = 2 * (i * stride + first);
    const start = spans[at]!;
    if (nullable) {
      if (start === -1) {
        w.nullFlag(true);
        continue;
      }
      w.nullFlag(false);
    }
    w.stringSpan(buf, start, spans[at + 1]!);
  }
}

/** A timestamp-millis as the DateTime seconds + UInt64 ms pair. */
function timePair(w: RowBinaryWriter, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  if (ms < 0 || seconds >= MAX_DATETIME_SECONDS) throw UNSUPPORTED;
  w.dateTime(seconds, 'time');
  uint64(w, ms);
}

function uint64(w: RowBinaryWriter, n: number): void {
  if (n < 0) throw UNSUPPORTED;
  w.uint64(n, 'value');
}

function int32(w: RowBinaryWriter, r: Reader): void {
  const n = r.long();
  if (n < -0x80000000 || n > 0x7fffffff) throw UNSUPPORTED;
  w.int32(n, 'value');
}

function strings(w: RowBinaryWriter, r: Reader): void {
  spans.length = 0;
  for (let count = r.blockCount(); count !== 0; count = r.blockCount()) {
    for (let i = 0; i < count; i++) pushSpan(r);
  }
  writeSpans(w, r.buf, 0, 1, false);
}

/**
 * Writes the row for the Avro body (the record without the 5-byte wire
 * header) and returns its bytes, or returns null having written nothing.
 */
export function transcodeAccessEvent(w: RowBinaryWriter, body: Buffer): Buffer | null {
  try {
    encode(w, body);
    return w.endRow();
  } catch {
    // Not this schema's bytes, or a value the writer refused: the general path names the problem.
    w.abortRow();
    return null;
  }
}

function encode(w: RowBinaryWriter, body: Buffer): void {
  const r = reader;
  r.reset(body);
  const buf = body;
  // event
  copyString(w, r); // event_id
  copyString(w, r); // source.platform
  copyString(w, r); // source.feed
  copyString(w, r); // source.source_event_id
  timePair(w, r.long()); // source.ingested_at
  copyString(w, r); // source.ingest_version
  timePair(w, r.long()); // time
  copyString(w, r); // time_raw
  copyString(w, r); // action
  copyString(w, r); // source_type
  copyString(w, r); // outcome
  int32(w, r); // ocsf.category_uid
  int32(w, r); // ocsf.class_uid
  int32(w, r); // ocsf.activity_id
  w.int64(r.long(), 'type_uid');
  int32(w, r); // ocsf.severity_id
  copyString(w, r); // actor.kind
  for (let i = 0; i < 7; i++) copyNullableString(w, r); // actor.platform_user_id .. session_id
  spans.length = 0;
  for (let count = r.blockCount(); count !== 0; count = r.blockCount()) {
    for (let i = 0; i < count; i++) {
      pushSpan(r); // type
      pushSpan(r); // id
      pushNullableSpan(r); // name
    }
  }
  writeSpans(w, buf, 0, 3, false);
  writeSpans(w, buf, 1, 3, false);
  writeSpans(w, buf, 2, 3, true);
  for (let i = 0; i < 3; i++) copyNullableString(w, r); // scope
  for (let i = 0; i < 6; i++) copyNullableString(w, r); // src
  if (r.present()) {
    w.nullFlag(false);
    copyString(w, r); // connector.provider
    w.nullFlag(false);
    copyString(w, r); // connector.client_id
    copyNullableString(w, r); // connector.app_name
    strings(w, r); // connector.scopes
  } else {
    w.nullFlag(true);
    w.nullFlag(true);
    w.nullFlag(true);
    w.arrayLength(0);
  }
  r.span(); // raw
  if (isUtf8(buf.subarray(r.start, r.stop))) {
    w.stringSpan(buf, r.start, r.stop);
    w.bytes(UTF8);
  } else {
    w.string(buf.toString('base64', r.start, r.stop));
    w.bytes(BASE64);
  }
  copyString(w, r); // unmapped

  // person
  let keyStart = -1;
  let keyStop = -1;
  if (r.present()) {
    r.span();
    keyStart = r.start;
    keyStop = r.stop;
    w.nullFlag(false);
    w.stringSpan(buf, keyStart, keyStop); // person_id
    for (let i = 0; i < 5; i++) copyNullableString(w, r); // email .. manager_person_id
    w.nullFlag(false);
    copyString(w, r); // lifecycle_state
    w.nullFlag(false);
    uint64(w, r.long()); // version_valid_from
    w.nullFlag(false);
    copyString(w, r); // version_source
  } else {
    for (let i = 0; i < 9; i++) w.nullFlag(true);
  }

  // device
  if (r.present()) {
    w.nullFlag(false);
    copyString(w, r); // device_id
    for (let i = 0; i < 3; i++) copyNullableString(w, r); // serial, hostname, os
    const managed = r.byte();
    if (managed > 1) throw UNSUPPORTED;
    w.nullFlag(false);
    w.uint8(managed, 'device_managed');
    if (r.present()) {
      const compliant = r.byte();
      if (compliant > 1) throw UNSUPPORTED;
      w.nullFlag(false);
      w.uint8(compliant, 'device_compliant');
    } else {
      w.nullFlag(true);
    }
    copyNullableString(w, r); // assigned_person_id
    w.nullFlag(false);
    uint64(w, r.long()); // version_valid_from
  } else {
    for (let i = 0; i < 8; i++) w.nullFlag(true);
  }

  // nhi_chain
  spans.length = 0;
  for (let count = r.blockCount(); count !== 0; count = r.blockCount()) {
    for (let i = 0; i < count; i++) {
      pushSpan(r); // kind
      pushSpan(r); // id
      pushNullableSpan(r); // name
      pushNullableSpan(r); // status
    }
  }
  if (keyStart === -1 && spans.length > 0) {
    keyStart = spans[2]!;
    keyStop = spans[3]!;
  }
  for (let field = 0; field < 4; field++) writeSpans(w, buf, field, 4, field >= 2);

  // attribution
  copyString(w, r); // method
  if (r.pos + 4 > r.end) throw UNSUPPORTED;
  w.copy(buf, r.pos, 4); // confidence: Avro floats are little-endian IEEE 754, as RowBinary's Float32
  r.pos += 4;
  copyString(w, r); // device_method
  if (r.pos + 4 > r.end) throw UNSUPPORTED;
  w.copy(buf, r.pos, 4); // device_confidence
  r.pos += 4;
  strings(w, r); // reasons

  // enrichment
  copyString(w, r); // version
  timePair(w, r.long()); // enriched_at
  uint64(w, r.long()); // waited_ms

  w.stringSpan(buf, Math.max(0, keyStart), Math.max(0, keyStop)); // person_key ('' when neither)
  if (r.pos !== r.end) throw UNSUPPORTED;
}
