// What every pipeline service opens at start-up: Kafka clients per role,
// the codec bound to registered schemas, and the topic names.
import { topicNames, type CommonConfig, type TopicRole } from '#config';
import { createKafkaRoles, ensureTetherTopics, type KafkaRoles } from '#kafka';
import type { Logger } from '#log';
import { createCodec, createRegistryClient, type Codec } from '#schemas';

export interface Pipeline {
  kafka: KafkaRoles;
  codec: Codec;
  topics: Readonly<Record<TopicRole, string>>;
}

export async function connectPipeline(config: CommonConfig, clientId: string, log: Logger): Promise<Pipeline> {
  const kafka = createKafkaRoles(
    { producer: config.TETHER_KAFKA_PRODUCER_CLIENT, consumer: config.TETHER_KAFKA_CONSUMER_CLIENT },
    { brokers: config.TETHER_KAFKA_BROKERS, clientId },
    log,
  );
  // Topics are created where missing (the broker does not auto-create), so any service can start first.
  const admin = await kafka.admin.admin();
  try {
    await ensureTetherTopics(admin, config.TETHER_TOPIC_PREFIX, config.TETHER_TOPIC_PARTITIONS);
  } finally {
    await admin.close();
  }
  const codec = await createCodec({
    registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL),
    registryUrl: config.TETHER_SCHEMA_REGISTRY_URL,
    topicPrefix: config.TETHER_TOPIC_PREFIX,
  });
  return { kafka, codec, topics: topicNames(config.TETHER_TOPIC_PREFIX) };
}
