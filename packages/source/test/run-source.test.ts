// A toy source defined in a test file runs its backfill, poll and import
// through runSource, offline: the fake API answers through an injected fetch,
// the real codec encodes, a recording producer stands for Kafka.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { loadConfig, topicNames } from '#config';
import { createMetrics } from '#service';
import { captureLogger, offlineCodec, recordingProducer } from '#testkit';
import {
  createMemoryCheckpointStore, createScrubber, createSourceRegistry, createSourceRunner, parseWindowCursor, runSource, sourceRunnerEnvShape,
} from '../src/index.ts';
import { TOY_SECRET, TOY_TOKEN, toyApi, toySource } from './toy-source.ts';

const NOW = Date.parse('2026-03-03T12:00:00Z');
const HOUR = 3_600_000;
const topics = topicNames('');
const schema = z.object({ ...sourceRunnerEnvShape, ...createSourceRegistry([toySource]).envShape });
const config = loadConfig(schema, { TETHER_TOY_CLIENT_ID: 'toy-client', TETHER_TOY_CLIENT_SECRET: TOY_SECRET, TETHER_INGEST_POLL_INTERVAL_MS: '1000', TETHER_INGEST_REREAD_MS: '0' });
const records = Array.from({ length: 7 }, (_, i) => ({ id: `act-${i}`, at: NOW - 5 * HOUR + i * 30 * 60_000, who: `p${i}@example.com` }));
const accounts = [{ id: 'u1', email: 'p1@example.com' }, { id: 'u2', email: 'p2@example.com' }, { id: 'u3', email: 'p3@example.com' }];

async function setup() {
  const api = toyApi(records, accounts);
  const producer = recordingProducer();
  const codec = await offlineCodec();
  const checkpoints = createMemoryCheckpointStore([], () => NOW);
  const { log, lines } = captureLogger('toy');
  const deps = { service: 'ingest-toy', log, scrubber: createScrubber([]), producer, codec, topics, checkpoints, fetch: api.fetch, metrics: createMetrics('ingest-toy', { defaultMetrics: false }), now: () => NOW };
  const events = () => Promise.all(producer.sent.filter((r) => r.topic === topics.accessRaw).map((r) => codec.decode('accessRaw', r.value!)));
  return { api, producer, codec, checkpoints, lines, deps, events };
}

describe('runSource with a toy source', () => {
  it('backfill: the accounts inventory first, then every activity window, paged and checkpointed; no secret logged', async () => {
    const t = await setup();
    const summary = await runSource(toySource, { mode: 'backfill', since: NOW - 6 * HOUR, until: null }, { config, deps: t.deps, signal: new AbortController().signal });
    expect(summary.feeds.map((f) => [f.feed, f.sent, f.error])).toEqual([['toy/accounts', 3, null], ['toy/activity', 7, null]]);
    const events = await t.events();
    expect(events.filter((e) => e.source.feed === 'activity').map((e) => e.source.source_event_id)).toEqual(records.map((r) => r.id));
    expect(events.filter((e) => e.source.feed === 'accounts').map((e) => e.actor.email)).toEqual(accounts.map((a) => a.email));
    expect(parseWindowCursor(t.checkpoints.get('toy/activity/backfill')!.cursor)).toMatchObject({ since: NOW - 6 * HOUR, watermark: NOW - 60_000, window: null });
    expect(t.checkpoints.get('toy/accounts/snapshot')).toBeDefined();
    // One token for the whole run; pages followed by token and by Link header.
    expect(t.api.requests.filter((r) => r.startsWith('POST /oauth/token'))).toHaveLength(1);
    expect(t.api.requests.filter((r) => r.includes('/activity')).length).toBe(4);
    expect(t.api.requests.filter((r) => r.includes('/accounts'))).toEqual(['GET /accounts', 'GET /accounts?after=1', 'GET /accounts?after=2']);
    expect(t.lines.join('\n')).not.toContain(TOY_TOKEN);
    expect(t.lines.join('\n')).not.toContain(TOY_SECRET);
  });

  it('poll: continues where the backfill ended, runs until stopped, reports the feeds healthy', async () => {
    const t = await setup();
    await runSource(toySource, { mode: 'backfill', since: NOW - 6 * HOUR, until: NOW - 2 * HOUR }, { config, deps: t.deps, signal: new AbortController().signal });
    const runner = createSourceRunner(createSourceRegistry([toySource]), config, t.deps);
    const controller = new AbortController();
    const polling = runner.poll(['toy'], controller.signal);
    await expect.poll(() => t.checkpoints.get('toy/activity/poll'), { timeout: 10_000 }).toBeDefined();
    controller.abort();
    await polling;
    expect(parseWindowCursor(t.checkpoints.get('toy/activity/poll')!.cursor)!.since).toBe(NOW - 2 * HOUR);
    const ids = (await t.events()).filter((e) => e.source.feed === 'activity').map((e) => e.source.source_event_id);
    expect([...new Set(ids)].sort()).toEqual(records.map((r) => r.id).sort());
    expect(runner.health()).toMatchObject({ state: 'stopped', checks: { 'toy/activity': { ok: true }, 'toy/accounts': { ok: true } } });

    // runSource polls the same way until its signal fires.
    const stop = new AbortController();
    const again = runSource(toySource, { mode: 'poll' }, { config, deps: t.deps, signal: stop.signal });
    const asked = t.api.requests.length;
    await expect.poll(() => t.api.requests.length, { timeout: 10_000 }).toBeGreaterThan(asked);
    stop.abort();
    await expect(again).resolves.toMatchObject({ feeds: [] });
  });

  it('import: an exported activity file (bad line dead-lettered) and an exported account listing', async () => {
    const t = await setup();
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-toy-'));
    const activity = path.join(dir, 'activity.jsonl');
    writeFileSync(activity, `${JSON.stringify(records[0])}\n{"id": 3}\n${JSON.stringify(records[1])}\n`);
    const signal = new AbortController().signal;
    const imported = await runSource(toySource, { mode: 'import', feed: null, file: activity }, { config, deps: t.deps, signal });
    expect(imported.feeds).toEqual([{ feed: 'toy/activity', pages: 1, sent: 2, dead: 1, error: null }]);
    const listing = path.join(dir, 'accounts.json');
    writeFileSync(listing, JSON.stringify(accounts.slice(0, 2)));
    const snapshot = await runSource(toySource, { mode: 'import', feed: 'accounts', file: listing }, { config, deps: t.deps, signal });
    expect(snapshot.feeds[0]).toMatchObject({ feed: 'toy/accounts', sent: 2, dead: 0, error: null });
    expect((await t.events()).map((e) => e.source.source_event_id)).toEqual(['act-0', 'act-1', `toy:u1:new:${NOW}`, `toy:u2:new:${NOW}`]);
    const dead = await Promise.all(t.producer.sent.filter((r) => r.topic === topics.dlq).map((r) => t.codec.decode('dlq', r.value!)));
    expect(dead.map((d) => [d.source, d.stage, d.reason_code, d.original.toString()])).toEqual([['toy/activity', 'normalising', 'TETHER_NORMALISE_INVALID', '{"id": 3}']]);
    // An import calls no API.
    expect(t.api.requests).toEqual([]);
  });

  it('a definition is checked once: names, variables, and one variable per source', () => {
    expect(() => createSourceRegistry([toySource, toySource])).toThrow(/source name "toy" is taken/);
    expect(() => createSourceRegistry([{ ...toySource, name: 'toy2', env: { TETHER_TOY_BASE_URL: z.string() } }, toySource])).toThrow(/TETHER_TOY_BASE_URL of source toy is already toy2's/);
  });
});
