import { describe, expect, it } from 'vitest';
import { ACCESS_EVENT_COLUMNS, RowBinaryWriter, TABLES } from '#clickhouse';
import { readRowBinary } from '../../../packages/clickhouse/test/row-binary-reader.ts';
import { buildRow as buildWith, undecodableDeadLetter, type SinkRole } from '../src/request-builder.ts';
import { connectorVersion, deadLetter, deviceVersion, humanKeyCreated, nhiVersion, personVersion } from './fixtures.ts';

const at = { topic: 't.tether.access.enriched', partition: 1, offset: 42n };
const writer = new RowBinaryWriter();
const buildRow = <R extends SinkRole>(role: R, record: Parameters<typeof buildWith<R>>[1], where: typeof at) => buildWith(role, record, where, writer);
/** The access_events row as its columns, read back from the RowBinary bytes. */
const eventRow = (built: ReturnType<typeof buildRow>) => readRowBinary(built.bytes!, ACCESS_EVENT_COLUMNS)[0]!;

describe('buildRow', () => {
  it('sends each role to its table', () => {
    expect(buildRow('accessEnriched', humanKeyCreated(), at).table).toBe(TABLES.accessEvents);
    expect(buildRow('identityUsers', personVersion(), at).table).toBe(TABLES.personsHistory);
    expect(buildRow('identityDevices', deviceVersion(), at).table).toBe(TABLES.devicesHistory);
    expect(buildRow('identityNhi', nhiVersion(), at).table).toBe(TABLES.nhiHistory);
    expect(buildRow('identityConnectors', connectorVersion(), at).table).toBe(TABLES.connectorsHistory);
    expect(buildRow('dlq', deadLetter(), at).table).toBe(TABLES.deadLetters);
  });

  it('redacts secret-shaped tokens in raw payloads and unmapped fields, and counts them', () => {
    const event = humanKeyCreated();
    event.event.raw = Buffer.from('{"auth":"Bearer abcdefghijklmnopqrstuvwxyz","k":"sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q"}');
    event.event.unmapped = '{"k":"sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q"}';
    const built = buildRow('accessEnriched', event, at);
    expect(eventRow(built)).toMatchObject({ raw: '{"auth":"Bearer [redacted]","k":"[redacted]"}', unmapped: '{"k":"[redacted]"}' });
    expect(built.redactions).toBe(3);
  });

  it('redacts secrets in every text column of an event, not only the payloads', () => {
    const event = humanKeyCreated();
    event.event.targets = [{ ...event.event.targets[0]!, name: 'deploy sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q' }];
    event.event.src = { ...event.event.src, user_agent: 'curl/8.5 (Authorization: Bearer abcdefghijklmnopqrstuvwxyz)' };
    const built = buildRow('accessEnriched', event, at);
    const row = eventRow(built) as { target_names: string[]; src_user_agent: string; event_id: string };
    expect(row.target_names).toEqual(['deploy [redacted]']);
    expect(row.src_user_agent).toBe('curl/8.5 (Authorization: Bearer [redacted])');
    expect(row.event_id).toBe(event.event.event_id);
    expect(built.bytes!.toString('latin1')).not.toMatch(/sk-proj-Zq8|abcdefghijklmnopqrstuvwxyz/);
  });

  it('redacts non-UTF-8 raw payloads (stored as base64) byte for byte around the secret', () => {
    const event = humanKeyCreated();
    event.event.raw = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(' sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q '), Buffer.from([0x80])]);
    const built = buildRow('accessEnriched', event, at);
    const row = eventRow(built) as { raw: string; raw_encoding: string };
    expect(row.raw_encoding).not.toBe('utf8');
    expect(Buffer.from(row.raw, 'base64')).toEqual(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(' [redacted] '), Buffer.from([0x80])]));
    expect(built.redactions).toBe(1);
  });

  it('redacts secrets a hostile source put in identity fields', () => {
    const person = personVersion();
    person.display_name = 'Ana sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q';
    person.aliases = [{ kind: 'alias', value: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }];
    const built = buildRow('identityUsers', person, at);
    expect(JSON.stringify(built.row)).not.toMatch(/sk-proj-Zq8|ghp_abc/);
    expect(JSON.stringify(built.row)).toContain('Ana [redacted]');
    expect(built.redactions).toBe(2);
  });

  it('redacts dead letters in the message and inside binary originals, byte for byte elsewhere', () => {
    const letter = deadLetter();
    letter.message = 'key sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q refused';
    letter.original = Buffer.concat([Buffer.from([0, 0, 0, 0, 7, 0xff]), Buffer.from('sk-proj-Zq8bX2LmN4pR7tV9wY1aC3eG5iK7mO9q'), Buffer.from([0x80])]);
    const built = buildRow('dlq', letter, { topic: 't.tether.dlq', partition: 0, offset: 3n });
    const row = built.row as { message: string; original_base64: string; dlq_offset: number };
    expect(row.message).toBe('key [redacted] refused');
    expect(Buffer.from(row.original_base64, 'base64')).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 0, 7, 0xff]), Buffer.from('[redacted]'), Buffer.from([0x80])]));
    expect(row.dlq_offset).toBe(3);
  });

  it('refuses an event time DateTime cannot hold, as a row rejection', () => {
    const event = humanKeyCreated();
    event.event.time = -1;
    expect(() => buildRow('accessEnriched', event, at)).toThrow(expect.objectContaining({ code: 'TETHER_SINK_ROW_REJECTED' }));
  });

  it('stores an undecodable dead letter as it is, pointing at where it was read', () => {
    const letter = undecodableDeadLetter({ service: 'sink-clickhouse', message: 'not in the Confluent wire format', original: Buffer.from('x'), at, now: 1_767_312_000_000 });
    expect(letter).toMatchObject({ stage: 'parsing', reason_code: 'TETHER_DECODE', original_topic: at.topic, original_partition: 1, original_offset: 42 });
  });
});
