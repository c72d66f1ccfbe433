// The checkpoint store on the real compacted topic: what one process saved,
// the next restores (latest value per id, whatever partition it is on).
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import { createKafkaClient, readToEnd } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient } from '#schemas';
import { createTopics, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';
import { createKafkaCheckpointStore, restoreCheckpoints } from '../src/checkpoint-store.ts';

const log = createLogger({ service: 'test', level: 'warn' });

describe('Kafka checkpoint store', () => {
  const prefix = uniqueTopicPrefix();
  const kafka = testKafka('kafkajs');
  afterAll(async () => {
    const admin = await kafka.admin();
    await admin.deleteTopics(Object.values(topicNames(prefix))).finally(() => admin.close());
  });

  it('restores the latest cursor of every id it owns, and nothing from an empty topic', async () => {
    const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
    const config = testConfig();
    const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const restore = (keep?: (id: string) => boolean) => restoreCheckpoints({ client: kafka, codec, topic: topics.ingestCheckpoints, log, keep });
    expect((await restore()).size).toBe(0);

    const producer = await createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'cp-test' }, log).producer();
    try {
      const store = createKafkaCheckpointStore({ producer, codec, topic: topics.ingestCheckpoints, restored: new Map() });
      const ids = Array.from({ length: 12 }, (_, i) => `openai/feed${i}/poll`);
      for (let round = 1; round <= 3; round++) {
        for (const id of ids) await store.save(id, JSON.stringify({ round }), 10);
      }
      await store.save('google/other/poll', '{"theirs":true}', 1);

      const restored = await restore((id) => id.startsWith('openai/'));
      expect([...restored.keys()].sort()).toEqual([...ids].sort());
      for (const id of ids) expect(restored.get(id)).toMatchObject({ cursor: '{"round":3}', records_total: 30 });

      // A new process continues the running totals from what it restored.
      const next = createKafkaCheckpointStore({ producer, codec, topic: topics.ingestCheckpoints, restored });
      expect((await next.save(ids[0]!, '{"round":4}', 5)).records_total).toBe(35);
    } finally {
      await producer.close();
    }
  });

  it('stores a cursor larger than a record in parts, restores it whole, and tombstones superseded parts', async () => {
    const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
    const config = testConfig();
    const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const restore = () => restoreCheckpoints({ client: kafka, codec, topic: topics.ingestCheckpoints, log, keep: (id) => id.startsWith('openai/keys') });
    // 20,000 keys' fingerprints and content: several MB, far over the 1 MB record limit.
    const inventory = (round: number) => JSON.stringify({
      observedAt: null,
      entities: Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`openai:api_key:key_${i}`, { fp: `${round}-${(i * 2654435761) % 4294967296}`, validFrom: 1_700_000_000_000 + i, content: { name: `key ${i} of round ${round}` } }])),
    });

    const producer = await createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'cp-test-big' }, log).producer();
    try {
      const store = createKafkaCheckpointStore({ producer, codec, topic: topics.ingestCheckpoints, restored: new Map() });
      await store.save('openai/keys/inventory', inventory(1), 20_000);
      const first = await restore();
      expect(first.get('openai/keys/inventory')?.cursor).toBe(inventory(1));
      expect([...first.keys()]).toEqual(['openai/keys/inventory']);

      // A restarted process saves the next snapshot: the first generation's parts are tombstoned.
      const next = createKafkaCheckpointStore({ producer, codec, topic: topics.ingestCheckpoints, restored: first });
      await next.save('openai/keys/inventory', inventory(2), 0);
      await next.save('openai/keys/small', '{"observedAt":null,"entities":{}}', 0);
      const second = await restore();
      expect(second.get('openai/keys/inventory')).toMatchObject({ cursor: inventory(2), records_total: 20_000 });
      expect(second.get('openai/keys/small')?.cursor).toBe('{"observedAt":null,"entities":{}}');

      // What the topic holds per key, latest first: every first-generation part ends in a tombstone.
      const latestValue = new Map<string, boolean>();
      await readToEnd(kafka, {
        topics: [topics.ingestCheckpoints],
        onBatch: async (batch) => {
          for (const m of batch.messages) latestValue.set(m.key!.toString(), m.value !== null);
        },
      });
      const parts = [...latestValue].filter(([key]) => key.includes('#chunk/'));
      const live = parts.filter(([, hasValue]) => hasValue).length;
      expect(live).toBeGreaterThan(0);
      expect(parts.length - live).toBeGreaterThan(0);
      expect(live).toBe(parts.length - live);
    } finally {
      await producer.close();
    }
  });
});
