// Every record of the contract through the real broker and registry: a
// sample of each kind, encoded in the Confluent wire format on its own topic,
// consumed and decoded back to a deep-equal value.
import { describe, expect, it } from 'vitest';
import type { TopicRole } from '#config';
import { createCodec, createRegistryClient, RECORD_FOR_TOPIC, type RecordForTopic } from '#schemas';
import { createTopics, testConfig, testKafka, uniqueName, uniqueTopicPrefix, waitFor } from '#testkit';
import * as samples from '../../packages/schemas/test/samples.ts';

const SAMPLES: { [R in TopicRole]: RecordForTopic[R] } = {
  accessRaw: samples.accessEvent,
  accessEnriched: samples.enrichedAccessEvent,
  identityUsers: samples.personVersion,
  identityDevices: samples.deviceVersion,
  identityNhi: samples.nhiVersion,
  identityConnectors: samples.connectorVersion,
  identityGroups: samples.groupVersion,
  dlq: samples.deadLetter,
  ingestCheckpoints: samples.checkpoint,
  findings: samples.finding,
  detectState: samples.detectState,
  enrichReattribution: samples.enrichedAccessEvent,
};

describe('contract round trip through Kafka', () => {
  it('decodes a sample of every record to a deep-equal value', async () => {
    const config = testConfig();
    const prefix = uniqueTopicPrefix();
    const client = testKafka('platformatic');
    const topics = await createTopics(client, prefix, 1);
    const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const roles = Object.keys(RECORD_FOR_TOPIC) as TopicRole[];

    const producer = await client.producer();
    await producer.send(roles.map((role) => ({ topic: topics[role], key: role, value: codec.encode(role, SAMPLES[role] as never) })));
    await producer.close();

    const decoded = new Map<TopicRole, unknown>();
    const roleOf = new Map(roles.map((role) => [topics[role], role]));
    const consumer = testKafka('kafkajs').consumer({ groupId: uniqueName('contract'), maxWaitMs: 200 });
    await consumer.run({
      topics: roles.map((role) => topics[role]),
      fromBeginning: true,
      eachBatch: async (batch) => {
        const role = roleOf.get(batch.topic)!;
        for (const m of batch.messages) decoded.set(role, await codec.decode(role, m.value!));
      },
    });
    await waitFor(() => decoded.size === roles.length, { what: 'one record per topic' });
    await consumer.stop();
    for (const role of roles) expect(decoded.get(role), RECORD_FOR_TOPIC[role]).toEqual(SAMPLES[role]);
  });
});
