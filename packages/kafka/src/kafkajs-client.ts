// kafkajs adapter. kafkajs is unmaintained but the project's named client; its
// eachBatch consumer is the fastest reader measured here (reference, section 0).
import { Kafka, Partitioners, logLevel, type Consumer as KjsConsumer, type LogEntry } from 'kafkajs';
import type { Logger } from '#log';
import type {
  Admin, ConsumeOptions, ConsumedMessage, Consumer, ConsumerOptions, KafkaClient, KafkaConnection,
  PartitionOffsets, ProduceRecord, Producer, TopicSpec,
} from './types.ts';
import {
  DEFAULT_MAX_BATCH_SIZE, DEFAULT_PARTITION_CONCURRENCY, MAX_REQUEST_BYTES, chunkBySize, clientSaysRetriable, groupByTopic,
  headersToStrings, kafkaError, retryTransient, topicConfigEntries, untilReady, wrapped,
} from './shared.ts';

/** Retries of one request inside the client, as the other adapter does (8). */
const CLIENT_RETRY = { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 };

export function kafkajsClient(connection: KafkaConnection, log: Logger): KafkaClient {
  const kafka = new Kafka({
    clientId: connection.clientId,
    brokers: [...connection.brokers],
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => forwardLog(log, entry),
    retry: CLIENT_RETRY,
  });

  return {
    name: 'kafkajs',
    staticMembership: false,
    async producer(): Promise<Producer> {
      // The default partitioner is the Java client's murmur2 (named, which also silences kafkajs's v2 migration warning).
      // Idempotent as the other adapter: kafkajs then sends one request at a time per broker (its broker lock).
      // Its retries stay bounded like the other adapter's (kafkajs would default to retrying forever).
      const producer = kafka.producer({
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        idempotent: true,
        retry: CLIENT_RETRY,
      });
      await wrapped('kafkajs', 'producer connect', () => producer.connect());
      return {
        async send(records: readonly ProduceRecord[]) {
          for (const chunk of chunkBySize(records, MAX_REQUEST_BYTES)) await wrapped('kafkajs', 'send', () => sendChunk(chunk));
        },
        close: () => wrapped('kafkajs', 'producer close', () => producer.disconnect()),
      };

      async function sendChunk(records: readonly ProduceRecord[]): Promise<void> {
        const topicMessages = [...groupByTopic(records)].map(([topic, recs]) => ({
          topic,
          messages: recs.map((r) => ({
            key: r.key,
            value: r.value,
            headers: r.headers,
            partition: r.partition,
            timestamp: r.timestamp === undefined ? undefined : String(r.timestamp),
          })),
        }));
        await producer.sendBatch({ topicMessages, acks: -1 });
      }
    },

    consumer(options: ConsumerOptions): Consumer {
      if (options.groupInstanceId !== undefined) {
        log.warn({ groupId: options.groupId, groupInstanceId: options.groupInstanceId }, 'kafkajs cannot join as a static member: joining as a dynamic one (a restart waits for the old session to time out)');
      }
      const consumer: KjsConsumer = kafka.consumer({
        groupId: options.groupId,
        maxWaitTimeInMs: options.maxWaitMs ?? 500,
        sessionTimeout: options.sessionTimeoutMs ?? 30_000,
        allowAutoTopicCreation: false,
        // Transient broker errors are retried, and once retries run out the consumer rejoins
        // (a busy broker or a rebalance storm must not stop a service for good). A handler's
        // throw is never retried (HandlerFailed is not retriable to kafkajs) and never
        // restarts the consumer: it stops and reaches onCrash, as with the other adapter.
        retry: {
          retries: 5,
          initialRetryTime: 300,
          maxRetryTime: 5_000,
          restartOnFailure: async (err: Error) => {
            const restart = handlerFailure === undefined && clientSaysRetriable(err) && ++restarts <= MAX_CONSECUTIVE_RESTARTS;
            log.warn({ err, groupId: options.groupId, restart, restarts }, restart ? 'consumer failed: rejoining' : 'consumer failed: giving up');
            return restart;
          },
        },
        ...(options.maxBytesPerPartition
          ? { maxBytesPerPartition: options.maxBytesPerPartition, maxBytes: Math.max(10_485_760, 4 * options.maxBytesPerPartition) }
          : {}),
      });
      let topics: readonly string[] = [];
      // Reset by every batch handled, so only failures in a row add up.
      let restarts = 0;
      // The first error a handler threw: the consumer stops and onCrash gets this error.
      let handlerFailure: { error: unknown } | undefined;
      // kafkajs ignores commits once disconnect() has begun, so stop() first
      // lets the batches in hand finish and commit, then disconnects.
      let stopping = false;
      const inflight = new Set<Promise<void>>();
      // kafkajs refuses pause() before run(): the wanted state is kept and applied once running.
      let running = false;
      let wantPaused = false;
      const setPaused = (value: boolean) => {
        wantPaused = value;
        if (!running) return;
        const list = topics.map((topic) => ({ topic }));
        if (value) consumer.pause(list);
        else consumer.resume(list);
      };
      return {
        async run(run: ConsumeOptions) {
          topics = run.topics;
          await wrapped('kafkajs', 'consumer connect', async () => {
            await consumer.connect();
            await consumer.subscribe({ topics: [...run.topics], fromBeginning: run.fromBeginning });
          });
          // A consumer that fails before it ever joins must fail run(), not leave it pending forever.
          let failedToJoin: (err: unknown) => void = () => {};
          const joined = new Promise<void>((resolve, reject) => {
            failedToJoin = reject;
            consumer.on(consumer.events.GROUP_JOIN, () => {
              restarts = 0;
              resolve();
            });
          });
          // Awaited below, once consumer.run() returns; until then a rejection must not count as unhandled.
          joined.catch(() => undefined);
          consumer.on(consumer.events.CRASH, (event) => {
            if (event.payload.restart) return;
            const error = handlerFailure ? handlerFailure.error : kafkaError('kafkajs', 'consume', event.payload.error);
            failedToJoin(error);
            run.onCrash?.(error);
          });
          const commit = run.commitOffsets ?? true;
          await wrapped('kafkajs', 'consumer run', () => consumer.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: run.partitionConcurrency ?? DEFAULT_PARTITION_CONCURRENCY,
            eachBatch: ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
              const work = (async () => {
                const max = run.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
                for (let start = 0; start < batch.messages.length; start += max) {
                  // A batch left unhandled here is redelivered to whoever owns the partition next.
                  if (stopping || handlerFailure || !isRunning() || isStale()) return;
                  const messages: ConsumedMessage[] = batch.messages.slice(start, start + max).map((m) => ({
                    topic: batch.topic,
                    partition: batch.partition,
                    offset: BigInt(m.offset),
                    key: m.key,
                    value: m.value,
                    timestamp: Number(m.timestamp),
                    headers: headersToStrings(m.headers),
                  }));
                  try {
                    await run.eachBatch({ topic: batch.topic, partition: batch.partition, messages });
                  } catch (error) {
                    handlerFailure ??= { error };
                    throw new HandlerFailed();
                  }
                  const last = messages[messages.length - 1]!.offset;
                  // resolveOffset moves the fetch position; commitOffsets makes it durable.
                  resolveOffset(String(last));
                  if (commit) await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: String(last + 1n) }]);
                  restarts = 0;
                  await heartbeat();
                }
              })();
              inflight.add(work);
              return work.finally(() => inflight.delete(work));
            },
          }));
          running = true;
          if (wantPaused) setPaused(true);
          await joined;
        },
        pause: () => setPaused(true),
        resume: () => setPaused(false),
        async stop() {
          stopping = true;
          if (running && inflight.size > 0) consumer.pause(topics.map((topic) => ({ topic })));
          await Promise.allSettled([...inflight]);
          await wrapped('kafkajs', 'consumer stop', () => consumer.disconnect());
        },
      };
    },

    async admin(): Promise<Admin> {
      const admin = kafka.admin();
      await wrapped('kafkajs', 'admin connect', () => admin.connect());
      return {
        createTopics: (specs: readonly TopicSpec[]) => wrapped('kafkajs', 'createTopics', async () => {
          const existing = new Set(await admin.listTopics());
          const missing = specs.filter((s) => !existing.has(s.name));
          if (missing.length === 0) return;
          await admin.createTopics({
            waitForLeaders: false,
            topics: missing.map((s) => ({
              topic: s.name,
              numPartitions: s.partitions,
              replicationFactor: 1,
              configEntries: Object.entries(topicConfigEntries(s)).map(([name, value]) => ({ name, value })),
            })),
          });
          const names = missing.map((spec) => spec.name);
          await untilReady(`topics ${names.join(', ')}`, async () => {
            const { topics } = await admin.fetchTopicMetadata({ topics: names });
            return topics.length === names.length && topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
          });
        }),
        deleteTopics: (names) => wrapped('kafkajs', 'deleteTopics', async () => {
          if (names.length > 0) await admin.deleteTopics({ topics: [...names] });
        }),
        listTopics: () => wrapped('kafkajs', 'listTopics', () => admin.listTopics()),
        topicOffsets: (topic) => wrapped('kafkajs', 'topicOffsets', async (): Promise<PartitionOffsets[]> => {
          const offsets = await retryTransient(() => admin.fetchTopicOffsets(topic));
          return offsets
            .map((o) => ({ partition: o.partition, low: BigInt(o.low), high: BigInt(o.high) }))
            .sort((a, b) => a.partition - b.partition);
        }),
        groupOffsets: (groupId, topic) => wrapped('kafkajs', 'groupOffsets', async () => {
          const [entry] = await retryTransient(() => admin.fetchOffsets({ groupId, topics: [topic] }));
          return new Map((entry?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        }),
        close: () => wrapped('kafkajs', 'admin close', () => admin.disconnect()),
      };
    },
  };
}

/** Rejoins in a row before a failing consumer is reported through onCrash. */
const MAX_CONSECUTIVE_RESTARTS = 10;

/**
 * Thrown to kafkajs in place of a handler's error: `retriable: false` makes its
 * retrier give up at once instead of handing the same batch to the handler
 * again; the handler's own error is kept by the adapter for onCrash.
 */
class HandlerFailed extends Error {
  readonly retriable = false;
  constructor() {
    super('eachBatch handler threw');
    this.name = 'TetherHandlerFailed';
  }
}

function forwardLog(log: Logger, entry: LogEntry): void {
  const { message, ...extra } = entry.log;
  const fields = { component: 'kafkajs', namespace: entry.namespace, ...extra };
  // kafkajs logs at ERROR what it is about to retry: every error response a
  // Connection receives (a topic just created and not yet known), a send it
  // will repeat (it carries retryCount), a group it re-joins or a consumer it
  // restarts. What finally fails reaches the caller, which reports it; here
  // those are warnings.
  const retried = entry.namespace === 'Connection' || 'retryCount' in extra || /re-joining|Restarting the consumer/.test(message);
  // Bounded retries on the idempotent producer are a choice (the other adapter's too), not news.
  if (message.startsWith('Limiting retries for the idempotent producer')) log.debug(fields, message);
  else if (entry.level <= logLevel.ERROR && !retried) log.error(fields, message);
  else log.warn(fields, message);
}
