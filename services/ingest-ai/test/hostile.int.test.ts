// Hostile records through the real registry and Kafka: an export with a
// record just under the record limit, one far over it, bytes that are not
// UTF-8, nesting JSON.stringify cannot walk and a conflicting duplicate,
// imported by the service as it runs in production (connectApp). What the
// broker holds afterwards is read back and decoded.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, topicNames } from '#config';
import { createLogger } from '#log';
import { MAX_RECORD_BYTES, createCodec, createRegistryClient, deriveEventId } from '#schemas';
import { MAX_ORIGINAL_BYTES } from '#service';
import { createScrubber } from '#source';
import { createTopics, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';
import { connectApp } from '../src/app.ts';
import { ingestAiEnvSchema } from '../src/config.ts';
import { secretForms } from '#source';
import { fixtureLines } from './fixtures.ts';
import { readAll } from './kill-restart.ts';

const KEY = 'sk-admin-int-hostile-8c2d4e6f10';

describe('ingest-ai import of hostile records, real Kafka and registry', () => {
  const prefix = uniqueTopicPrefix();
  const kafka = testKafka('kafkajs');
  afterAll(async () => {
    const admin = await kafka.admin();
    try {
      await admin.deleteTopics(Object.values(topicNames(prefix)));
    } finally {
      await admin.close();
    }
  });

  it('the near-limit record reaches the broker; the oversized one is dead-lettered with its head; raw bytes arrive exactly', async () => {
    const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
    const base = fixtureLines('openai', 'audit-logs.jsonl')[0]!.record;
    const rec = (id: string, extra: Record<string, unknown> = {}) => Buffer.from(JSON.stringify({ ...base, id, ...extra }));
    const nearLimit = rec('audit_log-near', { notes: 'n'.repeat(MAX_RECORD_BYTES - 40 * 1024) });
    const oversized = rec('audit_log-huge', { notes: 'h'.repeat(3 * 1024 * 1024) });
    const notUtf8 = Buffer.concat([rec('audit_log-bytes').subarray(0, -1), Buffer.from(',"name":"'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]);
    const deep = Buffer.from(JSON.stringify({ ...base, id: 'audit_log-deep' }).replace(/}$/, `,"nested":${'['.repeat(50_000)}${']'.repeat(50_000)}}`));
    const first = rec('audit_log-twice', { note: 'first' });
    const second = rec('audit_log-twice', { note: 'second' });
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-hostile-int-'));
    const file = path.join(dir, 'export.jsonl');
    writeFileSync(file, Buffer.concat([nearLimit, oversized, notUtf8, deep, first, second].flatMap((b) => [b, Buffer.from('\n')])));

    const config = loadConfig(ingestAiEnvSchema, { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_OPENAI_ADMIN_KEY: KEY });
    const { app, close } = await connectApp(config, { log: createLogger({ service: 'ingest-ai', level: 'silent' }), scrubber: createScrubber(secretForms(KEY)) });
    try {
      const summary = await app.importFile('openai', null, file, new AbortController().signal);
      expect(summary.feeds[0]).toMatchObject({ sent: 3, dead: 3, error: null });
    } finally {
      await close();
    }

    const common = testConfig();
    const codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const events = await readAll(kafka, codec, 'accessRaw', topics.accessRaw);
    const byId = new Map(events.map((e) => [e.source.source_event_id, e]));
    expect([...byId.keys()].sort()).toEqual(['audit_log-deep', 'audit_log-near', 'audit_log-twice']);
    expect(byId.get('audit_log-near')!.raw.equals(nearLimit)).toBe(true);
    expect(byId.get('audit_log-deep')!.raw.equals(deep)).toBe(true);
    expect(byId.get('audit_log-twice')!.raw.equals(first)).toBe(true);
    expect(byId.get('audit_log-twice')!.event_id).toBe(deriveEventId('openai', 'audit_logs', 'audit_log-twice'));

    const dead = await readAll(kafka, codec, 'dlq', topics.dlq);
    expect(dead.map((d) => [d.stage, d.reason_code]).sort()).toEqual([['encoding', 'TETHER_RECORD_TOO_LARGE'], ['normalising', 'TETHER_DUPLICATE_CONFLICT'], ['parsing', 'TETHER_SOURCE_ENCODING']]);
    // A line that is not UTF-8 arrives on the DLQ byte for byte, never as an event with U+FFFD in its fields.
    expect(dead.find((d) => d.reason_code === 'TETHER_SOURCE_ENCODING')!.original.equals(notUtf8)).toBe(true);
    expect(dead.find((d) => d.reason_code === 'TETHER_RECORD_TOO_LARGE')!.original.equals(oversized.subarray(0, MAX_ORIGINAL_BYTES))).toBe(true);
    expect(dead.find((d) => d.reason_code === 'TETHER_DUPLICATE_CONFLICT')!.original.equals(second)).toBe(true);
  });
});
