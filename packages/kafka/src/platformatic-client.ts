// @platformatic/kafka adapter: the faster producer on these machines
// (reference, section 0). Consumption reads the message stream in drained
// chunks so each eachBatch call sees what one fetch brought.
import { once } from 'node:events';
import {
  Admin as PltAdmin, Consumer as PltConsumer, Producer as PltProducer, ProduceAcks,
  compatibilityPartitioner, type Message, type MessagesStream,
} from '@platformatic/kafka';
import type { Logger } from '#log';
import type {
  Admin, ConsumeOptions, ConsumedBatch, Consumer, ConsumerOptions, KafkaClient, KafkaConnection,
  PartitionOffsets, ProduceRecord, Producer, TopicSpec,
} from './types.ts';
import { headersToStrings, topicConfigEntries } from './shared.ts';

type PltMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export function platformaticClient(connection: KafkaConnection, log: Logger): KafkaClient {
  const base = { clientId: connection.clientId, bootstrapBrokers: [...connection.brokers], retries: 8, retryDelay: 250 };

  return {
    name: 'platformatic',
    async producer(): Promise<Producer> {
      let roundRobin = 0;
      const producer = new PltProducer({
        ...base,
        acks: ProduceAcks.ALL,
        autocreateTopics: false,
        // Same placement as the Java client and kafkajs, so keyed records
        // land on the same partition whichever adapter wrote them.
        partitioner: (message, key) => (key ? compatibilityPartitioner(message, key) : roundRobin++),
      });
      return {
        async send(records: readonly ProduceRecord[]) {
          if (records.length === 0) return;
          await producer.send({
            messages: records.map((r) => ({
              topic: r.topic,
              key: r.key === null ? undefined : Buffer.isBuffer(r.key) ? r.key : Buffer.from(r.key),
              value: r.value ?? undefined,
              headers: r.headers
                ? new Map(Object.entries(r.headers).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]))
                : undefined,
              partition: r.partition,
              timestamp: r.timestamp === undefined ? undefined : BigInt(r.timestamp),
            })),
          });
        },
        close: () => producer.close(),
      };
    },

    consumer(options: ConsumerOptions): Consumer {
      const consumer = new PltConsumer({
        ...base,
        groupId: options.groupId,
        maxWaitTime: options.maxWaitMs ?? 500,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: 3_000,
        autocommit: false,
        ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
      });
      let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
      let stopping = false;
      let paused = false;
      let loop: Promise<void> | undefined;

      async function deliver(run: ConsumeOptions, chunk: PltMessage[]): Promise<void> {
        const byPartition = new Map<string, { batch: ConsumedBatch; last: PltMessage }>();
        for (const m of chunk) {
          const id = `${m.topic}\u0000${m.partition}`;
          let entry = byPartition.get(id);
          if (!entry) byPartition.set(id, (entry = { batch: { topic: m.topic, partition: m.partition, messages: [] }, last: m }));
          entry.batch.messages.push({
            topic: m.topic,
            partition: m.partition,
            offset: m.offset,
            key: m.key && m.key.length > 0 ? m.key : null,
            value: m.value && m.value.length > 0 ? m.value : null,
            timestamp: Number(m.timestamp),
            headers: headersToStrings(m.headers),
          });
          entry.last = m;
        }
        for (const { batch, last } of byPartition.values()) {
          await run.eachBatch(batch);
          await last.commit();
        }
      }

      async function pump(run: ConsumeOptions, s: MessagesStream<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
        const max = run.maxBatchSize ?? 5_000;
        while (!stopping) {
          const chunk: PltMessage[] = [];
          let m: PltMessage | null;
          while (chunk.length < max && (m = s.read() as PltMessage | null) !== null) chunk.push(m);
          if (chunk.length > 0) {
            await deliver(run, chunk);
            continue;
          }
          if (s.destroyed || s.readableEnded) return;
          await Promise.race([once(s, 'readable'), once(s, 'close')]);
        }
      }

      return {
        async run(run: ConsumeOptions) {
          stream = await consumer.consume({
            topics: [...run.topics],
            autocommit: false,
            mode: 'committed',
            fallbackMode: run.fromBeginning ? 'earliest' : 'latest',
          });
          stream.on('error', (err) => {
            if (!stopping) run.onCrash?.(err);
          });
          const s = stream;
          loop = pump(run, s).catch((err: unknown) => {
            if (stopping) return;
            log.error({ err, component: 'platformatic-consumer' }, 'consumer stopped on an error');
            run.onCrash?.(err);
          });
        },
        pause() {
          if (!paused) stream?.pause();
          paused = true;
        },
        resume() {
          if (paused) stream?.resume();
          paused = false;
        },
        async stop() {
          stopping = true;
          stream?.emit('readable');
          await loop;
          await stream?.close();
          await consumer.close(true);
        },
      };
    },

    async admin(): Promise<Admin> {
      const admin = new PltAdmin(base);
      // Offsets are listed through a consumer that never joins a group.
      const probe = new PltConsumer({ ...base, groupId: `tether-admin-probe-${process.pid}` });
      return {
        async createTopics(specs: readonly TopicSpec[]) {
          const existing = new Set(await admin.listTopics());
          for (const spec of specs.filter((s) => !existing.has(s.name))) {
            await admin.createTopics({
              topics: [spec.name],
              partitions: spec.partitions,
              replicas: 1,
              configs: Object.entries(topicConfigEntries(spec)).map(([name, value]) => ({ name, value })),
            });
          }
          if (specs.length > 0) await probe.metadata({ topics: specs.map((s) => s.name), forceUpdate: true });
        },
        async deleteTopics(names) {
          if (names.length > 0) await admin.deleteTopics({ topics: [...names] });
        },
        listTopics: () => admin.listTopics(),
        async topicOffsets(topic): Promise<PartitionOffsets[]> {
          const [low, high] = await Promise.all([
            probe.listOffsets({ topics: [topic], timestamp: -2n }),
            probe.listOffsets({ topics: [topic], timestamp: -1n }),
          ]);
          const lows = low.get(topic) ?? [];
          const highs = high.get(topic) ?? [];
          return highs.map((h, partition) => ({ partition, low: lows[partition] ?? 0n, high: h }));
        },
        async groupOffsets(groupId, topic) {
          const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
          const out = new Map<number, bigint>();
          for (const t of group?.topics ?? []) {
            if (t.name !== topic) continue;
            for (const p of t.partitions) out.set(p.partitionIndex, p.committedOffset);
          }
          return out;
        },
        async close() {
          await probe.close(true);
          await admin.close();
        },
      };
    },
  };
}
