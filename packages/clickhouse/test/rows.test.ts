import { describe, expect, it } from 'vitest';
import {
  accessEventFromRow, accessEventRow, connectorVersionRow, dateTimeSeconds, deadLetterId, deadLetterRow, decodeRaw, encodeRaw, personKey,
} from '#clickhouse';
import type { EnrichedAccessEvent } from '#schemas';
import { connectorVersion, deadLetter, enrichedAccessEvent } from '../../schemas/test/samples.ts';

/** What ClickHouse's JSON output does to a written row: 64-bit integers quoted, DateTime as text. */
function asReadBack(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    out[key] = key.endsWith('_ms') && typeof value === 'number' ? String(value) : key === 'type_uid' ? String(value) : value;
  }
  return out;
}

function float32s(e: EnrichedAccessEvent): EnrichedAccessEvent {
  const copy = structuredClone(e);
  copy.event.raw = Buffer.from(e.event.raw);
  copy.attribution.confidence = Math.fround(copy.attribution.confidence);
  copy.attribution.device_confidence = Math.fround(copy.attribution.device_confidence);
  return copy;
}

describe('access event rows', () => {
  it('map an enriched event to a row and back without losing a field', () => {
    const row = accessEventRow(enrichedAccessEvent);
    expect(accessEventFromRow(asReadBack(row))).toEqual(float32s(enrichedAccessEvent));
  });

  it('keep nulls apart from absent records: no person, no device, no connector, no targets', () => {
    const bare: EnrichedAccessEvent = {
      ...enrichedAccessEvent,
      event: { ...enrichedAccessEvent.event, connector: null, targets: [] },
      person: null,
      device: null,
      nhi_chain: [],
    };
    const row = accessEventRow(bare);
    expect(row).toMatchObject({ person_id: null, person_lifecycle_state: null, device_id: null, device_managed: null, connector_client_id: null, connector_scopes: [], person_key: '' });
    expect(accessEventFromRow(asReadBack(row))).toEqual(float32s(bare));
  });

  it('flattens targets and the owner chain into parallel arrays, nullable names kept', () => {
    const e: EnrichedAccessEvent = {
      ...enrichedAccessEvent,
      event: { ...enrichedAccessEvent.event, targets: [{ type: 'api_key', id: 'key_1', name: null }, { type: 'project', id: 'proj_1', name: 'Billing' }] },
      person: null,
      nhi_chain: [{ kind: 'api_key', id: 'openai:api_key:key_1', name: null, status: 'active' }, { kind: 'project', id: 'openai:project:proj_1', name: 'Billing', status: null }],
    };
    expect(accessEventRow(e)).toMatchObject({
      target_types: ['api_key', 'project'], target_ids: ['key_1', 'proj_1'], target_names: [null, 'Billing'],
      chain_kinds: ['api_key', 'project'], chain_names: [null, 'Billing'], chain_statuses: ['active', null],
      person_key: 'openai:api_key:key_1',
    });
    expect(personKey(e)).toBe('openai:api_key:key_1');
  });

  it('keeps raw bytes exact: UTF-8 as text, anything else as base64', () => {
    const text = Buffer.from('{"name":"Dana Núñez 🚀"}');
    expect(encodeRaw(text)).toEqual({ raw: '{"name":"Dana Núñez 🚀"}', raw_encoding: 'utf8' });
    const latin1 = Buffer.from([0x43, 0x61, 0x66, 0xe9]);
    const encoded = encodeRaw(latin1);
    expect(encoded.raw_encoding).toBe('base64');
    expect(decodeRaw(encoded.raw, encoded.raw_encoding)).toEqual(latin1);
  });

  it('refuses times DateTime cannot hold instead of letting them wrap', () => {
    expect(dateTimeSeconds(1_767_312_000_999, 'event time')).toBe(1_767_312_000);
    expect(() => dateTimeSeconds(-1, 'event time')).toThrow(/event time -1 ms is outside the DateTime range/);
    expect(() => dateTimeSeconds(2 ** 32 * 1000, 'event time')).toThrow(/outside the DateTime range/);
    const late = { ...enrichedAccessEvent, event: { ...enrichedAccessEvent.event, time: 2 ** 32 * 1000 } };
    expect(() => accessEventRow(late)).toThrow(expect.objectContaining({ code: 'TETHER_SINK_ROW_REJECTED' }));
  });
});

describe('identity and dead-letter rows', () => {
  it('write booleans as UInt8, keeping unknown as null', () => {
    expect(connectorVersionRow({ ...connectorVersion, active: false, sanctioned: null })).toMatchObject({ active: 0, sanctioned: null });
    expect(connectorVersionRow({ ...connectorVersion, sanctioned: true })).toMatchObject({ sanctioned: 1 });
  });

  it('give the same failure the same id whenever it was dead-lettered', () => {
    const again = { ...deadLetter, time: deadLetter.time + 60_000 };
    expect(deadLetterId(again)).toBe(deadLetterId(deadLetter));
    expect(deadLetterId({ ...deadLetter, original: Buffer.from('other') })).not.toBe(deadLetterId(deadLetter));
    const row = deadLetterRow(deadLetter, { topic: 'tether.dlq', partition: 2, offset: 41n });
    expect(row).toMatchObject({ dlq_topic: 'tether.dlq', dlq_partition: 2, dlq_offset: 41, original_size: deadLetter.original.length });
    expect(Buffer.from(row.original_base64, 'base64')).toEqual(deadLetter.original);
  });
});
