// The toy source through runSource on the real broker and registry: events
// and checkpoints land on their topics, and a second process restores the
// checkpoints and finds nothing left to send.
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, topicNames } from '#config';
import { createKafkaClient } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient } from '#schemas';
import { createMetrics } from '#service';
import { createTopics, readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';
import { createKafkaCheckpointStore, createScrubber, createSourceRegistry, restoreCheckpoints, runSource, sourceRunnerEnvShape } from '../src/index.ts';
import { TOY_SECRET, toyApi, toySource } from './toy-source.ts';

const log = createLogger({ service: 'test', level: 'warn' });
const HOUR = 3_600_000;

describe('runSource on the real broker', () => {
  const prefix = uniqueTopicPrefix();
  const kafka = testKafka('kafkajs');
  afterAll(async () => {
    const admin = await kafka.admin();
    await admin.deleteTopics(Object.values(topicNames(prefix))).finally(() => admin.close());
  });

  it('a toy backfill lands its events and checkpoints; a restarted run restores them and sends nothing again', async () => {
    const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
    const common = testConfig();
    const codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const config = loadConfig(z.object({ ...sourceRunnerEnvShape, ...createSourceRegistry([toySource]).envShape }), { TETHER_TOY_CLIENT_ID: 'toy-client', TETHER_TOY_CLIENT_SECRET: TOY_SECRET });
    const now = Date.now();
    const records = Array.from({ length: 9 }, (_, i) => ({ id: `act-${i}`, at: now - 3 * HOUR + i * 10 * 60_000 }));
    const api = toyApi(records, [{ id: 'u1', email: 'p1@example.com' }]);
    const producer = await createKafkaClient('platformatic', { brokers: common.TETHER_KAFKA_BROKERS, clientId: 'run-source-test' }, log).producer();
    const run = async () => {
      const restored = await restoreCheckpoints({ client: kafka, codec, topic: topics.ingestCheckpoints, log, keep: (id) => id.startsWith('toy/') });
      const checkpoints = createKafkaCheckpointStore({ producer, codec, topic: topics.ingestCheckpoints, restored });
      const deps = { service: 'ingest-toy', log, scrubber: createScrubber([]), producer, codec, topics, checkpoints, fetch: api.fetch, metrics: createMetrics('ingest-toy', { defaultMetrics: false }) };
      return runSource(toySource, { mode: 'backfill', since: now - 4 * HOUR, until: null }, { config, deps, signal: new AbortController().signal });
    };
    try {
      const first = await run();
      expect(first.feeds.map((f) => [f.feed, f.sent, f.error])).toEqual([['toy/accounts', 1, null], ['toy/activity', 9, null]]);
      const second = await run();
      expect(second.feeds.map((f) => [f.feed, f.sent, f.error])).toEqual([['toy/accounts', 0, null], ['toy/activity', 0, null]]);
    } finally {
      await producer.close();
    }
    const events = await readTopicToEnd(kafka, codec, 'accessRaw', topics.accessRaw);
    expect(events.filter((e) => e.value.source.feed === 'activity').map((e) => e.value.source.source_event_id).sort()).toEqual(records.map((r) => r.id).sort());
    const saved = await readTopicToEnd(kafka, codec, 'ingestCheckpoints', topics.ingestCheckpoints);
    expect(new Set(saved.map((c) => c.key))).toEqual(new Set(['toy/accounts/snapshot', 'toy/activity/backfill']));
  });
});
