// Both Kafka adapters behind the one interface, on the real broker and
// registry: wire-format Avro in, the same values out through a consumer group,
// offsets committed only for what was handled.
import { afterAll, describe, expect, it } from 'vitest';
import { KAFKA_CLIENT_NAMES, type ConsumedMessage, type KafkaClient } from '#kafka';
import { createCodec, createRegistryClient, type AccessEvent } from '#schemas';
import { captureLogger, createTopics, testConfig, testKafka, uniqueName, uniqueTopicPrefix, waitFor } from '#testkit';
import { accessEvent } from '../../packages/schemas/test/samples.ts';

const config = testConfig();

function events(n: number): AccessEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    ...accessEvent,
    event_id: `evt-${i.toString().padStart(6, '0')}`,
    source: { ...accessEvent.source, source_event_id: `audit_log-${i}` },
    time: accessEvent.time + i,
  }));
}

describe.each(KAFKA_CLIENT_NAMES)('Kafka adapter %s', (clientName) => {
  const { log, lines } = captureLogger();
  const client: KafkaClient = testKafka(clientName, log);
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it('produces and consumes Confluent-framed Avro with a consumer group, committing after each batch', async () => {
    const prefix = uniqueTopicPrefix();
    const topics = await createTopics(client, prefix);
    const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const sent = events(500);

    const producer = await client.producer();
    cleanup.push(() => producer.close());
    await producer.send(sent.map((e) => ({ topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e) })));

    const admin = await client.admin();
    cleanup.push(() => admin.close());
    const offsets = await admin.topicOffsets(topics.accessRaw);
    expect(offsets).toHaveLength(3);
    expect(offsets.reduce((sum, p) => sum + Number(p.high - p.low), 0)).toBe(sent.length);

    const groupId = uniqueName('group');
    const received: ConsumedMessage[] = [];
    const consumer = client.consumer({ groupId, maxWaitMs: 200 });
    await consumer.run({
      topics: [topics.accessRaw],
      fromBeginning: true,
      maxBatchSize: 100,
      eachBatch: async (batch) => {
        expect(batch.messages.every((m) => m.partition === batch.partition && m.topic === topics.accessRaw)).toBe(true);
        received.push(...batch.messages);
      },
    });
    await waitFor(() => received.length >= sent.length, { what: `${sent.length} messages` });
    // Offsets are committed after eachBatch resolves: wait until the group's committed offsets reach the end.
    await waitFor(async () => {
      const committed = await admin.groupOffsets(groupId, topics.accessRaw);
      return offsets.every((p) => committed.get(p.partition) === p.high);
    }, { what: 'committed offsets at the high watermarks' });
    await consumer.stop();

    const decoded = await Promise.all(received.map((m) => codec.decode('accessRaw', m.value!)));
    expect(new Set(received.map((m) => m.key!.toString())).size).toBe(sent.length);
    expect(decoded.sort((a, b) => a.time - b.time)).toEqual(sent);
    for (const m of received) expect(m.value!.readUInt8(0)).toBe(0);
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });

  it('places keyed records on the same partition as the Java client (murmur2)', async () => {
    const prefix = uniqueTopicPrefix();
    const topics = await createTopics(client, prefix);
    const producer = await client.producer();
    cleanup.push(() => producer.close());
    // What Kafka's own Utils.murmur2 gives these keys on 3 partitions (computed with the Java client 3.9.1).
    const expected: Record<string, number> = { 'person-1': 2, 'person-2': 1, 'person-3': 0, 'openai:api_key:key_abc': 1 };
    await producer.send(Object.keys(expected).map((key) => ({ topic: topics.accessEnriched, key, value: Buffer.from(key) })));
    const seen = new Map<string, number>();
    const consumer = client.consumer({ groupId: uniqueName('group'), maxWaitMs: 200 });
    await consumer.run({
      topics: [topics.accessEnriched],
      fromBeginning: true,
      eachBatch: async (batch) => {
        for (const m of batch.messages) seen.set(m.key!.toString(), m.partition);
      },
    });
    await waitFor(() => seen.size === Object.keys(expected).length, { what: 'all keys' });
    await consumer.stop();
    expect(Object.fromEntries(seen)).toEqual(expected);
  });

  it('commits the batch in hand on stop, and never a batch whose handler threw', async () => {
    const prefix = uniqueTopicPrefix();
    const topics = await createTopics(client, prefix, 1);
    const producer = await client.producer();
    cleanup.push(() => producer.close());
    const admin = await client.admin();
    cleanup.push(() => admin.close());
    await producer.send(Array.from({ length: 50 }, (_, i) => ({ topic: topics.accessRaw, key: `k${i}`, value: Buffer.from(`v${i}`) })));
    const committed = async (groupId: string) => (await admin.groupOffsets(groupId, topics.accessRaw)).get(0) ?? -1n;

    // A throwing handler: the consumer stops, reports, and commits nothing.
    const failing = uniqueName('group');
    let crashed: unknown;
    const first = client.consumer({ groupId: failing, maxWaitMs: 200 });
    await first.run({
      topics: [topics.accessRaw], fromBeginning: true,
      eachBatch: async () => {
        throw new Error('poison');
      },
      onCrash: (err) => (crashed = err),
    });
    await waitFor(() => crashed !== undefined, { what: 'onCrash' });
    await first.stop();
    expect(await committed(failing)).toBeLessThanOrEqual(0n);

    // The same group later gets every record again.
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered = false;
    const second = client.consumer({ groupId: failing, maxWaitMs: 200 });
    await second.run({
      topics: [topics.accessRaw], fromBeginning: true,
      eachBatch: async (batch) => {
        entered = true;
        await gate;
        seen.push(...batch.messages.map((m) => m.value!.toString()));
      },
    });
    await waitFor(() => entered, { what: 'a batch in hand' });
    // stop() while the handler holds a batch: it finishes, is committed, then the consumer leaves.
    const stopped = second.stop();
    release();
    await stopped;
    expect(seen[0]).toBe('v0');
    expect(await committed(failing)).toBe(BigInt(seen.length));
  });

  it('sends more than the broker takes in one record batch by splitting the request', async () => {
    const prefix = uniqueTopicPrefix();
    const topics = await createTopics(client, prefix, 1);
    const producer = await client.producer();
    cleanup.push(() => producer.close());
    // 3 MiB for one partition in one call: one batch would exceed message.max.bytes (1 MiB).
    const records = Array.from({ length: 48 }, (_, i) => ({ topic: topics.accessRaw, key: `k${i}`, value: Buffer.alloc(64 * 1024, i) }));
    await producer.send(records);
    const admin = await client.admin();
    cleanup.push(() => admin.close());
    const [partition] = await admin.topicOffsets(topics.accessRaw);
    expect(partition!.high - partition!.low).toBe(48n);
  });

  it('fails run() when the group refuses the consumer, instead of never starting', async () => {
    const prefix = uniqueTopicPrefix();
    const topics = await createTopics(client, prefix);
    // The broker allows session timeouts of 6-1800 s (group.min/max.session.timeout.ms): 4 s is refused on join.
    const consumer = client.consumer({ groupId: uniqueName('refused'), sessionTimeoutMs: 4_000, maxWaitMs: 100 });
    const started = consumer.run({ topics: [topics.accessRaw], fromBeginning: true, eachBatch: async () => undefined });
    await expect(started).rejects.toThrow();
    await consumer.stop().catch(() => undefined);
  });

  it('creates compacted topics idempotently', async () => {
    const prefix = uniqueTopicPrefix();
    const first = await createTopics(client, prefix);
    const again = await createTopics(client, prefix);
    expect(again).toEqual(first);
    const admin = await client.admin();
    cleanup.push(() => admin.close());
    const names = await admin.listTopics();
    for (const topic of Object.values(first)) expect(names).toContain(topic);
  });
});
