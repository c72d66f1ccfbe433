// readToEnd / openTopicReader on the real broker, with both adapters: the end
// is the high watermarks when reading starts, nothing is committed, and a
// failure or an end never reached says so instead of hanging.
import { afterAll, describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { KAFKA_CLIENT_NAMES, openTopicReader, readToEnd, type ConsumedMessage, type KafkaClient } from '#kafka';
import { testKafka, uniqueName, waitFor } from '#testkit';

const TIMEOUT_MS = 120_000;

describe.each(KAFKA_CLIENT_NAMES)('readToEnd with %s', (clientName) => {
  const client: KafkaClient = testKafka(clientName);
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  });

  async function topic(partitions: number, records: number): Promise<string> {
    const name = uniqueName('read-to-end');
    const admin = await client.admin();
    await admin.createTopics([{ name, partitions, compacted: true }]);
    cleanup.push(async () => {
      await admin.deleteTopics([name]);
      await admin.close();
    });
    if (records > 0) {
      const producer = await client.producer();
      // Partition 2 (of 3) stays empty: an empty partition is at its end from the start.
      await producer.send(Array.from({ length: records }, (_, i) => ({ topic: name, key: `k${i % 7}`, value: i % 5 === 4 ? null : Buffer.from(`v${i}`), partition: i % Math.min(2, partitions) })));
      await producer.close();
    }
    return name;
  }

  it('reads every partition up to its end at the start, tombstones included, and commits nothing', async () => {
    const name = await topic(3, 300);
    const groupId = uniqueName('reader');
    const seen: ConsumedMessage[] = [];
    const progress = await readToEnd(client, { topics: [name], groupId, onBatch: async (batch) => void seen.push(...batch.messages) });
    expect(progress).toEqual({ records: 300, remainingPartitions: 0, caughtUp: true });
    expect(seen).toHaveLength(300);
    expect(seen.filter((m) => m.value === null)).toHaveLength(60);
    const admin = await client.admin();
    try {
      const committed = await admin.groupOffsets(groupId, name);
      expect([...committed.values()].every((offset) => offset < 0n)).toBe(true);
    } finally {
      await admin.close();
    }
  }, TIMEOUT_MS);

  it('resolves at once for an empty topic', async () => {
    const name = await topic(2, 0);
    expect(await readToEnd(client, { topics: [name], onBatch: async () => undefined })).toMatchObject({ records: 0, caughtUp: true });
  }, TIMEOUT_MS);

  it('fails with the handler\'s error when a batch cannot be handled', async () => {
    const name = await topic(1, 10);
    const poison = new Error('cannot decode');
    await expect(readToEnd(client, { topics: [name], onBatch: async () => { throw poison; } })).rejects.toBe(poison);
  }, TIMEOUT_MS);

  it('fails with a retriable TETHER_KAFKA naming what is left when the end is not reached in time', async () => {
    const name = await topic(1, 10);
    // 1 ms runs out while the reader is still joining its group.
    const error = await readToEnd(client, { topics: [name], timeoutMs: 1, onBatch: async () => undefined }).then(() => undefined, (err: unknown) => err);
    expect(TetherError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TETHER_KAFKA', retriable: true, context: { remaining: [`${name}:0`] } });
  }, TIMEOUT_MS);

  it('follows after the end when opened as a reader, until stopped', async () => {
    const name = await topic(2, 20);
    const seen: ConsumedMessage[] = [];
    const reader = await openTopicReader(client, { topics: [name], onBatch: async (batch) => void seen.push(...batch.messages) });
    cleanup.push(() => reader.stop());
    await reader.caughtUp;
    expect(reader.progress()).toMatchObject({ records: 20, caughtUp: true });
    const producer = await client.producer();
    await producer.send([{ topic: name, key: 'later', value: Buffer.from('later') }]);
    await producer.close();
    await waitFor(() => seen.some((m) => m.key?.toString() === 'later'), { what: 'the record written after the end' });
    await reader.stop();
  }, TIMEOUT_MS);
});
