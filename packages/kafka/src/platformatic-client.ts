// @platformatic/kafka adapter: the faster producer on these machines
// (reference, section 0). Consumption gathers the message stream into chunks
// so each eachBatch call sees what arrived while the previous one ran.
import {
  Admin as PltAdmin, Consumer as PltConsumer, Producer as PltProducer, ProduceAcks,
  compatibilityPartitioner, type Message, type MessagesStream,
} from '@platformatic/kafka';
import type { Logger } from '#log';
import type {
  Admin, ConsumeOptions, ConsumedBatch, Consumer, ConsumerOptions, KafkaClient, KafkaConnection,
  PartitionOffsets, ProduceRecord, Producer, TopicSpec,
} from './types.ts';
import {
  DEFAULT_MAX_BATCH_SIZE, DEFAULT_PARTITION_CONCURRENCY, MAX_REQUEST_BYTES, chunkBySize, headersToStrings, kafkaError,
  retryTransient, topicConfigEntries, untilReady, wrapped,
} from './shared.ts';

type PltMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export function platformaticClient(connection: KafkaConnection, log: Logger): KafkaClient {
  const base = { clientId: connection.clientId, bootstrapBrokers: [...connection.brokers], retries: 8, retryDelay: 250 };

  return {
    name: 'platformatic',
    staticMembership: true,
    async producer(): Promise<Producer> {
      let roundRobin = 0;
      const producer = new PltProducer({
        ...base,
        // A send retried after a lost acknowledgement must not write its records twice.
        idempotent: true,
        acks: ProduceAcks.ALL,
        autocreateTopics: false,
        // Same placement as the Java client and kafkajs, so keyed records
        // land on the same partition whichever adapter wrote them.
        partitioner: (message, key) => (key ? compatibilityPartitioner(message, key) : roundRobin++),
      });
      return {
        async send(records: readonly ProduceRecord[]) {
          for (const chunk of chunkBySize(records, MAX_REQUEST_BYTES)) await wrapped('platformatic', 'send', () => sendChunk(chunk));
        },
        close: () => wrapped('platformatic', 'producer close', () => producer.close()),
      };

      async function sendChunk(records: readonly ProduceRecord[]): Promise<void> {
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
      }
    },

    consumer(options: ConsumerOptions): Consumer {
      const consumer = new PltConsumer({
        ...base,
        groupId: options.groupId,
        ...(options.groupInstanceId === undefined ? {} : { groupInstanceId: options.groupInstanceId }),
        maxWaitTime: options.maxWaitMs ?? 500,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
        // The client refuses a rebalance timeout shorter than the session (its default is 102 s).
        rebalanceTimeout: Math.max(102_000, options.sessionTimeoutMs ?? 30_000),
        heartbeatInterval: 3_000,
        autocommit: false,
        ...(options.maxBytesPerPartition ? { maxBytesPerPartition: options.maxBytesPerPartition } : {}),
      });
      let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
      let stopping = false;
      let paused = false;
      let loop: Promise<void> | undefined;
      let resumeFlow: () => void = () => {};
      let drained: () => Promise<void> = async () => {};
      // Set once the consumer stopped on its own (a handler threw, the stream failed): stop() waits for it.
      let crashed: Promise<void> | undefined;

      async function close(): Promise<void> {
        await drained();
        await loop;
        await stream?.close();
        await consumer.close(true);
      }

      /** The consumer stops for good: no further batch, the group is left, onCrash is told once. */
      function crash(run: ConsumeOptions, err: unknown): void {
        if (stopping) return;
        stopping = true;
        const reported = err instanceof HandlerFailed ? err.error : kafkaError('platformatic', 'consume', err);
        log.error({ err: reported, component: 'platformatic-consumer' }, 'consumer stopped on an error');
        crashed = close().catch((closeErr: unknown) => log.warn({ err: closeErr }, 'consumer did not close cleanly after stopping'));
        run.onCrash?.(reported);
      }

      /** One chunk's messages as batches per partition, handled up to partitionConcurrency at once. */
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
            // The client gives undefined for a null key or value (a tombstone); zero-length stays zero-length.
            key: m.key ?? null,
            value: m.value ?? null,
            timestamp: Number(m.timestamp),
            headers: headersToStrings(m.headers),
          });
          entry.last = m;
        }
        const commit = run.commitOffsets ?? true;
        const pending = [...byPartition.values()];
        let failure: unknown;
        const worker = async () => {
          for (let next = pending.shift(); next && failure === undefined; next = pending.shift()) {
            try {
              await run.eachBatch(next.batch);
            } catch (error) {
              failure ??= new HandlerFailed(error);
              return;
            }
            if (commit) await next.last.commit();
          }
        };
        const workers = Math.max(1, Math.min(run.partitionConcurrency ?? DEFAULT_PARTITION_CONCURRENCY, pending.length));
        await Promise.all(Array.from({ length: workers }, worker));
        if (failure !== undefined) throw failure;
      }

      /**
       * Flowing mode: messages gather while a batch is handled; the stream is
       * paused while a batch is in hand (its commit must land before the next
       * batch of the same partition) and when the gathered chunk is full.
       * (Pulling with read() until null stalled the stream's fetch loop under
       * load; 'data' is the mode the client is built and tested for.)
       */
      function pump(run: ConsumeOptions, s: MessagesStream<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
        const max = run.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
        let chunk: PltMessage[] = [];
        let scheduled = false;
        let flushing: Promise<void> | undefined;
        const flowIfAllowed = () => {
          if (!stopping && !paused && !flushing && chunk.length < max) s.resume();
        };
        const flush = () => {
          scheduled = false;
          if (stopping || flushing || chunk.length === 0) return;
          s.pause();
          const batch = chunk;
          chunk = [];
          flushing = deliver(run, batch)
            .catch((err: unknown) => crash(run, err))
            .finally(() => {
              flushing = undefined;
              if (chunk.length > 0 && !stopping) schedule();
              flowIfAllowed();
            });
        };
        const schedule = () => {
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        };
        s.on('data', (m: PltMessage) => {
          chunk.push(m);
          if (chunk.length >= max) s.pause();
          schedule();
        });
        resumeFlow = flowIfAllowed;
        return new Promise<void>((resolve) => {
          drained = async () => {
            s.pause();
            while (flushing) await flushing;
            resolve();
          };
        });
      }

      return {
        async run(run: ConsumeOptions) {
          stream = await wrapped('platformatic', 'consumer run', () => consumer.consume({
            topics: [...run.topics],
            autocommit: false,
            mode: 'committed',
            fallbackMode: run.fromBeginning ? 'earliest' : 'latest',
          }));
          stream.on('error', (err) => crash(run, err));
          loop = pump(run, stream);
        },
        pause() {
          paused = true;
          stream?.pause();
        },
        resume() {
          paused = false;
          resumeFlow();
        },
        async stop() {
          if (crashed) return crashed;
          stopping = true;
          await wrapped('platformatic', 'consumer stop', close);
        },
      };
    },

    async admin(): Promise<Admin> {
      const admin = new PltAdmin(base);
      // Offsets are listed through a consumer that never joins a group.
      const probe = new PltConsumer({ ...base, groupId: `tether-admin-probe-${process.pid}` });
      return {
        createTopics: (specs: readonly TopicSpec[]) => wrapped('platformatic', 'createTopics', async () => {
          const existing = new Set(await admin.listTopics());
          for (const spec of specs.filter((s) => !existing.has(s.name))) {
            await admin.createTopics({
              topics: [spec.name],
              partitions: spec.partitions,
              replicas: 1,
              configs: Object.entries(topicConfigEntries(spec)).map(([name, value]) => ({ name, value })),
            }).catch((err: unknown) => {
              // Another service created it since the listing (services start together): left as it is, as kafkajs does.
              if (!onlyAlreadyExists(err)) throw err;
            });
          }
          if (specs.length > 0) {
            const names = specs.map((spec) => spec.name);
            await untilReady(`topics ${names.join(', ')}`, async () => {
              const metadata = await probe.metadata({ topics: names, forceUpdate: true });
              return names.every((name) => {
                const partitions = metadata.topics.get(name)?.partitions ?? [];
                return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
              });
            });
          }
        }),
        deleteTopics: (names) => wrapped('platformatic', 'deleteTopics', async () => {
          if (names.length > 0) await admin.deleteTopics({ topics: [...names] });
        }),
        listTopics: () => wrapped('platformatic', 'listTopics', () => admin.listTopics()),
        topicOffsets: (topic) => wrapped('platformatic', 'topicOffsets', async (): Promise<PartitionOffsets[]> => {
          const [low, high] = await Promise.all([
            retryTransient(() => probe.listOffsets({ topics: [topic], timestamp: -2n })),
            retryTransient(() => probe.listOffsets({ topics: [topic], timestamp: -1n })),
          ]);
          const lows = low.get(topic) ?? [];
          const highs = high.get(topic) ?? [];
          return highs.map((h, partition) => ({ partition, low: lows[partition] ?? 0n, high: h }));
        }),
        groupOffsets: (groupId, topic) => wrapped('platformatic', 'groupOffsets', async () => {
          const [group] = await retryTransient(() => admin.listConsumerGroupOffsets({ groups: [groupId] }));
          const out = new Map<number, bigint>();
          for (const t of group?.topics ?? []) {
            if (t.name !== topic) continue;
            for (const p of t.partitions) out.set(p.partitionIndex, p.committedOffset);
          }
          return out;
        }),
        close: () => wrapped('platformatic', 'admin close', async () => {
          await probe.close(true);
          await admin.close();
        }),
      };
    },
  };
}

/** A handler's throw, carried through the delivery loop to onCrash as the handler's own error. */
class HandlerFailed extends Error {
  readonly error: unknown;
  constructor(error: unknown) {
    super('eachBatch handler threw', { cause: error });
    this.error = error;
    this.name = 'TetherHandlerFailed';
  }
}

/** TOPIC_ALREADY_EXISTS, alone or as every error of a grouped one. */
function onlyAlreadyExists(err: unknown): boolean {
  const e = err as { apiId?: unknown; errors?: unknown } | null;
  if (e?.apiId === 'TOPIC_ALREADY_EXISTS') return true;
  return Array.isArray(e?.errors) && e.errors.length > 0 && e.errors.every(onlyAlreadyExists);
}
