// The Kafka interface's contract (packages/kafka/src/types.ts), point by
// point, against both adapters on the real broker: what the interface says
// holds for kafkajs and @platformatic/kafka alike, or the difference is the
// documented one.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Admin as PltAdmin, Connection, describeProducersV0 } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { TetherError, tetherError } from '#errors';
import { KAFKA_CLIENT_NAMES, createKafkaClient, type ConsumedBatch, type ConsumedMessage, type KafkaClient } from '#kafka';
import { captureLogger, freePort, testConfig, testKafka, uniqueName, waitFor } from '#testkit';

const config = testConfig();
const TIMEOUT_MS = 180_000;

/** Producers the broker tracks on a partition (DescribeProducers): an idempotent producer has a producer id. */
async function activeProducers(topic: string, partition: number): Promise<bigint[]> {
  const [host, port] = config.TETHER_KAFKA_BROKERS[0]!.split(':');
  // Right after the topic is created a fresh broker may not lead its partition yet ("not the current leader"): asked again until it does.
  return waitFor(async () => {
    const connection = new Connection('tether-contract-test');
    await connection.connect(host!, Number(port));
    try {
      const response = await describeProducersV0.api.async(connection, [{ name: topic, partitionIndexes: [partition] }]);
      return response.topics[0]!.partitions[0]!.activeProducers.map((p) => p.producerId);
    } finally {
      await connection.close();
    }
  }, { timeoutMs: 60_000, what: `the producers of ${topic}` });
}

/** The group's members as the broker sees them: member id and static instance id (null for a dynamic member). */
async function groupMembers(groupId: string): Promise<Array<{ id: string; groupInstanceId: string | null; partitions: number }>> {
  const admin = new PltAdmin({ clientId: 'tether-contract-test', bootstrapBrokers: [...config.TETHER_KAFKA_BROKERS] });
  try {
    const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    return [...(group?.members.values() ?? [])].map((m) => ({
      id: m.id,
      groupInstanceId: m.groupInstanceId ?? null,
      partitions: [...(m.assignments?.values() ?? [])].reduce((n, a) => n + a.partitions.length, 0),
    }));
  } finally {
    await admin.close();
  }
}

const STATIC_MEMBER = path.join(import.meta.dirname, 'fixtures/static-member.ts');

describe.each(KAFKA_CLIENT_NAMES)('Kafka contract: %s', (clientName) => {
  const { log } = captureLogger();
  const client: KafkaClient = testKafka(clientName, log);
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  });

  async function topic(partitions: number): Promise<string> {
    const name = uniqueName('contract');
    const admin = await client.admin();
    try {
      await admin.createTopics([{ name, partitions }]);
    } finally {
      await admin.close();
    }
    cleanup.push(async () => {
      const admin = await client.admin();
      await admin.deleteTopics([name]).finally(() => admin.close());
    });
    return name;
  }

  async function produce(name: string, records: Array<{ key: string | null; value: Buffer | null; partition?: number }>): Promise<void> {
    const producer = await client.producer();
    try {
      await producer.send(records.map((r) => ({ topic: name, ...r })));
    } finally {
      await producer.close();
    }
  }

  /** Runs a consumer in a fresh group from the beginning; stopped after the test. */
  async function consume(name: string, eachBatch: (batch: ConsumedBatch) => Promise<void>, extra: { maxBatchSize?: number } = {}) {
    const consumer = client.consumer({ groupId: uniqueName('contract'), maxWaitMs: 100 });
    cleanup.push(() => consumer.stop());
    await consumer.run({ topics: [name], fromBeginning: true, eachBatch, ...extra });
    return consumer;
  }

  it('produces idempotently: the broker tracks a producer id for what was sent', async () => {
    const name = await topic(1);
    expect(await activeProducers(name, 0)).toEqual([]);
    await produce(name, [{ key: 'k', value: Buffer.from('v'), partition: 0 }]);
    const ids = await activeProducers(name, 0);
    expect(ids).toHaveLength(1);
    expect(ids[0]!).toBeGreaterThanOrEqual(0n);
  }, TIMEOUT_MS);

  it('stops on a throwing handler, even with a retriable error: called once, nothing committed, onCrash gets that error', async () => {
    const name = await topic(1);
    await produce(name, Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: Buffer.from(`v${i}`) })));
    const groupId = uniqueName('contract-throw');
    const thrown = tetherError('TETHER_SINK_WRITE', 'downstream unavailable', { retriable: true });
    let calls = 0;
    let callsAtCrash = -1;
    let crashed: unknown;
    const consumer = client.consumer({ groupId, maxWaitMs: 100 });
    await consumer.run({
      topics: [name],
      fromBeginning: true,
      eachBatch: async () => {
        calls += 1;
        throw thrown;
      },
      onCrash: (err) => {
        crashed = err;
        callsAtCrash = calls;
      },
    });
    await waitFor(() => crashed !== undefined, { what: 'onCrash' });
    await consumer.stop();
    expect(crashed).toBe(thrown);
    expect(callsAtCrash).toBe(1);
    expect(calls).toBe(1);
    const admin = await client.admin();
    try {
      expect((await admin.groupOffsets(groupId, name)).get(0) ?? -1n).toBeLessThanOrEqual(0n);
    } finally {
      await admin.close();
    }
  }, TIMEOUT_MS);

  it('handles several partitions at once, never two batches of one partition at once', async () => {
    const name = await topic(3);
    await produce(name, [0, 1, 2].flatMap((partition) => Array.from({ length: 30 }, (_, i) => ({ key: `p${partition}-${i}`, value: Buffer.from('x'), partition }))));
    const inFlight = new Set<number>();
    let overlapped = false;
    let samePartitionTwice = false;
    const seen: ConsumedMessage[] = [];
    await consume(name, async (batch) => {
      if (inFlight.has(batch.partition)) samePartitionTwice = true;
      inFlight.add(batch.partition);
      const together = () => (overlapped ||= inFlight.size >= 2);
      try {
        // Hold the first batches until another partition's batch is in hand too.
        await waitFor(together, { what: 'a second partition handled at the same time', timeoutMs: 60_000 });
        seen.push(...batch.messages);
      } finally {
        inFlight.delete(batch.partition);
      }
    });
    await waitFor(() => seen.length >= 90, { what: '90 messages' });
    expect(overlapped).toBe(true);
    expect(samePartitionTwice).toBe(false);
    for (const partition of [0, 1, 2]) {
      const offsets = seen.filter((m) => m.partition === partition).map((m) => m.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : 1)));
    }
  }, TIMEOUT_MS);

  it('honours maxBatchSize, and hands at most 5,000 messages to one call by default', async () => {
    const name = await topic(1);
    await produce(name, Array.from({ length: 6_000 }, (_, i) => ({ key: null, value: Buffer.from(String(i)) })));
    const small: number[] = [];
    await consume(name, async (batch) => void small.push(batch.messages.length), { maxBatchSize: 40 });
    const byDefault: number[] = [];
    await consume(name, async (batch) => void byDefault.push(batch.messages.length));
    await waitFor(() => small.reduce((a, b) => a + b, 0) >= 6_000 && byDefault.reduce((a, b) => a + b, 0) >= 6_000, { what: '6,000 messages twice' });
    expect(Math.max(...small)).toBeLessThanOrEqual(40);
    expect(Math.max(...byDefault)).toBeLessThanOrEqual(5_000);
  }, TIMEOUT_MS);

  it('keeps a zero-length value and key as zero-length, and a null value as a tombstone', async () => {
    const name = await topic(1);
    await produce(name, [
      { key: 'empty', value: Buffer.alloc(0) },
      { key: 'tombstone', value: null },
      { key: '', value: Buffer.from('empty key') },
      { key: null, value: Buffer.from('no key') },
    ]);
    const seen: ConsumedMessage[] = [];
    await consume(name, async (batch) => void seen.push(...batch.messages));
    await waitFor(() => seen.length >= 4, { what: '4 messages' });
    const [empty, tombstone, emptyKey, noKey] = seen;
    expect(empty!.value).toEqual(Buffer.alloc(0));
    expect(tombstone!.value).toBeNull();
    expect(emptyKey!.key).toEqual(Buffer.alloc(0));
    expect(noKey!.key).toBeNull();
  }, TIMEOUT_MS);

  it('retries an offset lookup while the client calls the error retriable (a topic that appears meanwhile)', async () => {
    const name = uniqueName('contract-late');
    const admin = await client.admin();
    cleanup.push(async () => {
      await admin.deleteTopics([name]).catch(() => undefined);
      await admin.close();
    });
    // The topic does not exist yet: UNKNOWN_TOPIC_OR_PARTITION, which both clients call retriable.
    const lookup = admin.topicOffsets(name);
    const creator = await client.admin();
    await creator.createTopics([{ name, partitions: 2 }]).finally(() => creator.close());
    const offsets = await lookup;
    expect(offsets.map((o) => o.partition)).toEqual([0, 1]);
    expect(offsets.every((o) => o.high === 0n && o.low === 0n)).toBe(true);
  }, TIMEOUT_MS);

  it('wraps failures as TETHER_KAFKA with the client\'s retriable verdict', async () => {
    // Refused by the broker (INVALID_SESSION_TIMEOUT): not retriable.
    const refused = client.consumer({ groupId: uniqueName('refused'), sessionTimeoutMs: 4_000, maxWaitMs: 100 });
    const name = await topic(1);
    const error = await refused.run({ topics: [name], fromBeginning: true, eachBatch: async () => undefined }).then(() => undefined, (err: unknown) => err);
    await refused.stop().catch(() => undefined);
    expect(TetherError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'TETHER_KAFKA', retriable: false });

    // Nobody listening: network trouble, retriable.
    const nowhere = createKafkaClient(clientName, { brokers: [`127.0.0.1:${await freePort()}`], clientId: 'contract-nowhere' }, log);
    const unreachable = await nowhere.admin().then(async (admin) => {
      try {
        return await admin.listTopics();
      } finally {
        await admin.close().catch(() => undefined);
      }
    }).then(() => undefined, (err: unknown) => err);
    expect(TetherError.is(unreachable)).toBe(true);
    expect(unreachable).toMatchObject({ code: 'TETHER_KAFKA', retriable: true });
  }, TIMEOUT_MS);

  it('creates topics that another admin creates at the same moment without failing (services start together)', async () => {
    const names = [uniqueName('contract-race'), uniqueName('contract-race')];
    const admins = await Promise.all([client.admin(), client.admin(), client.admin()]);
    cleanup.push(async () => {
      await admins[0]!.deleteTopics(names).catch(() => undefined);
      for (const admin of admins) await admin.close();
    });
    await Promise.all(admins.map((admin) => admin.createTopics(names.map((name) => ({ name, partitions: 2 })))));
    const listed = await admins[0]!.listTopics();
    for (const name of names) expect(listed).toContain(name);
  }, TIMEOUT_MS);

  it('joins as a static member where the client can (staticMembership), as a dynamic one where it cannot', async () => {
    const name = await topic(2);
    const groupId = uniqueName('contract-static');
    const instance = uniqueName('instance');
    const consumer = client.consumer({ groupId, groupInstanceId: instance, maxWaitMs: 100 });
    cleanup.push(() => consumer.stop());
    await consumer.run({ topics: [name], fromBeginning: true, eachBatch: async () => undefined });
    const members = await waitFor(async () => {
      const list = await groupMembers(groupId);
      return list.length === 1 && list[0]!.partitions === 2 ? list : undefined;
    }, { what: 'one member holding both partitions' });
    expect(members[0]!.groupInstanceId).toBe(client.staticMembership ? instance : null);
    expect(client.staticMembership).toBe(clientName === 'platformatic');
    await consumer.stop();
  }, TIMEOUT_MS);

  it.runIf(clientName === 'platformatic')('takes the partitions of a killed static member back at once, long before its session (300 s) ends', async () => {
    const name = await topic(2);
    const groupId = uniqueName('contract-restart');
    const instance = uniqueName('instance');
    await produce(name, [{ key: 'before', value: Buffer.from('before'), partition: 0 }, { key: 'before', value: Buffer.from('before'), partition: 1 }]);
    const child = spawn(process.execPath, [STATIC_MEMBER, clientName, name, groupId, instance], { env: process.env, stdio: ['ignore', 'pipe', 'inherit'] });
    const output: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => output.push(String(chunk)));
    const exited = once(child, 'exit');
    cleanup.push(async () => void child.kill('SIGKILL'));
    await waitFor(() => output.join('').split('consuming').length > 2, { what: 'the child consuming both partitions' });
    const [deadMember] = await groupMembers(groupId);
    child.kill('SIGKILL');
    await exited;

    // Same instance id: the broker replaces the dead member instead of waiting 300 s for its session.
    await produce(name, [{ key: 'after', value: Buffer.from('after'), partition: 0 }, { key: 'after', value: Buffer.from('after'), partition: 1 }]);
    const after = new Set<number>();
    const consumer = client.consumer({ groupId, groupInstanceId: instance, sessionTimeoutMs: 300_000, maxWaitMs: 100 });
    cleanup.push(() => consumer.stop());
    await consumer.run({
      topics: [name],
      fromBeginning: true,
      eachBatch: async (batch) => {
        for (const m of batch.messages) if (m.key?.toString() === 'after') after.add(m.partition);
      },
    });
    await waitFor(() => after.size === 2, { what: 'the records written after the kill, on both partitions', timeoutMs: 120_000 });
    const members = await groupMembers(groupId);
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ groupInstanceId: instance, partitions: 2 });
    expect(members[0]!.id).not.toBe(deadMember!.id);
    await consumer.stop();
  }, TIMEOUT_MS);
});
