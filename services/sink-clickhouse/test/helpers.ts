// Per-test isolation on the real servers: own topics (a prefix), own
// ClickHouse database (migrated), a producer and codec to feed the sink, and
// teardown of all of it.
import { CONSUMER_GROUPS, type TopicRole } from '#config';
import { createClickHouse, migrate, type ClickHouse } from '#clickhouse';
import type { KafkaClient, Producer } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient, type Codec, type RecordForTopic } from '#schemas';
import { createTopics, testConfig, testKafka, uniqueName, uniqueTopicPrefix, waitFor } from '#testkit';
import { loadSinkConfig, type SinkConfig } from '../src/config.ts';

export interface SinkTestEnv {
  prefix: string;
  database: string;
  topics: Record<TopicRole, string>;
  kafka: KafkaClient;
  codec: Codec;
  producer: Producer;
  ch: ClickHouse;
  /** Sink config for this test's topics and database (ops port picked free). */
  config(overrides?: Record<string, string>): SinkConfig;
  /** The environment a child sink process needs for this test. */
  childEnv(overrides?: Record<string, string>): NodeJS.ProcessEnv;
  produce<R extends TopicRole>(role: R, records: readonly RecordForTopic[R][], key: (r: RecordForTopic[R]) => string): Promise<void>;
  produceRaw(role: TopicRole, values: readonly (Buffer | null)[], key?: string): Promise<void>;
  /** Rows of a table after deduplication. */
  count(sql: string): Promise<number>;
  /**
   * Resolves once the sink stream's group has committed to the end of its topic.
   * The sink commits after ClickHouse acknowledged the whole INSERT, views
   * included; a row count of the main table alone can be seen before the
   * materialized view's copy of the same insert.
   */
  settled(stream: 'sinkEvents' | 'sinkIdentity' | 'sinkDlq' | 'sinkFindings', role: TopicRole): Promise<void>;
  close(): Promise<void>;
}

export async function sinkTestEnv(options: { clickhouseUrl?: string; partitions?: number } = {}): Promise<SinkTestEnv> {
  const base = testConfig();
  const clickhouseUrl = options.clickhouseUrl ?? base.TETHER_CLICKHOUSE_URL;
  const prefix = uniqueTopicPrefix();
  const database = uniqueName('sink');
  const kafka = testKafka('kafkajs');
  const topics = await createTopics(kafka, prefix, options.partitions ?? 3);
  const codec = await createCodec({
    registry: createRegistryClient(base.TETHER_SCHEMA_REGISTRY_URL),
    registryUrl: base.TETHER_SCHEMA_REGISTRY_URL,
    topicPrefix: prefix,
  });
  await migrate({
    clickhouse: { url: clickhouseUrl, username: base.TETHER_CLICKHOUSE_USER, password: base.TETHER_CLICKHOUSE_PASSWORD },
    database,
    log: createLogger({ service: 'test', level: 'warn' }),
  });
  const ch = createClickHouse({ url: clickhouseUrl, database, username: base.TETHER_CLICKHOUSE_USER, password: base.TETHER_CLICKHOUSE_PASSWORD });
  const producer = await kafka.producer();

  const envFor = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...process.env,
    TETHER_TOPIC_PREFIX: prefix,
    TETHER_CLICKHOUSE_URL: clickhouseUrl,
    TETHER_CLICKHOUSE_DATABASE: database,
    TETHER_SINK_PORT: '0',
    TETHER_LOG_LEVEL: 'warn',
    ...overrides,
  });

  return {
    prefix, database, topics, kafka, codec, producer, ch,
    config: (overrides) => loadSinkConfig(envFor(overrides)),
    childEnv: envFor,
    async produce(role, records, key) {
      await producer.send(records.map((r) => ({ topic: topics[role], key: key(r), value: codec.encode(role, r) })));
    },
    async produceRaw(role, values, key = 'raw') {
      await producer.send(values.map((value) => ({ topic: topics[role], key, value })));
    },
    async count(sql) {
      const [row] = await ch.queryRows<{ n: string }>(sql);
      return Number(row?.n ?? 0);
    },
    async settled(stream, role) {
      const admin = await kafka.admin();
      try {
        await waitFor(async () => {
          const ends = await admin.topicOffsets(topics[role]);
          const committed = await admin.groupOffsets(sinkGroup(prefix, stream), topics[role]);
          const behind = ends.filter((p) => p.high > p.low && (committed.get(p.partition) ?? -1n) < p.high);
          return behind.length === 0 || undefined;
        }, { what: `the sink to commit ${topics[role]} to its end` });
      } finally {
        await admin.close();
      }
    },
    async close() {
      await producer.close();
      const admin = await kafka.admin();
      try {
        await admin.deleteTopics(Object.values(topics));
      } finally {
        await admin.close();
      }
      await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
      await ch.close();
    },
  };
}

/** The consumer group a sink stream uses under a prefix. */
function sinkGroup(prefix: string, stream: keyof typeof CONSUMER_GROUPS): string {
  return `${prefix}${CONSUMER_GROUPS[stream]}`;
}
