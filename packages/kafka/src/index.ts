import type { Logger } from '#log';
import { kafkajsClient } from './kafkajs-client.ts';
import { platformaticClient } from './platformatic-client.ts';
import type { KafkaClient, KafkaClientName, KafkaConnection } from './types.ts';

export type {
  Admin, ConsumeOptions, ConsumedBatch, ConsumedMessage, Consumer, ConsumerOptions, KafkaClient,
  KafkaClientName, KafkaConnection, PartitionOffsets, ProduceRecord, Producer, TopicSpec,
} from './types.ts';

export const KAFKA_CLIENT_NAMES: readonly KafkaClientName[] = ['kafkajs', 'platformatic'];

export function createKafkaClient(name: KafkaClientName, connection: KafkaConnection, log: Logger): KafkaClient {
  return name === 'kafkajs' ? kafkajsClient(connection, log) : platformaticClient(connection, log);
}

/**
 * Producing and consuming are measured separately (npm run bench:kafka) and
 * the faster client serves each role, so a service may hold two clients.
 */
export interface KafkaRoles {
  producer: KafkaClient;
  consumer: KafkaClient;
  admin: KafkaClient;
}

export function createKafkaRoles(
  names: { producer: KafkaClientName; consumer: KafkaClientName },
  connection: KafkaConnection,
  log: Logger,
): KafkaRoles {
  const producer = createKafkaClient(names.producer, connection, log);
  const consumer = names.consumer === names.producer ? producer : createKafkaClient(names.consumer, connection, log);
  return { producer, consumer, admin: consumer };
}
export { ensureTetherTopics } from './provision.ts';
export { openTopicReader, readToEnd } from './read-to-end.ts';
export type { ReadProgress, ReadToEndOptions, TopicReader } from './read-to-end.ts';
