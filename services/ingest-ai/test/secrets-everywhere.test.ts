// Property: a secret planted in any string field of any record of any
// platform's fixtures appears nowhere in what ingest produces: no topic
// value or key, no dead letter, no checkpoint, no log line. Planted: the
// configured key, and credentials by shape (an sk- key, a Bearer token, a
// Basic header) as a platform echoing a request's headers would write them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { secretForms } from '#source';
import { fixture, fixtureLines } from './fixtures.ts';
import { offlineApp } from './offline-app.ts';

const KEY = 'sk-admin-planted-1f2e3d4c5b6a';
const SHAPED_KEY = `sk-proj-${'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'}`;
const BEARER = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXRoZXIifQ.c2lnbmF0dXJl';
const BASIC = Buffer.from('svc-reporting:hunter2-correct-horse').toString('base64');
const NEEDLES = [KEY, ...secretForms(KEY), SHAPED_KEY, BEARER, BASIC];
const planted = (value: string) => `${value} key=${KEY} other=${SHAPED_KEY} Authorization: Bearer ${BEARER} proxy: Basic ${BASIC}`;

type Json = unknown;

/** Paths of every string in a value. */
function stringPaths(value: Json, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringPaths(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...at, k]));
  return [];
}

function replaceAt(value: Json, at: readonly (string | number)[], make: (s: string) => string): Json {
  if (at.length === 0) return make(value as string);
  const [head, ...rest] = at;
  if (Array.isArray(value)) return value.map((v, i) => (i === head ? replaceAt(v, rest, make) : v));
  return { ...(value as Record<string, Json>), [head!]: replaceAt((value as Record<string, Json>)[head!], rest, make) };
}

/** Each record once per string field with that field planted, and once with all of them planted. */
function variants(records: readonly Json[]): Json[] {
  return records.flatMap((record) => {
    const paths = stringPaths(record);
    return [...paths.map((p) => replaceAt(record, p, planted)), paths.reduce((r, p) => replaceAt(r, p, planted), record)];
  });
}

const CASES: { platform: 'openai' | 'anthropic' | 'cursor'; feed: string; records: () => Json[] }[] = [
  { platform: 'openai', feed: 'audit_logs', records: () => fixtureLines('openai', 'audit-logs.jsonl').map((l) => l.record) },
  { platform: 'openai', feed: 'users', records: () => fixture<{ data: Json[] }>('openai', 'users-page.json').data },
  { platform: 'openai', feed: 'admin_api_keys', records: () => fixture<{ data: Json[] }>('openai', 'admin-api-keys-page.json').data },
  { platform: 'anthropic', feed: 'compliance_activities', records: () => fixtureLines('anthropic', 'activities.jsonl').map((l) => l.record) },
  { platform: 'anthropic', feed: 'users', records: () => fixture<{ data: Json[] }>('anthropic', 'users-page.json').data },
  { platform: 'anthropic', feed: 'invites', records: () => fixture<{ data: Json[] }>('anthropic', 'invites-page.json').data },
  { platform: 'anthropic', feed: 'api_keys', records: () => fixture<{ data: Json[] }>('anthropic', 'api-keys-page.json').data },
  { platform: 'cursor', feed: 'audit_logs', records: () => fixtureLines('cursor', 'audit-logs.jsonl').map((l) => l.record) },
  { platform: 'cursor', feed: 'usage_events', records: () => fixture<{ usageEvents: Json[] }>('cursor', 'usage-events-page.json').usageEvents },
];

const KEY_VARS = { openai: 'TETHER_OPENAI_ADMIN_KEY', anthropic: 'TETHER_ANTHROPIC_ADMIN_KEY', cursor: 'TETHER_CURSOR_API_KEY' } as const;
const dir = mkdtempSync(path.join(tmpdir(), 'tether-planted-'));

describe('no secret in anything a source emits', () => {
  it.each(CASES.map((c) => [`${c.platform}/${c.feed}`, c] as const))('%s: planted in every string field, found in no record, key, dead letter, checkpoint or log line', async (_, c) => {
    const lines = variants(c.records());
    const file = path.join(dir, `${c.platform}-${c.feed}.jsonl`);
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const { app, producer, codec, checkpoints, lines: logged, topics } = await offlineApp({ env: { [KEY_VARS[c.platform]]: KEY }, key: KEY, now: () => Date.parse('2026-03-03T12:00:00Z') });
    const summary = await app.importFile(c.platform, c.feed, file, new AbortController().signal);
    expect(summary.feeds[0]!.error).toBeNull();
    // Everything came out as something (records or dead letters), so there was something to look in.
    expect(producer.sent.length).toBeGreaterThan(0);

    const found: string[] = [];
    const look = (where: string, bytes: Buffer | string | null | undefined) => {
      if (bytes === null || bytes === undefined) return;
      for (const needle of NEEDLES) if (bytes.includes(needle)) found.push(`${where} holds ${needle.slice(0, 12)}…`);
    };
    for (const record of producer.sent) {
      look(`${record.topic} key`, record.key);
      look(`${record.topic} value`, record.value);
    }
    // Decoded too: an Avro string is its UTF-8 bytes, but check the fields as a consumer reads them.
    for (const record of producer.sent.filter((r) => r.topic === topics.accessRaw)) {
      const event = await codec.decode('accessRaw', record.value!);
      look('event user_agent', event.src.user_agent);
      look('event unmapped', event.unmapped);
      look('event raw', event.raw);
    }
    for (const saved of checkpoints.saved) look(`checkpoint ${saved.checkpoint_id}`, saved.cursor);
    for (const line of logged) look('log line', line);
    expect(found).toEqual([]);
  });
});
