// The one Kafka surface the services use. Adapters (kafkajs, @platformatic/kafka)
// sit behind it, so a client can be benchmarked and swapped without touching services.

export type KafkaClientName = 'kafkajs' | 'platformatic';

export interface KafkaConnection {
  brokers: readonly string[];
  clientId: string;
}

export interface ProduceRecord {
  topic: string;
  /** Keys decide the partition; null spreads records round-robin. */
  key: Buffer | string | null;
  /** Null is a tombstone (compacted topics). */
  value: Buffer | null;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
}

export interface Producer {
  /** Sends records and resolves once every one is acknowledged by all in-sync replicas. */
  send(records: readonly ProduceRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Record<string, string>;
}

/** Messages of one topic-partition, in offset order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: ConsumedMessage[];
}

export interface ConsumeOptions {
  topics: readonly string[];
  /** Where a group with no committed offset starts. */
  fromBeginning: boolean;
  /**
   * Called per batch; offsets are committed only after it resolves, so a
   * crash redelivers the batch (at-least-once). A throw stops the consumer
   * and reaches `onCrash`: a poison record must be handled (DLQ) inside.
   */
  eachBatch(batch: ConsumedBatch): Promise<void>;
  onCrash?(err: unknown): void;
  /** Most messages handed to one eachBatch call. */
  maxBatchSize?: number;
}

export interface Consumer {
  /** Joins the group and starts delivering; resolves once the consumer is running. */
  run(options: ConsumeOptions): Promise<void>;
  /** Stops fetching (backpressure) without leaving the group. */
  pause(): void;
  resume(): void;
  /** Finishes the batch in hand, commits it, leaves the group. */
  stop(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  /** Broker-side wait for more data; small values lower latency. */
  maxWaitMs?: number;
  sessionTimeoutMs?: number;
  /**
   * Most bytes one fetch returns per partition (client default 1 MB). Batch
   * writers raise it: a batch can hold no more than one fetch brings.
   */
  maxBytesPerPartition?: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  compacted?: boolean;
  config?: Record<string, string>;
}

export interface PartitionOffsets {
  partition: number;
  /** First offset still on the log. */
  low: bigint;
  /** Next offset to be written. */
  high: bigint;
}

export interface Admin {
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  deleteTopics(names: readonly string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets of a group on a topic, per partition (-1 when none). */
  groupOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): Consumer;
  admin(): Promise<Admin>;
}
