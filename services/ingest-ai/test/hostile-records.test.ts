// Hostile variants of every platform's real-shaped records, fed to the pure
// normalisers and inventory mappers. Whatever comes in, each either gives
// records the real codec encodes (and decodes back unchanged, raw byte for
// byte) or a typed error; nothing throws, nothing pollutes a prototype.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { MAX_RECORD_BYTES, type AccessEvent, type Codec, type NonHumanIdentityVersion, type PersonVersion } from '#schemas';
import { diffEntity, serialiseElement, type EntityResult, type OutRecord } from '#source';
import type { NormaliseResult } from '../src/normalise/common.ts';
import { FUTURE_TOLERANCE_MS, MAX_TIME_MS, MIN_TIME_MS } from '../src/normalise/time.ts';
import { UNMAPPED_MAX_DEPTH } from '../src/normalise/unmapped.ts';
import { DERIVED_RAW_MAX_BYTES, anthropicApiKey, anthropicInvite, anthropicUser, apiKeyRecords, type InviteContent } from '../src/platforms/anthropic/inventory.ts';
import { cursorMember } from '../src/platforms/cursor/source.ts';
import { openAiProjectItem, openAiUser } from '../src/platforms/openai/inventory.ts';
import { nhiVersion, type NhiContent, type PersonContent } from '../src/identity.ts';
import { offlineCodec } from '#testkit';
import { INGESTED_AT, ctx } from './fixtures.ts';
import {
  EVENT_FEEDS, INVENTORIES, OBSERVED, changesOf, hostileValues, named, pathsOf, poisoned, polluted, withValue, type EventFeedCase, type Json,
} from './hostile.ts';

let codec: Codec;
beforeAll(async () => {
  codec = await offlineCodec();
});
afterAll(() => {
  expect(polluted()).toBe(false);
});

const feed = (name: string) => EVENT_FEEDS.find((f) => f.name.startsWith(name))!;
const openai = () => feed('OpenAI');
const anthropic = () => feed('Anthropic');
const cursor = () => feed('Cursor audit');
const usage = () => feed('Cursor usage');

/** Normalises as the service does: raw is the element's JSON; a throw fails the test. */
function run(f: EventFeedCase, record: unknown, raw: Buffer = serialiseElement(record)): NormaliseResult {
  let result: NormaliseResult | undefined;
  expect(() => {
    result = f.normalise(record, ctx(f.platform, f.feed, raw, f.platform === 'cursor' ? '424242' : null));
  }).not.toThrow();
  return result!;
}

function ok(f: EventFeedCase, record: unknown, raw?: Buffer): AccessEvent {
  const result = run(f, record, raw);
  if (!result.ok) throw result.error;
  return result.event;
}

function refused(f: EventFeedCase, record: unknown): TetherError {
  const result = run(f, record);
  expect(result.ok, String(JSON.stringify(record)).slice(0, 300)).toBe(false);
  if (result.ok) throw new Error('unreachable');
  expect(TetherError.is(result.error)).toBe(true);
  expect(result.error.code).toBe('TETHER_NORMALISE_INVALID');
  return result.error;
}

/** Encodes with the real AccessEvent schema and decodes back: the same event, under the Kafka record limit. */
async function roundTrip(event: AccessEvent): Promise<AccessEvent> {
  const bytes = codec.encode('accessRaw', event);
  expect(bytes.length).toBeLessThanOrEqual(MAX_RECORD_BYTES);
  const back = await codec.decode('accessRaw', bytes);
  expect(back).toEqual(event);
  expect(() => JSON.parse(back.unmapped) as unknown).not.toThrow();
  return back;
}

async function encodeAll(records: readonly OutRecord[]): Promise<void> {
  for (const record of records) {
    const bytes = codec.encode(record.role, record.value as never);
    expect(await codec.decode(record.role, bytes)).toEqual(record.value);
  }
}

const unmappedOf = (event: AccessEvent) => JSON.parse(event.unmapped) as Json;

describe('wrong types in every field of every real-shaped record', () => {
  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: an event the codec takes, or a typed error only when an id, the type, the time or the actor is unusable', async (_, f) => {
    let events = 0;
    let errors = 0;
    for (const record of f.records) {
      for (const path of pathsOf(record)) {
        for (const value of hostileValues()) {
          const mutated = withValue(record, path, value);
          const raw = serialiseElement(mutated);
          const result = run(f, mutated, raw);
          const expected = path[0] !== f.timeField && f.accepts(mutated);
          expect(result.ok, `${path.join('.')} = ${JSON.stringify(value)}`).toBe(expected);
          if (result.ok) {
            events++;
            const back = await roundTrip(result.event);
            expect(back.raw.equals(raw)).toBe(true);
            expect(back.time).toBeGreaterThanOrEqual(MIN_TIME_MS);
          } else {
            errors++;
            expect(TetherError.is(result.error)).toBe(true);
            expect(result.error.code).toBe('TETHER_NORMALISE_INVALID');
          }
        }
      }
    }
    expect(events).toBeGreaterThan(errors);
  });

  it.each(INVENTORIES.map((c) => [c.name, c] as const))('%s: entities whose every version and event the codec takes, or a typed error only when the id is unusable', async (_, c) => {
    for (const item of c.items) {
      for (const path of pathsOf(item)) {
        for (const value of hostileValues()) {
          const mutated = withValue(item, path, value);
          let result: EntityResult<unknown> | undefined;
          expect(() => (result = c.process(mutated))).not.toThrow();
          const id = (mutated as Json)[c.idField];
          const usable = named(id) || (typeof id === 'number' && Number.isFinite(id));
          expect(result!.ok, `${path.join('.')} = ${JSON.stringify(value)}`).toBe(usable);
          if (!result!.ok) {
            expect(TetherError.is(result!.error) && result!.error.code).toBe('TETHER_NORMALISE_INVALID');
            continue;
          }
          for (const entity of result!.entities) {
            for (const change of changesOf(entity, serialiseElement(mutated))) {
              let records: readonly OutRecord[] = [];
              expect(() => (records = c.emit(change))).not.toThrow();
              await encodeAll(records);
            }
          }
        }
      }
    }
  });

  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: hostile keys (lone surrogates, blank, bare _id) in the record and its objects still give an event the codec takes', async (_, f) => {
    const keys = ['\ud800', '\udc00_id', '', ' ', '_id', '\u0000', 'x\u202e_id'];
    for (const record of f.records) {
      const hostile = JSON.parse(JSON.stringify(record)) as Json;
      for (const node of [hostile, ...Object.values(hostile).filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v))]) {
        for (const key of keys) node[key] = `value of ${key}`;
      }
      const raw = serialiseElement(hostile);
      const back = await roundTrip(ok(f, hostile, raw));
      expect(back.raw.equals(raw)).toBe(true);
    }
  });

  it('a blank id, type or email names nothing: no event for a blank id, no email alias for a blank address', () => {
    const record = openai().records[0]!;
    for (const blank of ['', '   ', '\t\n']) {
      expect(refused(openai(), { ...record, id: blank }).message).toMatch(/"id" is missing or not a non-blank string/);
      expect(refused(cursor(), { ...cursor().records[0]!, event_type: blank }).message).toMatch(/"event_type"/);
      const user = openAiUser({ id: 'user-blank', email: blank, name: blank });
      expect(user.ok && (user.entities[0]!.content as PersonContent)).toMatchObject({ email: null, display_name: null, aliases: [{ kind: 'platform_user_id', value: 'openai:user-blank' }] });
      expect(cursorMember({ id: blank, email: 'x@example.com' })).toMatchObject({ ok: false, error: { code: 'TETHER_NORMALISE_INVALID' } });
    }
  });

  it('flags written as text or numbers are read as flags: a removed member is not active, a service-account user is not a person', () => {
    for (const removed of [true, 'true', 1]) {
      const m = cursorMember({ id: 'user_x', email: 'x@example.com', isRemoved: removed });
      expect(m.ok && (m.entities[0]!.content as PersonContent).active).toBe(false);
    }
    for (const kept of [false, 'false', 0, null, 'maybe', {}]) {
      const m = cursorMember({ id: 'user_x', email: 'x@example.com', isRemoved: kept });
      expect(m.ok && (m.entities[0]!.content as PersonContent).active).toBe(true);
    }
    expect(openAiUser({ id: 'user-svc', is_service_account: 'true' })).toEqual({ ok: true, entities: [] });
  });
});

describe('keys named __proto__, constructor and prototype', () => {
  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: planted in every object of every record, they change nothing mapped and pollute nothing', async (_, f) => {
    for (const record of f.records) {
      const clean = ok(f, record);
      const hostile = poisoned(record);
      const raw = serialiseElement(hostile);
      expect(raw.toString()).toContain('"__proto__":{"polluted":"yes"');
      const event = ok(f, hostile, raw);
      const { raw: _r, unmapped: _u, ...mapped } = event;
      const { raw: _cr, unmapped: _cu, ...cleanMapped } = clean;
      expect(mapped).toEqual(cleanMapped);
      // The planted keys are data in unmapped, not prototypes.
      const unmapped = unmappedOf(event);
      expect(Object.hasOwn(unmapped, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(unmapped)).toBe(Object.prototype);
      await roundTrip(event);
      expect(polluted()).toBe(false);
    }
  });

  it.each(INVENTORIES.map((c) => [c.name, c] as const))('%s: planted in every object, the same entities come out', async (_, c) => {
    for (const item of c.items) {
      const clean = c.process(item);
      const hostile = c.process(poisoned(item));
      expect(hostile).toEqual(clean);
      if (hostile.ok) for (const e of hostile.entities) for (const change of changesOf(e, serialiseElement(poisoned(item)))) await encodeAll(c.emit(change));
      expect(polluted()).toBe(false);
    }
  });

  const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'];

  it('as event types, they are unknown types: action = the source type, fields in unmapped (never Object.prototype members)', async () => {
    for (const type of PROTO_NAMES) {
      const cases: [EventFeedCase, Json][] = [
        [openai(), { ...openai().records[0]!, type, [type]: { id: 'obj_1' } }],
        [anthropic(), { ...anthropic().records[0]!, type, thing_id: 'thing_1' }],
        [cursor(), { ...cursor().records[0]!, event_type: type, event_data: { action: 'create' } }],
      ];
      for (const [f, record] of cases) {
        const event = ok(f, JSON.parse(JSON.stringify(record)));
        expect(event).toMatchObject({ action: type, source_type: type, ocsf: { class_uid: 6003, activity_id: 99, type_uid: 600399 } });
        await roundTrip(event);
      }
    }
  });

  it('as a sub-action or a status, they name the verb as written', async () => {
    for (const word of PROTO_NAMES) {
      const event = ok(cursor(), { ...cursor().records[0]!, event_type: 'team_api_key', event_data: { action: word, api_key_name: 'k' } });
      expect(event.action).toBe(`team_api_key.${word.toLowerCase().replace(/\W+/g, '_')}`);
      expect(event.ocsf.activity_id).toBe(99);
      await roundTrip(event);
      const key = anthropicApiKey({ id: 'apikey_p', status: word, created_at: '2026-02-20T10:00:00Z' }, { emailOf: () => null });
      if (!key.ok) throw key.error;
      const [change] = changesOf(key.entities[0]!, Buffer.from('{}')).slice(1);
      const records = apiKeyRecords(change as never);
      const derived = records.filter((r) => r.role === 'accessRaw').map((r) => r.value as AccessEvent);
      expect(derived.map((e) => e.action)).toEqual([`api_key.${word}`]);
      await encodeAll(records);
    }
  });
});

describe('timestamps: each platform field takes its documented format only', () => {
  const YEAR_9999_S = 253402300799;
  type Row = [unknown, number | RegExp];
  const check = async (f: EventFeedCase, rows: Row[]) => {
    for (const [value, expected] of rows) {
      const record = { ...f.records[0]!, [f.timeField]: value };
      if (expected instanceof RegExp) {
        expect(refused(f, record).message, JSON.stringify(value)).toMatch(expected);
        continue;
      }
      const event = ok(f, record);
      expect(event.time, JSON.stringify(value)).toBe(expected);
      expect(event.time_raw).toBe(typeof value === 'string' ? value : String(value));
      const flags = (unmappedOf(event).tether_flags as string[] | undefined) ?? [];
      expect(flags.includes('time_after_ingest')).toBe(expected > INGESTED_AT + FUTURE_TOLERANCE_MS);
      await roundTrip(event);
    }
  };

  it('OpenAI effective_at: Unix seconds (fractions to the nearest ms); ms, text, negative, unset and beyond year 9999 refused', async () => {
    await check(openai(), [
      [1767312000, 1767312000000],
      [1767312000.5, 1767312000500],
      [1767312000.123, 1767312000123],
      [YEAR_9999_S, YEAR_9999_S * 1000],
      [4102444800, Date.parse('2100-01-01T00:00:00Z')],
      [1767312000123, /after year 9999/],
      [1.5e300, /after year 9999/],
      ['1767312000', /not a number.*Unix seconds/],
      ['2026-01-02T00:00:00Z', /not a number/],
      [-1, /before 1973-03-03/],
      [0, /before 1973/],
      [null, /not a number/],
      [[1767312000], /not a number/],
      [{ seconds: 1767312000 }, /not a number/],
    ]);
    expect(refused(openai(), { ...openai().records[0]!, effective_at: undefined }).message).toMatch(/time undefined is not a number/);
  });

  it('Anthropic created_at: RFC 3339 with a zone; Date.parse leniency refused', async () => {
    await check(anthropic(), [
      ['2026-03-02T09:15:42Z', Date.parse('2026-03-02T09:15:42Z')],
      ['2026-03-02T09:15:42.123456789Z', Date.parse('2026-03-02T09:15:42.123Z')],
      ['2026-03-02T10:15:42+01:00', Date.parse('2026-03-02T09:15:42Z')],
      ['2026-03-02T04:45:42.5-04:30', Date.parse('2026-03-02T09:15:42.500Z')],
      ['2026-03-02t09:15:42z', Date.parse('2026-03-02T09:15:42Z')],
      ['2026-03-02 09:15:42Z', Date.parse('2026-03-02T09:15:42Z')],
      ['2016-12-31T23:59:60Z', Date.parse('2016-12-31T23:59:59.999Z')],
      ['2024-02-29T00:00:00Z', Date.parse('2024-02-29T00:00:00Z')],
      ['9999-12-31T23:59:59.999Z', MAX_TIME_MS],
      ['2026-03-02T09:15:42', /not an RFC 3339 date-time with a zone/],
      ['2026-03-02', /not an RFC 3339/],
      ['2026', /not an RFC 3339/],
      ['1', /not an RFC 3339/],
      ['March 7, 2026', /not an RFC 3339/],
      [' 2026-03-02T09:15:42Z', /not an RFC 3339/],
      ['2026-02-30T00:00:00Z', /not a calendar date/],
      ['2025-02-29T00:00:00Z', /not a calendar date/],
      ['2026-13-01T00:00:00Z', /not a calendar date/],
      ['2026-03-02T24:00:00Z', /not a time of day/],
      ['2026-03-02T09:60:00Z', /not a time of day/],
      ['+275760-09-13T00:00:00Z', /not an RFC 3339/],
      ['-000001-01-01T00:00:00Z', /not an RFC 3339/],
      ['0001-01-01T00:00:00Z', /before 1973/],
      ['1970-01-01T00:00:00Z', /before 1973/],
      ['NaN', /not an RFC 3339/],
      ['', /not an RFC 3339/],
      [1772442942, /not a string/],
      [1772442942000, /not a string/],
    ]);
  });

  it('Cursor audit timestamp: ISO 8601 as the API writes it (RFC 3339); epoch numbers refused', async () => {
    await check(cursor(), [
      ['2026-02-10T14:03:11.000Z', Date.parse('2026-02-10T14:03:11.000Z')],
      ['2026-02-10T14:03:11.000+0000', Date.parse('2026-02-10T14:03:11.000Z')],
      ['2026-02-10T14:03:11,250Z', Date.parse('2026-02-10T14:03:11.250Z')],
      ['2026-02-10T14:03:11.000', /with a zone/],
      [1770732191000, /not a string/],
      ['1770732191000', /not an RFC 3339/],
    ]);
  });

  it('Cursor usage timestamp: epoch ms as digits (or a number); seconds, ISO and signs refused', async () => {
    await check(usage(), [
      ['1770732000123', 1770732000123],
      [1770732000123, 1770732000123],
      ['1770732000123.7', 1770732000123],
      [1770732000123.7, 1770732000123],
      ['253402300799999', MAX_TIME_MS],
      ['1770732000', /before 1973.*wrong unit/],
      [1770732000, /before 1973/],
      ['-1770732000123', /not epoch milliseconds/],
      ['1.770732e12', /not epoch milliseconds/],
      ['2026-02-10T14:03:11.000Z', /not epoch milliseconds/],
      ['99999999999999999', /not epoch milliseconds/],
      ['253402300800000', /after year 9999/],
      [null, /not epoch milliseconds/],
    ]);
  });

  it('inventory times that are not in the documented format become null (the text stays in source_time); a future creation is not a valid_from', () => {
    const user = openAiUser({ id: 'user-t', email: 'x@example.com', added_at: 1738368000000, created: 1738368000 });
    expect(user.ok && user.entities[0]).toMatchObject({ createdAt: 1738368000000, content: { source_time: '1738368000000' } });
    const key = openAiProjectItem({ kind: 'api_key', projectId: 'p', item: { id: 'key_t', created_at: '2026-01-02', last_used_at: -5 } });
    expect(key.ok && key.entities[0]!.content).toMatchObject({ created_at: null, last_used_at: null, source_time: '2026-01-02' });
    const lenient = anthropicUser({ id: 'user_t', email: 'x@example.com', added_at: 'March 7, 2026' });
    expect(lenient.ok && lenient.entities[0]).toMatchObject({ createdAt: null, content: { source_time: 'March 7, 2026' } });
    const invite = anthropicInvite({ id: 'inv_t', invited_at: { at: 'now' } });
    expect(invite.ok && (invite.entities[0]!.content as InviteContent).invited_at).toBeNull();
    const future = anthropicApiKey({ id: 'apikey_future', status: 'active', created_at: '9999-12-31T00:00:00Z' }, { emailOf: () => null });
    if (!future.ok) throw future.error;
    expect(future.entities[0]!.createdAt).toBe(Date.parse('9999-12-31T00:00:00Z'));
    expect(diffEntity(future.entities[0]!, undefined, OBSERVED, false)!.change.validFrom).toBe(OBSERVED);
  });
});

describe('very large and very deep records', () => {
  const big = 'x'.repeat(5 * 1024 * 1024);

  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: a 5 MB string in an unmapped field: no room is left for unmapped, and the codec refuses the record as too large', (_, f) => {
    const record = { ...f.records[0]!, notes: big };
    const event = ok(f, record);
    expect(event.raw.length).toBeGreaterThan(5 * 1024 * 1024);
    expect(unmappedOf(event)).toEqual({ tether_omitted: expect.stringMatching(/^\d+ fields$/), tether_flags: expect.arrayContaining(['unmapped_truncated']) });
    expect(() => codec.encode('accessRaw', event)).toThrow(expect.objectContaining({ code: 'TETHER_RECORD_TOO_LARGE' }));
  });

  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: a 400 kB string in an unmapped field: raw keeps it, unmapped a marker for it, and the record fits', async (_, f) => {
    const notes = 'y'.repeat(400 * 1024);
    const event = ok(f, { ...f.records[0]!, notes });
    expect(unmappedOf(event)).toMatchObject({ notes: { tether_omitted: `${notes.length + 2} bytes` }, tether_flags: ['unmapped_truncated'] });
    expect(JSON.parse((await roundTrip(event)).raw.toString()).notes).toBe(notes);
  });

  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: nesting 10,000 levels deep keeps its exact bytes in raw and a marker in unmapped', async (_, f) => {
    const depth = 10_000;
    const text = JSON.stringify(f.records[0]).replace(/}$/, `,"nested":${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}}`);
    const record = JSON.parse(text) as Json;
    const raw = serialiseElement(record);
    expect(raw.toString()).toBe(text);
    const event = ok(f, record, raw);
    expect(event.unmapped).toContain(`{"tether_omitted":"nested deeper than ${UNMAPPED_MAX_DEPTH} levels"}`);
    expect(event.unmapped.split('{"a":').length - 1).toBe(UNMAPPED_MAX_DEPTH);
    const back = await roundTrip(event);
    expect(back.raw.toString()).toBe(text);
  });

  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: a 100,000-element array in an unmapped field: raw whole, unmapped without it, under the record limit', async (_, f) => {
    const list = Array.from({ length: 100_000 }, (_, i) => i);
    const event = ok(f, { ...f.records[0]!, list });
    expect(JSON.parse(event.raw.toString()).list).toHaveLength(100_000);
    expect(unmappedOf(event).list).toEqual({ tether_omitted: expect.stringMatching(/^\d+ bytes$/) });
    await roundTrip(event);
  });

  it('40,000 unmapped fields: one marker for all of them, and the record fits', async () => {
    const fields = Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`f${i}`, i]));
    const event = ok(openai(), { ...openai().records[0]!, ...fields });
    expect(unmappedOf(event)).toEqual({ tether_omitted: expect.stringMatching(/^400\d\d fields$/), tether_flags: ['unmapped_truncated'] });
    expect(Object.keys(JSON.parse((await roundTrip(event)).raw.toString()))).toHaveLength(40_000 + Object.keys(openai().records[0]!).length);
  });

  it('100,000 targets (a certificate list) normalise without trouble; the event is refused by the codec as too large', () => {
    const certificates = Array.from({ length: 100_000 }, (_, i) => ({ id: `cert_${i}`, name: `c${i}` }));
    const event = ok(openai(), { id: 'audit_log-certs', type: 'certificates.activated', effective_at: 1767312000, 'certificates.activated': { certificates } });
    expect(event.targets).toHaveLength(100_000);
    expect(() => codec.encode('accessRaw', event)).toThrow(expect.objectContaining({ code: 'TETHER_RECORD_TOO_LARGE' }));
  });

  it('an Anthropic key listed with a 5 MB field: its identity version and its event still go out, the event carrying the mapped key as raw, flagged', async () => {
    const item = { id: 'apikey_big', type: 'api_key', name: 'big', status: 'active', created_at: '2026-02-20T10:00:00Z', notes: big };
    const result = anthropicApiKey(item, { emailOf: () => null });
    if (!result.ok) throw result.error;
    const [created] = changesOf(result.entities[0]!, serialiseElement(item));
    const records = apiKeyRecords(created as never);
    await encodeAll(records);
    const event = records.find((r) => r.role === 'accessRaw')!.value as AccessEvent;
    expect(event.raw.length).toBeLessThan(DERIVED_RAW_MAX_BYTES);
    expect(JSON.parse(event.raw.toString())).toMatchObject({ nhi_id: 'anthropic:api_key:apikey_big' });
    expect(unmappedOf(event)).toMatchObject({ listed_bytes: serialiseElement(item).length, tether_flags: ['raw_is_mapped_content'] });
    expect((records.find((r) => r.role === 'identityNhi')!.value as NonHumanIdentityVersion).nhi_id).toBe('anthropic:api_key:apikey_big');
  });
});

describe('control characters, NUL, lone surrogates and RTL overrides in names and emails', () => {
  const nasty = ['nul\u0000byte', 'bell\u0007\u001b[31mred', 'rtl\u202egnp.exe', 'zero\u200bwidth', 'lone\ud800high', 'lone\udc00low', 'bom\ufeff', '😀 emoji', 'new\nline'];

  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: raw keeps them exactly; mapped fields keep them as written (a lone surrogate as U+FFFD, which Avro would make of it)', async (_, f) => {
    for (const s of nasty) {
      const email = `${s}@example.com`;
      const base = f.records[0]!;
      const record =
        f === openai()
          ? withValue(withValue(base, ['actor', 'session', 'user', 'email'], email), ['project', 'name'], s)
          : f === anthropic()
            ? withValue(withValue(base, ['actor', 'email_address'], email), ['actor', 'user_agent'], s)
            : f === cursor()
              ? { ...base, user_email: email, event_data: { action: 'create', api_key_name: s } }
              : { ...base, serviceAccountId: undefined, userEmail: email, model: s };
      const raw = serialiseElement(record);
      const event = ok(f, record, raw);
      const back = await roundTrip(event);
      expect(back.raw.equals(raw)).toBe(true);
      expect(JSON.parse(back.raw.toString())).toEqual(JSON.parse(JSON.stringify(record)));
      expect(back.actor.email).toBe(email.toWellFormed());
    }
  });

  it('inventory names and emails keep them too, in identity versions the codec takes', async () => {
    for (const s of nasty) {
      const user = openAiUser({ id: `user-${s}`, email: `${s}@example.com`, name: s, added_at: 1735689600 });
      if (!user.ok) throw user.error;
      const [created] = changesOf(user.entities[0]!, Buffer.from('{}'));
      const record = INVENTORIES[0]!.emit(created!);
      await encodeAll(record);
      expect((record[0]!.value as PersonVersion).display_name).toBe(s.toWellFormed());
      const key = openAiProjectItem({ kind: 'api_key', projectId: 'p', item: { id: `key_${s}`, name: s, owner: { type: 'user', user: { id: 'u', email: s } } } });
      if (!key.ok) throw key.error;
      await encodeAll([nhiVersion(changesOf(key.entities[0]!, Buffer.from('{}'))[0] as never, 'openai', 'projects')]);
      expect((key.entities[0]!.content as NhiContent).owner_email).toBe(s.toWellFormed());
    }
  });
});

describe('unknown event types', () => {
  it('become events with action = the source type and every field in unmapped', async () => {
    const cases: [EventFeedCase, Json, string][] = [
      [openai(), { id: 'audit_log-new', type: 'agent.sandbox.escaped', effective_at: 1767312000, 'agent.sandbox.escaped': { id: 'sbx_1', depth: 3 }, project: { id: 'proj_1', name: 'p' } }, 'agent.sandbox.escaped'],
      [openai(), { id: 'audit_log-tenant', type: 'tenant.quantum.entangled', effective_at: 1767312000, extra: [1, 2] }, 'tenant.quantum.entangled'],
      [anthropic(), { id: 'activity_new', type: 'claude_time_machine_used', created_at: '2026-03-02T09:00:00Z', actor: { type: 'user_actor', user_id: 'user_1', email_address: 'a@example.com' }, year_id: 'y1985' }, 'claude_time_machine_used'],
      [anthropic(), { id: 'activity_novel_actor', type: 'org_user_deleted', created_at: '2026-03-02T09:00:00Z', actor: { type: 'robot_actor', serial: 'R2' } }, 'user.deleted'],
      [cursor(), { event_id: 'evt_new', timestamp: '2026-02-10T09:00:00.000Z', user_email: 'a@example.com', event_type: 'agent_swarm_spawned', event_data: { count: 1000 } }, 'agent_swarm_spawned'],
    ];
    for (const [f, record, action] of cases) {
      const event = ok(f, record);
      expect(event.action).toBe(action);
      const { id: _i, type: _t, event_id: _e, event_type: _et, effective_at: _ea, created_at: _ca, timestamp: _ts, user_email: _ue, actor: _a, project: _p, ...rest } = record;
      expect(unmappedOf(event)).toMatchObject(rest);
      await roundTrip(event);
    }
    const novel = ok(anthropic(), cases[3]![1]);
    expect(novel.actor.kind).toBe('unknown');
    expect(unmappedOf(novel)).toMatchObject({ actor: { type: 'robot_actor', serial: 'R2' }, 'actor.type': 'robot_actor' });
  });

  it('a source field named like a Tether annotation cannot pose as one', () => {
    const event = ok(openai(), { ...openai().records[0]!, tether_flags: ['forged'], tether_omitted: 'x' });
    const unmapped = unmappedOf(event);
    expect(unmapped.tether_flags).toBeUndefined();
    expect(unmapped).toMatchObject({ 'source.tether_flags': ['forged'], 'source.tether_omitted': 'x' });
  });
});

describe('records that are not objects at all', () => {
  it.each(EVENT_FEEDS.map((f) => [f.name, f] as const))('%s: a typed error', (_, f) => {
    for (const value of [null, undefined, 42, 'text', [], [f.records[0]], true]) {
      expect(refused(f, value).message).toMatch(/not a JSON object/);
    }
  });

  it.each(INVENTORIES.map((c) => [c.name, c] as const))('%s: a typed error', (_, c) => {
    for (const value of [null, undefined, 42, 'text', [], [c.items[0]], true]) {
      expect(c.process(value)).toMatchObject({ ok: false, stage: 'normalising', error: { code: 'TETHER_NORMALISE_INVALID' } });
    }
  });
});
