// The RowBinary encoders against the readable mapping (accessEventRow): the
// bytes the sink sends read back, column by column, as the row object the
// JSONEachRow path sent; and the transcoder writes exactly those bytes.
import { describe, expect, it } from 'vitest';
import { loadSchemas, type EnrichedAccessEvent } from '#schemas';
import {
  ACCESS_EVENT_COLUMNS, RowBinaryWriter, TRANSCODER_SCHEMA_FINGERPRINT, accessEventRow, coalesce, transcodeAccessEvent, writeAccessEventRow,
} from '#clickhouse';
import { numberedEvent, sampleEvents } from '../../../services/sink-clickhouse/test/fixtures.ts';
import { readRowBinary } from './row-binary-reader.ts';

const avro = loadSchemas().types.get('EnrichedAccessEvent')!;

/** The event as a consumer decodes it (Avro floats are float32). */
const decoded = (e: EnrichedAccessEvent): EnrichedAccessEvent => avro.fromBuffer(avro.toBuffer(e)) as EnrichedAccessEvent;

/** Shapes the fixtures lack: long and non-ASCII text, many targets, negative ids, odd nulls. */
function variants(): EnrichedAccessEvent[] {
  const [human, archive, connector, csv] = sampleEvents();
  const long = decoded(human!);
  long.event.src = { ...long.event.src, user_agent: 'Mozilla/5.0 '.repeat(30), hostname: 'hôte-ünïcødé-名前-'.repeat(3), country: '' };
  long.event.targets = Array.from({ length: 200 }, (_, i) => ({ type: 't', id: `id-${i}`, name: i % 3 === 0 ? null : `name ${'é'.repeat(i % 50)}` }));
  long.event.ocsf = { ...long.event.ocsf, type_uid: -300501, category_uid: -2147483648, severity_id: 2147483647 };
  long.event.raw = Buffer.from(JSON.stringify({ text: 'ü'.repeat(5000) }));
  long.attribution = { ...long.attribution, confidence: 0.1, device_confidence: 1 / 3, reasons: ['a', '', 'ç'] };
  const chainOnly = decoded(archive!);
  chainOnly.person = null;
  const nothing = decoded(csv!);
  nothing.nhi_chain = [];
  nothing.device = { device_id: 'd', serial: null, hostname: null, os: null, managed: false, compliant: true, assigned_person_id: null, version_valid_from: 0 };
  nothing.enrichment = { ...nothing.enrichment, waited_ms: 2 ** 40 };
  const bigTimes = decoded(connector!);
  bigTimes.event.time = 2 ** 32 * 1000 - 1;
  return [long, chainOnly, nothing, bigTimes];
}

const events = (): EnrichedAccessEvent[] => [...sampleEvents(), ...variants(), numberedEvent(7)].map(decoded);

/** accessEventRow as the server would store it: Float32 columns hold float32 values. */
function expectedRow(e: EnrichedAccessEvent) {
  const row = accessEventRow(e);
  return { ...row, confidence: Math.fround(row.confidence), device_confidence: Math.fround(row.device_confidence) };
}

describe('writeAccessEventRow', () => {
  it('writes the columns accessEventRow maps, for every column of the table', () => {
    const columnNames = ACCESS_EVENT_COLUMNS.map(([name]) => name).sort();
    expect(columnNames).toEqual(Object.keys(accessEventRow(sampleEvents()[0]!)).sort());
    // A small slab: rows cross slab boundaries and still come out whole.
    const w = new RowBinaryWriter(256);
    for (const e of events()) {
      const [row] = readRowBinary(writeAccessEventRow(w, e), ACCESS_EVENT_COLUMNS);
      expect(row).toEqual(expectedRow(e));
    }
  });

  it('refuses values their column cannot hold, naming the column, and leaves the writer clean', () => {
    const w = new RowBinaryWriter(256);
    const negativeWait = decoded(numberedEvent(1));
    negativeWait.enrichment.waited_ms = -1;
    const farFuture = decoded(numberedEvent(2));
    farFuture.event.time = 2 ** 32 * 1000 + 5;
    const wideClass = decoded(numberedEvent(3));
    wideClass.event.ocsf.class_uid = 2 ** 31;
    expect(() => writeAccessEventRow(w, negativeWait)).toThrow(/enrichment_waited_ms -1 does not fit the column's type UInt64/);
    expect(() => writeAccessEventRow(w, farFuture)).toThrow(/outside the DateTime range/);
    expect(() => writeAccessEventRow(w, wideClass)).toThrow(expect.objectContaining({ code: 'TETHER_SINK_ROW_REJECTED', message: expect.stringContaining('class_uid') }));
    const good = decoded(numberedEvent(4));
    const rows = [writeAccessEventRow(w, good), writeAccessEventRow(w, good)];
    expect(readRowBinary(Buffer.concat(coalesce(rows)), ACCESS_EVENT_COLUMNS)).toEqual([expectedRow(good), expectedRow(good)]);
  });
});

describe('transcodeAccessEvent', () => {
  it('reads the schema in force (a schema change must update the transcoder)', () => {
    expect(avro.fingerprint('sha256').toString('hex')).toBe(TRANSCODER_SCHEMA_FINGERPRINT);
  });

  it('writes from the Avro bytes exactly what writeAccessEventRow writes from the record', () => {
    const a = new RowBinaryWriter(512);
    const b = new RowBinaryWriter(512);
    for (const e of events()) {
      const fromBytes = transcodeAccessEvent(a, avro.toBuffer(e));
      expect(fromBytes).not.toBeNull();
      expect(Buffer.from(fromBytes!)).toEqual(Buffer.from(writeAccessEventRow(b, e)));
    }
  });

  it('writes the non-UTF-8 payload as base64, like encodeRaw', () => {
    const csv = decoded(sampleEvents()[3]!);
    const [row] = readRowBinary(transcodeAccessEvent(new RowBinaryWriter(), avro.toBuffer(csv))!, ACCESS_EVENT_COLUMNS);
    expect(row).toMatchObject({ raw_encoding: 'base64', raw: csv.event.raw.toString('base64'), person_key: 'cursor:api_key:key_9Jf2' });
  });

  it('hands back what it cannot write faithfully (the general path gives the row error), writing nothing', () => {
    const w = new RowBinaryWriter(1024);
    const negativeWait = decoded(numberedEvent(1));
    negativeWait.enrichment.waited_ms = -1;
    const farFuture = decoded(numberedEvent(2));
    farFuture.event.time = 2 ** 32 * 1000 + 5;
    const body = avro.toBuffer(decoded(numberedEvent(3)));
    for (const bytes of [avro.toBuffer(negativeWait), avro.toBuffer(farFuture), body.subarray(0, body.length - 3), Buffer.concat([body, Buffer.from([0])]), Buffer.from('{"not":"avro"}')]) {
      expect(transcodeAccessEvent(w, bytes)).toBeNull();
    }
    const good = decoded(numberedEvent(4));
    expect(readRowBinary(transcodeAccessEvent(w, avro.toBuffer(good))!, ACCESS_EVENT_COLUMNS)).toEqual([expectedRow(good)]);
  });
});

describe('coalesce', () => {
  it('merges views that follow each other in one slab and keeps the others apart', () => {
    const w = new RowBinaryWriter(64);
    const rows = Array.from({ length: 6 }, (_, i) => {
      w.string(`row ${i} ${'x'.repeat(20)}`);
      return w.endRow();
    });
    const chunks = coalesce([rows[0]!, rows[1]!, rows[2]!, rows[4]!, rows[5]!]);
    expect(Buffer.concat(chunks)).toEqual(Buffer.concat([rows[0]!, rows[1]!, rows[2]!, rows[4]!, rows[5]!]));
    expect(chunks.length).toBeLessThan(5);
  });
});
