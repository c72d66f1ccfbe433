// The README's ways to read the enriched stream, run as a user runs them on
// the real servers: the example consumer (examples/consume-enriched.ts) sees
// a re-attributed event as such and ignores a redelivery, and `tether tail`
// decodes a topic into JSON lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec, createRegistryClient, type Codec, type EnrichedAccessEvent } from '#schemas';
import { createTopics, testConfig, testKafka, uniqueTopicPrefix } from '#testkit';
import { enrichedAccessEvent } from '../../packages/schemas/test/samples.ts';
import { run } from '../cli/run.ts';

const prefix = uniqueTopicPrefix();
const kafka = testKafka('kafkajs');
let codec: Codec;
let topics: Awaited<ReturnType<typeof createTopics>>;
const config = testConfig();
const env = {
  TETHER_KAFKA_BROKERS: config.TETHER_KAFKA_BROKERS.join(','),
  TETHER_SCHEMA_REGISTRY_URL: config.TETHER_SCHEMA_REGISTRY_URL,
  TETHER_TOPIC_PREFIX: prefix,
};

const first: EnrichedAccessEvent = { ...enrichedAccessEvent, person: null, enrichment: { ...enrichedAccessEvent.enrichment, enriched_at: Date.UTC(2026, 0, 1, 10) } };
const again: EnrichedAccessEvent = { ...enrichedAccessEvent, enrichment: { ...enrichedAccessEvent.enrichment, enriched_at: Date.UTC(2026, 0, 1, 11) } };

beforeAll(async () => {
  topics = await createTopics(kafka, prefix);
  codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  const producer = await kafka.producer();
  // Unattributed first, a redelivery of it, then re-attributed once identity data named the person.
  await producer.send([first, first, again].map((e) => ({ topic: topics.accessEnriched, key: e.event.event_id, value: codec.encode('accessEnriched', e), partition: 0 })));
  await producer.close();
});

afterAll(async () => {
  const admin = await kafka.admin();
  await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
  await admin.close();
});

describe('consuming the enriched stream', () => {
  it('the example consumer reports the re-attributed event and skips the redelivery', async () => {
    const { code, stdout } = await run('examples/consume-enriched.ts', ['--from-beginning', '--max', '3'], env, { timeoutMs: 120_000 });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { seen: string; event_id: string; who: string });
    expect(lines.map((l) => l.seen)).toEqual(['new', 'reattributed']);
    expect(lines.every((l) => l.event_id === enrichedAccessEvent.event.event_id)).toBe(true);
    expect(lines[1]!.who).toBe(enrichedAccessEvent.person!.email);
  });

  it('tether tail decodes the topic into JSON lines, data only on stdout', async () => {
    const { code, stdout } = await run('tether', ['tail', 'access.enriched', '--from-beginning', '--no-follow'], env, { timeoutMs: 120_000 });
    expect(code).toBe(0);
    const records = stdout.trim().split('\n').map((l) => JSON.parse(l) as { offset: number; key: string; value: EnrichedAccessEvent });
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(records.map((r) => r.value.enrichment.enriched_at)).toEqual([first, first, again].map((e) => e.enrichment.enriched_at));
    expect(records[2]!.value.person?.person_id).toBe(enrichedAccessEvent.person!.person_id);
    const limited = await run('tether', ['tail', `${prefix}tether.access.enriched`, '--from-beginning', '-n', '1'], env, { timeoutMs: 120_000 });
    expect(limited.stdout.trim().split('\n')).toHaveLength(1);
  });
});
