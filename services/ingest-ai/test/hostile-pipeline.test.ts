// Hostile records end to end, offline: the whole service (readers, normalisers,
// page sink, the real codec over an id-only registry) with a recording
// producer. Files are imported as exported; API pages come from a scripted
// fetch. Each test checks what reaches each topic and the DLQ, and that no
// value sent is over Kafka's record limit.
import type { FakedPlatform } from './fake-platforms.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, topicNames } from '#config';
import { MAX_RECORD_BYTES, deriveEventId, type AccessEvent, type Codec, type DeadLetter, type NonHumanIdentityVersion, type PersonVersion } from '#schemas';
import { createMetrics, MAX_ORIGINAL_BYTES } from '#service';
import { createMemoryCheckpointStore, createScrubber, serialiseElement, stringifyJson } from '#source';
import { captureLogger, offlineCodec, recordingProducer, type RecordingProducer } from '#testkit';
import { buildApp } from '../src/app.ts';
import { ingestAiEnvSchema } from '../src/config.ts';
import { secretForms } from '#source';
import { EVENT_FEEDS, polluted, poisoned, type Json } from './hostile.ts';

const KEY = 'sk-admin-hostile-5e1f7a90c3';
const NOW = Date.parse('2026-03-03T12:00:00Z');
const HOUR = 3_600_000;
const topics = topicNames('');
const KEY_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_ADMIN_KEY', anthropic: 'TETHER_ANTHROPIC_ADMIN_KEY', cursor: 'TETHER_CURSOR_API_KEY' };
const URL_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_BASE_URL', anthropic: 'TETHER_ANTHROPIC_BASE_URL', cursor: 'TETHER_CURSOR_BASE_URL' };

/** Answers each path with its body (query ignored); unknown paths an empty list. */
function scriptedFetch(bodies: Record<string, unknown>, asked: string[]): typeof fetch {
  return (async (input: URL | string) => {
    const url = new URL(String(input));
    asked.push(url.pathname);
    const body = bodies[url.pathname] ?? { data: [], has_more: false, first_id: null, last_id: null, teamMembers: [] };
    // The iterative serialiser: some pages nest deeper than JSON.stringify can walk.
    return new Response(stringifyJson(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

async function harness(platform: FakedPlatform, bodies: Record<string, unknown> = {}) {
  const codec = await offlineCodec();
  const producer = recordingProducer();
  const asked: string[] = [];
  const { log, lines } = captureLogger('ingest-ai');
  const config = loadConfig(ingestAiEnvSchema, {
    [KEY_VARS[platform]]: KEY,
    [URL_VARS[platform]]: platform === 'openai' ? 'http://fake.invalid/v1' : 'http://fake.invalid',
    TETHER_INGEST_PAGE_LIMIT: '100',
    TETHER_CURSOR_REQUESTS_PER_MINUTE: '0',
    TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: '0',
  });
  const app = buildApp(config, {
    log,
    scrubber: createScrubber(secretForms(KEY)),
    producer,
    codec,
    topics,
    checkpoints: createMemoryCheckpointStore([], () => NOW),
    fetch: scriptedFetch(bodies, asked),
    metrics: createMetrics('ingest-ai', { defaultMetrics: false }),
    now: () => NOW,
  });
  return { app, producer, codec, asked, lines };
}

async function decoded(producer: RecordingProducer, codec: Codec) {
  for (const r of producer.sent) expect(r.value!.length).toBeLessThanOrEqual(MAX_RECORD_BYTES);
  const on = (topic: string) => producer.sent.filter((r) => r.topic === topic);
  return {
    events: await Promise.all(on(topics.accessRaw).map((r) => codec.decode('accessRaw', r.value!))),
    dead: await Promise.all(on(topics.dlq).map((r) => codec.decode('dlq', r.value!))),
    people: await Promise.all(on(topics.identityUsers).map((r) => codec.decode('identityUsers', r.value!))),
    nhis: await Promise.all(on(topics.identityNhi).map((r) => codec.decode('identityNhi', r.value!))),
  };
}

const line = (value: unknown) => Buffer.from(JSON.stringify(value));
const deep = (record: Json, levels: number) => Buffer.from(JSON.stringify(record).replace(/}$/, `,"nested":${'['.repeat(levels)}${']'.repeat(levels)}}`));

interface ImportCase {
  platform: FakedPlatform;
  feed: string;
  /** A well-formed record with its source id set to `id` and one field varied by `variant`. */
  make(id: string, variant?: string): Json;
  idOf(record: Json): string;
  /** The record with its required time made unreadable. */
  badTime(record: Json): Json;
}

const FEEDS: ImportCase[] = [
  {
    platform: 'openai',
    feed: 'audit_logs',
    make: (id, variant = 'a') => ({ ...EVENT_FEEDS[0]!.records[0]!, id, note: variant }),
    idOf: (r) => r.id as string,
    badTime: (r) => ({ ...r, effective_at: 1767312000123 }),
  },
  {
    platform: 'anthropic',
    feed: 'compliance_activities',
    make: (id, variant = 'a') => ({ ...EVENT_FEEDS[1]!.records[0]!, id, note: variant }),
    idOf: (r) => r.id as string,
    badTime: (r) => ({ ...r, created_at: 'March 7, 2026' }),
  },
  {
    platform: 'cursor',
    feed: 'audit_logs',
    make: (id, variant = 'a') => ({ ...EVENT_FEEDS[2]!.records[0]!, event_id: id, note: variant }),
    idOf: (r) => r.event_id as string,
    badTime: (r) => ({ ...r, timestamp: 1770732191000 }),
  },
];

describe('an exported file full of hostile records, imported end to end', () => {
  it.each(FEEDS.map((c) => [c.platform, c] as const))('%s: good records out with exact raw bytes; each bad one in the DLQ with its reason; nothing silently lost', async (_, c) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-hostile-'));
    const file = path.join(dir, 'export.jsonl');
    const invalidUtf8 = Buffer.concat([line(c.make('id-bytes')).subarray(0, -1), Buffer.from(',"name":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xfe]), Buffer.from('"}')]);
    const lines: [string, Buffer][] = [
      ['good', line(c.make('id-good'))],
      ['duplicate', line(c.make('id-dup'))],
      ['duplicate again, same bytes', line(c.make('id-dup'))],
      ['conflict first', line(c.make('id-conflict', 'first'))],
      ['conflict second', line(c.make('id-conflict', 'second'))],
      ['5 MB', line({ ...c.make('id-huge'), notes: 'x'.repeat(5 * 1024 * 1024) })],
      ['10,000 levels deep', deep(c.make('id-deep'), 10_000)],
      ['100,000-element array', line({ ...c.make('id-array'), list: Array.from({ length: 100_000 }, (_, i) => i) })],
      ['not UTF-8', invalidUtf8],
      ['lone surrogates and RTL', Buffer.from(JSON.stringify(c.make('id-text')).replace(/}$/, ',"name":"\\ud800\u202e\\u0000"}'))],
      ['poisoned', serialiseElement(poisoned(c.make('id-poison')))],
      ['bad time', line(c.badTime(c.make('id-time')))],
      ['not JSON', Buffer.from('{"id": "cut off')],
      ['unknown type', line({ ...c.make('id-unknown'), [c.platform === 'cursor' ? 'event_type' : 'type']: 'brand_new_kind_of_thing' })],
    ];
    writeFileSync(file, Buffer.concat(lines.flatMap(([, bytes]) => [bytes, Buffer.from('\r\n')])));
    const { app, producer, codec } = await harness(c.platform);

    const summary = await app.importFile(c.platform, c.feed, file, new AbortController().signal);
    const { events, dead } = await decoded(producer, codec);
    expect(summary.feeds[0]).toMatchObject({ sent: events.length, dead: dead.length });
    // Every line is accounted for: an event or a dead letter (the exact duplicate is one more event with the same id).
    expect(events.length + dead.length).toBe(lines.length);

    const bytesOf = (label: string) => lines.find(([l]) => l === label)![1];
    const eventFor = (label: string) => events.find((e) => e.raw.equals(bytesOf(label)));
    for (const label of ['good', 'duplicate', '10,000 levels deep', '100,000-element array', 'lone surrogates and RTL', 'poisoned', 'unknown type', 'conflict first']) {
      expect(eventFor(label), label).toBeDefined();
    }
    const dups = events.filter((e) => e.raw.equals(bytesOf('duplicate')));
    expect(dups).toHaveLength(2);
    expect(dups[0]!.event_id).toBe(dups[1]!.event_id);
    expect(eventFor('unknown type')!.action).toBe('brand_new_kind_of_thing');
    expect(eventFor('10,000 levels deep')!.unmapped).toContain('tether_omitted');
    expect(eventFor('conflict first')!.event_id).toBe(deriveEventId(c.platform, c.feed, 'id-conflict'));

    const letter = (label: string) => dead.find((d) => d.original.equals(bytesOf(label).subarray(0, MAX_ORIGINAL_BYTES)));
    expect(letter('conflict second')).toMatchObject({ stage: 'normalising', reason_code: 'TETHER_DUPLICATE_CONFLICT', message: expect.stringContaining('came twice in one page') } satisfies Partial<DeadLetter>);
    expect(letter('5 MB')).toMatchObject({ stage: 'encoding', reason_code: 'TETHER_RECORD_TOO_LARGE', message: expect.stringMatching(/over the 921600-byte record limit.*truncated/) });
    expect(letter('bad time')).toMatchObject({ stage: 'normalising', reason_code: 'TETHER_NORMALISE_INVALID', message: expect.stringContaining('time') });
    expect(letter('not JSON')).toMatchObject({ stage: 'parsing', reason_code: 'TETHER_SOURCE_PARSE' });
    // Bytes that are not UTF-8 are never decoded with U+FFFD into fields that look real: the line goes to the DLQ as it was.
    expect(eventFor('not UTF-8')).toBeUndefined();
    expect(letter('not UTF-8')).toMatchObject({ stage: 'parsing', reason_code: 'TETHER_SOURCE_ENCODING', message: expect.stringMatching(/^line 9: not valid UTF-8 at byte \d+ \(0xed\)/) });
    expect(polluted()).toBe(false);
  });
});

describe('hostile API pages, polled end to end', () => {
  const goodUser = { object: 'organization.user', id: 'user-good', name: 'Good', email: 'good@example.com', role: 'owner', added_at: 1735689600 };

  it('OpenAI: conflicting listings, deep and huge elements, blank ids; a second snapshot changes nothing', async () => {
    const audit = [
      { ...EVENT_FEEDS[0]!.records[0]!, id: 'audit_log-same', note: 'one' },
      { ...EVENT_FEEDS[0]!.records[0]!, id: 'audit_log-same', note: 'two' },
      JSON.parse(deep({ ...EVENT_FEEDS[0]!.records[0]!, id: 'audit_log-deep' }, 20_000).toString()) as Json,
      { ...EVENT_FEEDS[0]!.records[0]!, id: 'audit_log-future', effective_at: 4102444800 },
    ];
    const { app, producer, codec, asked } = await harness('openai', {
      '/v1/organization/users': {
        object: 'list',
        has_more: false,
        data: [
          goodUser,
          { ...goodUser, role: 'reader' },
          { ...goodUser, id: '   ' },
          { ...goodUser, id: 'user-deep', nested: JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`) },
          { ...goodUser, id: 'user-huge', email: 'huge@example.com', notes: 'x'.repeat(3 * 1024 * 1024) },
          { ...goodUser, id: 'user-ws', email: ' \t ' },
        ],
      },
      '/v1/organization/projects': { object: 'list', has_more: false, data: [{ id: '   ', name: 'blank' }, { id: 42, name: 'numbered', created_at: 'yesterday' }] },
      '/v1/organization/audit_logs': { object: 'list', has_more: false, data: audit, first_id: null, last_id: null },
    });
    const range = { since: NOW - 6 * HOUR, until: null };
    const first = await app.backfill(['openai'], range, new AbortController().signal);
    expect(first.feeds.every((f) => f.error === null)).toBe(true);
    const { events, dead, people, nhis } = await decoded(producer, codec);

    expect(people.map((p: PersonVersion) => [p.person_id, p.platform_role, p.email]).sort()).toEqual([
      ['openai:user-deep', 'owner', 'good@example.com'],
      ['openai:user-good', 'owner', 'good@example.com'],
      ['openai:user-huge', 'owner', 'huge@example.com'],
      ['openai:user-ws', 'owner', null],
    ]);
    expect(nhis.map((n: NonHumanIdentityVersion) => [n.nhi_id, n.created_at, n.source.source_time])).toEqual([['openai:project:42', null, 'yesterday']]);
    // A project whose id is blank is dead-lettered, and nobody asks the API for its children.
    expect(asked.filter((p) => p.startsWith('/v1/organization/projects/'))).toEqual([
      '/v1/organization/projects/42/users', '/v1/organization/projects/42/service_accounts', '/v1/organization/projects/42/api_keys',
    ]);
    expect(dead.map((d) => [d.source, d.reason_code]).sort()).toEqual([
      ['openai/audit_logs', 'TETHER_DUPLICATE_CONFLICT'],
      ['openai/projects', 'TETHER_NORMALISE_INVALID'],
      ['openai/users', 'TETHER_DUPLICATE_CONFLICT'],
      ['openai/users', 'TETHER_NORMALISE_INVALID'],
    ]);
    expect(dead.find((d) => d.source === 'openai/users' && d.reason_code === 'TETHER_DUPLICATE_CONFLICT')!.original.toString()).toBe(JSON.stringify({ ...goodUser, role: 'reader' }));

    const deepEvent = events.find((e: AccessEvent) => e.source.source_event_id === 'audit_log-deep')!;
    expect(deepEvent.raw.toString()).toBe(deep({ ...EVENT_FEEDS[0]!.records[0]!, id: 'audit_log-deep' }, 20_000).toString());
    expect(events.find((e) => e.source.source_event_id === 'audit_log-same')!.unmapped).toContain('"note":"one"');
    expect(JSON.parse(events.find((e) => e.source.source_event_id === 'audit_log-future')!.unmapped).tether_flags).toEqual(['time_after_ingest']);

    // The same hostile listing again: no identity version flips, the conflict is reported again.
    const before = producer.sent.filter((r) => r.topic === topics.identityUsers || r.topic === topics.identityNhi).length;
    await app.backfill(['openai'], range, new AbortController().signal);
    expect(producer.sent.filter((r) => r.topic === topics.identityUsers || r.topic === topics.identityNhi)).toHaveLength(before);
  });

  it('Anthropic: a key with a huge field and a prototype-named status keeps its version and its events', async () => {
    const key = { id: 'apikey_h', type: 'api_key', name: 'h', status: 'active', created_at: '2026-02-20T10:00:00Z', created_by: { id: 'user_1', type: 'user' }, notes: 'x'.repeat(3 * 1024 * 1024) };
    const { app, producer, codec } = await harness('anthropic', {
      '/v1/organizations/api_keys': { data: [key, { ...key, id: 'apikey_p', notes: undefined, status: 'constructor' }], has_more: false },
      '/v1/organizations/workspaces': { data: [{ id: 'wrkspc_deep', name: 'deep', created_at: '2025-07-01T00:00:00Z', nested: JSON.parse(`${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`) }], has_more: false },
      '/v1/organizations/workspaces/wrkspc_deep/members': { data: [{ type: 'workspace_member', user_id: 'user_1', workspace_id: 'wrkspc_deep', workspace_role: '__proto__' }], has_more: false },
    });
    const result = await app.backfill(['anthropic'], { since: NOW - HOUR, until: null }, new AbortController().signal);
    expect(result.feeds.every((f) => f.error === null)).toBe(true);
    const { events, dead, nhis } = await decoded(producer, codec);
    expect(dead).toEqual([]);
    expect(nhis.map((n) => [n.nhi_id, n.status]).sort()).toEqual([
      ['anthropic:api_key:apikey_h', 'active'], ['anthropic:api_key:apikey_p', 'constructor'], ['anthropic:workspace:wrkspc_deep', 'active'],
    ]);
    const created = events.filter((e) => e.action === 'api_key.created');
    expect(created.map((e) => e.targets[0]!.id).sort()).toEqual(['apikey_h', 'apikey_p']);
    expect(JSON.parse(created.find((e) => e.targets[0]!.id === 'apikey_h')!.unmapped).tether_flags).toEqual(['raw_is_mapped_content']);
  });

  it('Cursor: a page with a conflicting event id and members whose flags are text', async () => {
    const base = EVENT_FEEDS[2]!.records[0]!;
    const { app, producer, codec } = await harness('cursor', {
      '/teams/audit-logs': {
        events: [{ ...base, event_id: 'evt_same' }, { ...base, event_id: 'evt_same', user_email: 'someone.else@example.com' }, { ...base, event_id: 'evt_other', event_type: 'constructor' }],
        pagination: { page: 1, pageSize: 100, totalCount: 3, totalPages: 1, hasNextPage: false, hasPreviousPage: false },
        params: { teamId: 424242 },
      },
      '/teams/members': { teamMembers: [{ id: 'user_a', email: 'a@example.com', role: 'member', isRemoved: 'true' }, { id: 'user_b', email: 'b@example.com', role: 'member', isRemoved: 0 }] },
    });
    await app.backfill(['cursor'], { since: NOW - 6 * HOUR, until: null }, new AbortController().signal);
    const { events, dead, people } = await decoded(producer, codec);
    expect(people.map((p) => [p.person_id, p.active]).sort()).toEqual([['cursor:user_a', false], ['cursor:user_b', true]]);
    expect(events.filter((e) => e.source.feed === 'audit_logs').map((e) => [e.source.source_event_id, e.action, e.actor.email])).toEqual([
      ['evt_same', 'login.succeeded', 'sam@example.com'],
      ['evt_other', 'constructor', 'sam@example.com'],
    ]);
    expect(dead.map((d) => [d.source, d.reason_code])).toEqual([['cursor/audit_logs', 'TETHER_DUPLICATE_CONFLICT']]);
  });
});
