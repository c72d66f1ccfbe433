// The whole service offline: the fake APIs answer through an injected fetch,
// the real codec encodes (its registry only hands out ids), a recording
// producer stands for Kafka and checkpoints stay in memory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, topicNames } from '#config';
import { deriveEventId, type AccessEvent, type Codec, type DeadLetter, type NonHumanIdentityVersion, type PersonVersion } from '#schemas';
import { createMetrics } from '#service';
import { createMemoryCheckpointStore, createScrubber, parseWindowCursor } from '#source';
import { captureLogger, offlineCodec, recordingProducer } from '#testkit';
import { buildApp } from '../src/app.ts';
import { ingestAiEnvSchema } from '../src/config.ts';
import { secretForms } from '#source';
import { fakePlatform, type FakeOptions, type FakedPlatform } from './fake-platforms.ts';
import { fixturePath } from './fixtures.ts';

const KEY = 'sk-admin-unit-7f3a9c2e41d0b8';
const topics = topicNames('');
const HOUR = 3_600_000;
const NOW = Date.parse('2026-03-03T12:00:00Z');
const KEY_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_ADMIN_KEY', anthropic: 'TETHER_ANTHROPIC_ADMIN_KEY', cursor: 'TETHER_CURSOR_API_KEY' };
const URL_VARS: Record<FakedPlatform, string> = { openai: 'TETHER_OPENAI_BASE_URL', anthropic: 'TETHER_ANTHROPIC_BASE_URL', cursor: 'TETHER_CURSOR_BASE_URL' };

async function harness(platform: FakedPlatform, fakeOptions: Partial<FakeOptions> = {}, env: Record<string, string> = {}, clock = { now: NOW }) {
  const fake = fakePlatform({ platform, key: KEY, events: 45, start: NOW - 5 * HOUR, spacingMs: 5 * 60_000, bad: [7, 30], ...fakeOptions });
  const codec = await offlineCodec();
  const producer = recordingProducer();
  const checkpoints = createMemoryCheckpointStore([], () => NOW);
  const { log, lines } = captureLogger('ingest-ai');
  const config = loadConfig(ingestAiEnvSchema, {
    [KEY_VARS[platform]]: KEY,
    [URL_VARS[platform]]: platform === 'openai' ? 'http://fake.invalid/v1' : 'http://fake.invalid',
    TETHER_INGEST_PAGE_LIMIT: '10',
    TETHER_CURSOR_REQUESTS_PER_MINUTE: '0',
    TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: '0',
    ...env,
  });
  const app = buildApp(config, {
    log,
    scrubber: createScrubber(secretForms(KEY)),
    producer,
    codec,
    topics,
    checkpoints,
    fetch: fake.fetch,
    metrics: createMetrics('ingest-ai', { defaultMetrics: false }),
    now: () => clock.now,
  });
  return { app, fake, producer, checkpoints, codec, lines };
}

async function decoded(producer: ReturnType<typeof recordingProducer>, codec: Codec) {
  const on = (topic: string) => producer.sent.filter((r) => r.topic === topic);
  return {
    events: await Promise.all(on(topics.accessRaw).map((r) => codec.decode('accessRaw', r.value!))),
    dead: await Promise.all(on(topics.dlq).map((r) => codec.decode('dlq', r.value!))),
    people: await Promise.all(on(topics.identityUsers).map((r) => codec.decode('identityUsers', r.value!))),
    nhis: await Promise.all(on(topics.identityNhi).map((r) => codec.decode('identityNhi', r.value!))),
  };
}

const range = { since: NOW - 6 * HOUR, until: null };

describe('ingest-ai backfill', () => {
  it('OpenAI: every good audit record once, bad ones to the DLQ with their bytes, inventories as identity versions', async () => {
    const { app, fake, producer, codec, checkpoints, lines } = await harness('openai', { leakKeyAt: 3 });
    const summary = await app.backfill(['openai'], range, new AbortController().signal);
    expect(summary.feeds.map((f) => [f.feed, f.error])).toEqual([
      ['openai/users', null], ['openai/projects', null], ['openai/admin_api_keys', null], ['openai/audit_logs', null],
    ]);
    const { events, dead, people, nhis } = await decoded(producer, codec);
    expect(events.map((e) => e.source.source_event_id).sort()).toEqual([...fake.goodIds].sort());
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    expect(dead.map((d) => [d.stage, d.reason_code, d.source])).toEqual([
      ['normalising', 'TETHER_NORMALISE_INVALID', 'openai/audit_logs'],
      ['normalising', 'TETHER_NORMALISE_INVALID', 'openai/audit_logs'],
    ]);
    expect(dead.map((d) => d.original.toString()).sort()).toEqual([...fake.badElements].sort());
    expect(people.map((p) => p.person_id).sort()).toEqual(['openai:user-K9p3Lm', 'openai:user-M2n8Ws']);
    expect(nhis.map((n) => n.nhi_id).sort()).toEqual([
      'openai:admin_api_key:key_AdmN1', 'openai:api_key:key_Sv55Hk', 'openai:api_key:key_Zx81Qw',
      'openai:project:proj_Ab12Cd34', 'openai:project:proj_Old01', 'openai:service_account:svc_acct_Pq7Yt',
    ]);
    const cursor = parseWindowCursor(checkpoints.get('openai/audit_logs/backfill')!.cursor)!;
    expect(cursor).toMatchObject({ since: range.since, watermark: NOW - 60_000, window: null });
    // The key a record carried is in none of what was produced, nor in any log line.
    const leaked = events.find((e) => e.source.source_event_id === 'audit_log-gen000003')!;
    expect(leaked.raw.toString()).toContain('rotated key [redacted]');
    expect(producer.sent.some((r) => r.value?.includes(KEY))).toBe(false);
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it('a second run of the same backfill reads nothing again and emits no identity version again', async () => {
    const { app, producer } = await harness('openai');
    await app.backfill(['openai'], range, new AbortController().signal);
    const before = producer.sent.length;
    const again = await app.backfill(['openai'], range, new AbortController().signal);
    expect(again.feeds.every((f) => f.error === null && f.sent === 0)).toBe(true);
    expect(producer.sent.length).toBe(before);
  });

  it('stopped in the middle of a page, resumes at that page: every record exactly once', async () => {
    const { app, fake, producer, codec } = await harness('anthropic', { holdPage: 3 });
    const controller = new AbortController();
    const first = app.backfill(['anthropic'], range, controller.signal);
    await fake.holding;
    controller.abort();
    await expect(first).rejects.toMatchObject({ code: 'TETHER_ABORTED' });
    fake.release();
    const delivered = (await decoded(producer, codec)).events.filter((e) => e.source.feed === 'compliance_activities').length;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(fake.goodIds.length);

    const asked = fake.requests.length;
    await app.backfill(['anthropic'], range, new AbortController().signal);
    const resumedAt = fake.requests.slice(asked).find((r) => r.path === '/v1/compliance/activities')!;
    expect(resumedAt.query.get('after_id')).not.toBeNull();

    const { events } = await decoded(producer, codec);
    const activities = events.filter((e) => e.source.feed === 'compliance_activities');
    expect(activities.map((e) => e.source.source_event_id).sort()).toEqual([...fake.goodIds].sort());
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('Anthropic: API keys found in the inventory become events by their creator, whose email the users inventory gave', async () => {
    const { app, producer, codec } = await harness('anthropic');
    await app.backfill(['anthropic'], range, new AbortController().signal);
    const { events, nhis, people } = await decoded(producer, codec);
    const created = events.filter((e) => e.action === 'api_key.created' && e.source.feed === 'api_keys');
    expect(created.map((e) => e.event_id).sort()).toEqual(
      ['apikey_01FakeK5', 'apikey_01FakeK8', 'apikey_01FakeK9'].map((id) => deriveEventId('anthropic', 'api_keys', `${id}:created`)).sort(),
    );
    expect(created.find((e) => e.targets[0]!.id === 'apikey_01FakeK5')!.actor).toMatchObject({ kind: 'human', platform_user_id: 'user_01FakeK2', email: 'kim@example.com' });
    expect(nhis.find((n) => n.nhi_id === 'anthropic:api_key:apikey_01FakeK5')).toMatchObject({ owner_email: 'kim@example.com', parent_nhi_id: 'anthropic:workspace:wrkspc_01FakeW1' });
    expect(people.map((p: PersonVersion) => p.email).sort()).toEqual(['kim@example.com', 'ops@example.com']);
    expect(events.filter((e) => e.action === 'invite.sent')).toHaveLength(2);
  });

  it('Cursor: audit and usage events, the team id from the page as organisation, members as accounts', async () => {
    const { app, fake, producer, codec } = await harness('cursor', { usageEvents: 12 });
    const summary = await app.backfill(['cursor'], range, new AbortController().signal);
    expect(summary.feeds.map((f) => f.feed)).toEqual(['cursor/members', 'cursor/audit_logs', 'cursor/usage_events']);
    const { events, people } = await decoded(producer, codec);
    expect(events.map((e) => e.source.source_event_id).sort()).toEqual([...fake.goodIds].sort());
    expect(events.filter((e) => e.source.feed === 'audit_logs').every((e) => e.scope.organization_id === '424242')).toBe(true);
    expect(events.filter((e) => e.source.feed === 'usage_events')).toHaveLength(12);
    expect(people.find((p) => p.person_id === 'cursor:1234567')).toMatchObject({ active: false });
  });

  it('a feed that keeps failing is reported and counted; the feeds after it still run', async () => {
    const { app, producer, codec, lines } = await harness('cursor', { usageEvents: 3, failures: { 1: 'server_error', 2: 'server_error' } }, { TETHER_INGEST_HTTP_MAX_ATTEMPTS: '2' });
    const summary = await app.backfill(['cursor'], range, new AbortController().signal);
    expect(summary.feeds.map((f) => [f.feed, f.error?.replace(/:.*/, '') ?? null])).toEqual([
      ['cursor/members', null], ['cursor/audit_logs', 'TETHER_SOURCE_HTTP'], ['cursor/usage_events', null],
    ]);
    expect((await decoded(producer, codec)).events.filter((e) => e.source.feed === 'usage_events')).toHaveLength(3);
    const errors = await app.metrics.errors.get();
    expect(errors.values).toContainEqual(expect.objectContaining({ value: 1, labels: { component: 'cursor/audit_logs', error_code: 'TETHER_SOURCE_HTTP', stage: 'receiving' } }));
    expect(lines.some((l) => l.includes('"feed run failed"') || l.includes('feed run failed'))).toBe(true);
  });
});

describe('ingest-ai poll', () => {
  it('the first poll continues where the backfill ended, so there is no gap', async () => {
    const clock = { now: NOW };
    const { app, checkpoints } = await harness('openai', {}, {}, clock);
    await app.backfill(['openai'], range, new AbortController().signal);
    clock.now = NOW + 30 * 60_000;
    const backfilled = parseWindowCursor(checkpoints.get('openai/audit_logs/backfill')!.cursor)!;
    const controller = new AbortController();
    const polling = app.poll(['openai'], controller.signal);
    await expect.poll(() => checkpoints.get('openai/audit_logs/poll')).toBeDefined();
    controller.abort();
    await polling;
    expect(parseWindowCursor(checkpoints.get('openai/audit_logs/poll')!.cursor)!.since).toBe(backfilled.watermark);
    expect(app.health()).toMatchObject({ state: 'stopped', checks: { 'openai/audit_logs': { ok: true } } });
  });
});

describe('ingest-ai poll, late rows', () => {
  it('reads each window again after TETHER_INGEST_REREAD_MS, catching a row the platform wrote late', async () => {
    const clock = { now: NOW };
    const unpublished = new Set<string>();
    const h = await harness('openai', { events: 12, start: NOW - 50 * 60_000, spacingMs: 4 * 60_000, bad: [], unpublished }, {
      TETHER_INGEST_REREAD_MS: String(HOUR), TETHER_INGEST_POLL_LOOKBACK_MS: String(3 * HOUR), TETHER_INGEST_POLL_INTERVAL_MS: '3600000',
    }, clock);
    const late = h.fake.goodIds[3]!;
    unpublished.add(late);
    const pollOnce = async () => {
      const controller = new AbortController();
      const polling = h.app.poll(['openai'], controller.signal);
      // Done when the second read has reached now - lag (1 min for OpenAI) - the re-read delay.
      const rereadAt = () => parseWindowCursor(h.checkpoints.get('openai/audit_logs/reread')?.cursor)?.watermark ?? 0;
      await expect.poll(() => rereadAt() >= clock.now - HOUR - 60_000, { timeout: 10_000 }).toBe(true);
      controller.abort();
      await polling;
    };
    const ids = async () => new Set((await decoded(h.producer, h.codec)).events.map((e) => e.source.source_event_id));

    await pollOnce();
    expect(await ids()).not.toContain(late);
    // The platform writes the row late; the next poll's first read has moved past it, the second read has not.
    unpublished.delete(late);
    clock.now = NOW + 2 * HOUR;
    await pollOnce();
    const seen = await ids();
    expect(seen).toContain(late);
    expect([...seen].sort()).toEqual([...h.fake.goodIds].sort());
  });
});

describe('ingest-ai import', () => {
  it('imports a JSONL export: raw is the exact line, a line that is not JSON goes to the DLQ at the parsing stage', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-import-'));
    const file = path.join(dir, 'activities.jsonl');
    const { readFileSync } = await import('node:fs');
    const good = readFileSync(fixturePath('anthropic', 'activities.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(file, [good[0], '{"id": "activity_cut', good[1]].join('\n'));
    const { app, producer, codec } = await harness('anthropic');
    const summary = await app.importFile('anthropic', null, file, new AbortController().signal);
    expect(summary.feeds[0]).toMatchObject({ feed: 'anthropic/compliance_activities', sent: 2, dead: 1 });
    const { events, dead } = await decoded(producer, codec);
    expect(events.map((e: AccessEvent) => e.raw.toString())).toEqual([good[0], good[1]]);
    expect(dead).toEqual([expect.objectContaining({ stage: 'parsing', reason_code: 'TETHER_SOURCE_PARSE', original: Buffer.from('{"id": "activity_cut') } satisfies Partial<DeadLetter>)]);
  });

  it('refuses a feed the platform cannot import, naming the ones it can', async () => {
    const { app } = await harness('cursor');
    await expect(app.importFile('cursor', 'members', fixturePath('cursor', 'members.json'), new AbortController().signal)).rejects.toThrow(/audit_logs, usage_events/);
  });

  it('keeps identity versions deterministic across runs: same content, same keys', async () => {
    const one = await harness('openai');
    const two = await harness('openai');
    await one.app.backfill(['openai'], range, new AbortController().signal);
    await two.app.backfill(['openai'], range, new AbortController().signal);
    const keys = (h: typeof one) => h.producer.sent.filter((r) => r.topic === topics.identityNhi).map((r) => String(r.key)).sort();
    expect(keys(one)).toEqual(keys(two));
    const nhi = (await decoded(one.producer, one.codec)).nhis.find((n: NonHumanIdentityVersion) => n.nhi_id === 'openai:api_key:key_Zx81Qw')!;
    expect(nhi.valid_from).toBe(1767312000000);
  });
});
