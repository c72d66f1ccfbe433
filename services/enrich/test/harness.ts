// Integration harness on the real broker and registry: per-test topics, a
// codec bound to them, writers for identity records and raw events, a reader
// of the enriched topic, and enrich apps built in-process.
import { onTestFinished } from 'vitest';
import type { AccessEvent, Codec, ConnectorVersion, DeadLetter, DeviceVersion, EnrichedAccessEvent, NonHumanIdentityVersion, PersonVersion } from '#schemas';
import { createCodec, createRegistryClient } from '#schemas';
import type { ProduceRecord } from '#kafka';
import { createLogger } from '#log';
import { createTopics, testConfig, testKafka, uniqueName, uniqueTopicPrefix } from '#testkit';
import { buildApp, type EnrichApp } from '../src/app.ts';
import { loadEnrichConfig } from '../src/config.ts';
import { keyOf } from './fixtures/identities.ts';

export type IdentityVersion = PersonVersion | DeviceVersion | NonHumanIdentityVersion | ConnectorVersion;

export async function harness() {
  const prefix = uniqueTopicPrefix();
  const kafka = testKafka('kafkajs');
  const topics = await createTopics(kafka, prefix);
  const common = testConfig();
  const codec: Codec = await createCodec({
    registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL),
    registryUrl: common.TETHER_SCHEMA_REGISTRY_URL,
    topicPrefix: prefix,
  });
  const producer = await kafka.producer();
  const apps: EnrichApp[] = [];
  const stoppers: Array<() => Promise<void>> = [];

  onTestFinished(async () => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    for (const app of apps) await app.stop().catch(() => undefined);
    await producer.close();
    const admin = await kafka.admin();
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
    await admin.close();
  });

  function identityRecord(v: IdentityVersion): ProduceRecord {
    const role = 'person_id' in v ? 'identityUsers' : 'device_id' in v ? 'identityDevices' : 'nhi_id' in v ? 'identityNhi' : 'identityConnectors';
    return { topic: topics[role], key: keyOf(v), value: codec.encode(role, v as never) };
  }

  return {
    prefix,
    topics,
    codec,
    kafka,

    writeIdentities: (versions: readonly IdentityVersion[]) => producer.send(versions.map(identityRecord)),
    /** An identity record under a key of the caller's choosing (hostile input). */
    writeIdentityAs: (key: string, version: IdentityVersion) => producer.send([{ ...identityRecord(version), key }]),
    tombstone: (role: 'identityUsers' | 'identityDevices' | 'identityNhi' | 'identityConnectors', key: string) =>
      producer.send([{ topic: topics[role], key, value: null }]),
    writeEvents: (events: readonly AccessEvent[]) =>
      producer.send(events.map((e) => ({ topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e) }))),
    writeRaw: (value: Buffer) => producer.send([{ topic: topics.accessRaw, key: 'garbage', value }]),

    /** Every enriched record (with its key) read from the beginning, kept current in the background. */
    async readEnriched(): Promise<Array<{ key: string; value: EnrichedAccessEvent }>> {
      const out: Array<{ key: string; value: EnrichedAccessEvent }> = [];
      const consumer = kafka.consumer({ groupId: uniqueName('enriched-reader'), maxWaitMs: 100 });
      await consumer.run({
        topics: [topics.accessEnriched],
        fromBeginning: true,
        eachBatch: async (batch) => {
          for (const m of batch.messages) out.push({ key: m.key!.toString(), value: await codec.decode('accessEnriched', m.value!) });
        },
      });
      stoppers.push(() => consumer.stop());
      return out;
    },

    async readDeadLetters(): Promise<DeadLetter[]> {
      const out: DeadLetter[] = [];
      const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader'), maxWaitMs: 100 });
      await consumer.run({
        topics: [topics.dlq],
        fromBeginning: true,
        eachBatch: async (batch) => {
          for (const m of batch.messages) out.push(await codec.decode('dlq', m.value!));
        },
      });
      stoppers.push(() => consumer.stop());
      return out;
    },

    /** Builds and starts an enrich app on this test's topics; resolves once it consumes events. */
    async startApp(env: Record<string, string> = {}): Promise<EnrichApp> {
      const config = loadEnrichConfig({
        ...process.env,
        TETHER_TOPIC_PREFIX: prefix,
        TETHER_ENRICH_PORT: '0',
        TETHER_LOG_LEVEL: process.env.TETHER_TEST_LOG_LEVEL ?? 'warn',
        ...env,
      });
      const app = buildApp(config, { log: createLogger({ service: 'enrich', level: config.TETHER_LOG_LEVEL }) });
      apps.push(app);
      await app.start();
      return app;
    },

    async committed(groupId: string): Promise<{ committed: bigint; high: bigint }> {
      const admin = await kafka.admin();
      try {
        const offsets = await admin.topicOffsets(topics.accessRaw);
        const groups = await admin.groupOffsets(groupId, topics.accessRaw);
        return {
          high: offsets.reduce((sum, o) => sum + o.high, 0n),
          committed: offsets.reduce((sum, o) => sum + ((groups.get(o.partition) ?? -1n) < 0n ? 0n : groups.get(o.partition)!), 0n),
        };
      } finally {
        await admin.close();
      }
    },
  };
}
