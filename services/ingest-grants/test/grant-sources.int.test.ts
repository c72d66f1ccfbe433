// Each connector-grant source through the real CLI (`node
// services/ingest-ai/src/index.ts <source> backfill`), the real Kafka and
// registry, against a local server speaking the API's paging, auth exchange
// and a 429: the process is SIGKILLed while it waits for a page (the pages
// before it checkpointed), restarted with the same command, and must finish.
// The grants, revokes and uses come out as events exactly once, the
// connector inventory as its lifecycle of versions (each version's content
// once), the malformed record in the DLQ with its bytes. Feeds whose pages
// loop or are not JSON stop with an error.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import type { ConnectorVersion } from '#schemas';
import { createCodec, createRegistryClient } from '#schemas';
import { createTopics, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';
import { readAll, recordsOn } from '../../ingest-ai/test/kill-restart.ts';
import { AI_APP, CLIENT, DANA, ENTRA_TENANT, heldMark, LOGS_USE, serveFakeGrantApi, type FakeGrantApi } from './fake-grant-apis.ts';
import type { GrantProvider } from '../src/normalise/grant-event.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ENTRY = path.join(ROOT, 'services/ingest-ai/src/index.ts');
const MIN = 60_000;

/** Whose grant the AI connector is, per provider (its id is '<provider>:<client>:<subject>'). */
const SUBJECT: Record<GrantProvider, string> = { google: DANA.googleProfileId, entra: DANA.entraId, okta: DANA.oktaId, github: String(DANA.githubId) };
const HOLD: Record<GrantProvider, number> = { google: 3, entra: 4, okta: 3, github: 3 };

function run(provider: GrantProvider, args: string[], env: NodeJS.ProcessEnv) {
  const output: string[] = [];
  const child = spawn(process.execPath, [ENTRY, provider, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c) => output.push(String(c)));
  child.stderr!.on('data', (c) => output.push(String(c)));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output, exit };
}

const kafka = testKafka('kafkajs');
const prefixes: string[] = [];
const fakes: FakeGrantApi[] = [];
afterAll(async () => {
  for (const f of fakes) await f.close();
  const admin = await kafka.admin();
  try {
    for (const prefix of prefixes) await admin.deleteTopics(Object.values(topicNames(prefix))).catch(() => undefined);
  } finally {
    await admin.close();
  }
});

async function setUp(provider: GrantProvider, fakeOptions: { holdPage?: number; hostile?: 'loop' | 'not_json' }) {
  const prefix = uniqueTopicPrefix();
  prefixes.push(prefix);
  const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
  const config = testConfig();
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  const t0 = Date.now() - 5 * 60 * MIN;
  const fake = await serveFakeGrantApi({ provider, t0, ...fakeOptions });
  fakes.push(fake);
  // Every use dates its version on the topic (the default resolution is an hour).
  const env = { ...process.env, ...fake.env, TETHER_TOPIC_PREFIX: prefix, TETHER_INGEST_PAGE_LIMIT: '2', TETHER_LOG_LEVEL: 'debug', TETHER_CONNECTOR_USE_RESOLUTION_MS: '1000' };
  return { topics, codec, t0, fake, env, since: new Date(t0 - 60 * MIN).toISOString() };
}

describe.each(['google', 'entra', 'okta', 'github'] as const)('%s grants through the CLI, killed and restarted', (provider) => {
  it('delivers grants, revokes and uses once, and the connector lifecycle as versions', { timeout: 240_000 }, async () => {
    const { topics, codec, t0, fake, env, since } = await setUp(provider, { holdPage: HOLD[provider] });
    const first = run(provider, ['backfill', '--since', since], env);
    const heldUrl = await Promise.race([
      fake.holding,
      first.exit.then(() => Promise.reject(new Error(`first run exited before the held page: ${first.output.join('').slice(-3_000)}`))),
    ]);
    const mark = heldMark(provider, heldUrl);
    await waitFor(async () => {
      const saved = await readAll(kafka, codec, 'ingestCheckpoints', topics.ingestCheckpoints);
      return saved.some((c) => c.checkpoint_id.startsWith(`${provider}/`) && c.checkpoint_id.endsWith('/backfill') && c.cursor.includes(mark)) || undefined;
    }, { what: `a ${provider} checkpoint naming ${mark}` });
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    fake.release();
    const second = run(provider, ['backfill', '--since', since], env);
    const ended = await second.exit;
    const output = [...first.output, ...second.output].join('');
    if (ended.code !== 0) throw new Error(`restarted run failed (${ended.code}): ${second.output.join('').slice(-3_000)}`);

    // The 429 was ridden out; the auth exchange happened (a token endpoint, or the static header).
    expect(fake.requests.some((r) => r.status === 429)).toBe(true);
    if (provider === 'google' || provider === 'entra') expect(fake.tokenRequests).toBeGreaterThanOrEqual(2);
    for (const secret of fake.secrets) expect(output).not.toContain(secret);

    // Events: each once on the topic (the restart resumed at the held page, no repeat, no gap).
    const events = await readAll(kafka, codec, 'accessRaw', topics.accessRaw);
    expect(events.length).toBe(await recordsOn(kafka, topics.accessRaw));
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
    const dana = events.filter((e) => e.connector?.client_id === CLIENT[provider]).sort((a, b) => a.time - b.time);
    const expectedActions = LOGS_USE[provider]
      ? ['oauth.grant', 'oauth.use', 'oauth.use', 'oauth.revoke', 'oauth.grant', 'oauth.use']
      : ['oauth.grant', 'oauth.revoke', 'oauth.grant'];
    expect(dana.map((e) => e.action)).toEqual(expectedActions);
    for (const use of dana.filter((e) => e.action === 'oauth.use')) expect(use.src.ip).toBe('20.171.206.9');
    // 5 other users' grants of a non-AI app, plus (Entra) the tenant-wide grant the inventory listed.
    expect(events.length).toBe(expectedActions.length + 5 + (provider === 'entra' ? 1 : 0));

    // The malformed record: a dead letter with its exact bytes.
    const dead = await readAll(kafka, codec, 'dlq', topics.dlq);
    expect(dead.map((d) => [d.stage, d.reason_code])).toEqual([['normalising', 'TETHER_NORMALISE_INVALID']]);
    expect(dead[0]!.original.toString()).toBe(fake.badRecord);

    // The inventory: one connector for the person's grants of the AI app, three versions with times.
    const versions = await readAll(kafka, codec, 'identityConnectors', topics.identityConnectors);
    // A version goes out again when a use dates it (its last use only moves forward), or when an earlier
    // record lands after it. Sources that page oldest first never show a key two states; Google pages come
    // newest first, so a key may first carry the state it had before the earlier records arrived: the last
    // copy of each key is the one that counts (compacted topic, ReplacingMergeTree), checked below.
    const latest = new Map<string, ConnectorVersion>();
    const states = new Map<string, Set<string>>();
    for (const v of versions) {
      const key = `${v.connector_id}@${v.valid_from}`;
      const { source: _s, last_used_at: _u, ...state } = v;
      states.set(key, (states.get(key) ?? new Set()).add(JSON.stringify(state)));
      const before = latest.get(key)?.last_used_at ?? null;
      if (before !== null) expect(v.last_used_at).toBeGreaterThanOrEqual(before);
      latest.set(key, v);
    }
    if (provider !== 'google') for (const [key, seen] of states) expect(seen.size, key).toBe(1);
    const id = `${provider}:${CLIENT[provider]}:${SUBJECT[provider]}`;
    const lifecycle = [...latest.values()].filter((v) => v.connector_id === id).sort((a, b) => a.valid_from - b.valid_from);
    expect(lifecycle.map((v) => [v.status, v.valid_from - t0, v.granted_at === null ? null : v.granted_at - t0, v.revoked_at === null ? null : v.revoked_at - t0])).toEqual([
      ['granted', 0, 0, null],
      ['revoked', 60 * MIN, 0, 60 * MIN],
      ['granted', 120 * MIN, 120 * MIN, null],
    ]);
    for (const v of lifecycle) expect(v).toMatchObject({ app_name: AI_APP, ai_classification: 'ai_tool', ai_tool_id: 'chatgpt', sanctioned: false });
    if (LOGS_USE[provider]) expect(lifecycle.map((v) => (v.last_used_at === null ? null : v.last_used_at - t0))).toEqual([20 * MIN, null, 180 * MIN]);
    // Entra's oauth2PermissionGrants inventory: a tenant-wide grant of a non-AI app, by its app id (looked up).
    if (provider === 'entra') expect([...latest.keys()]).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^entra:notes-app-id:all:${ENTRA_TENANT}@`))]));
    // No key but the lifecycle's and one per other grant.
    expect([...latest.keys()].filter((k) => k.startsWith(`${id}@`))).toHaveLength(3);
    expect(second.output.join('')).toMatch(/backfill finished/);
  });
});

describe.each(['google', 'entra', 'okta', 'github'] as const)('%s feeds that cannot be trusted', (provider) => {
  it.each(['loop', 'not_json'] as const)('a feed whose pages %s stops with an error and does not spin', { timeout: 120_000 }, async (hostile) => {
    const { fake, env, since } = await setUp(provider, { hostile });
    const r = run(provider, ['backfill', '--since', since], env);
    const ended = await r.exit;
    expect(ended.code).toBe(1);
    const said = r.output.join('');
    expect(said).toMatch(hostile === 'loop' ? /stopped paging: (pagination cursor|the same page)/ : /not (valid )?JSON|is not JSON|content-type/i);
    // Bounded: a handful of requests, not a spin.
    expect(fake.requests.length).toBeLessThan(40);
  });
});
