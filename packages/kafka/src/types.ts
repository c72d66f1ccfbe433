// The one Kafka surface the services use. Adapters (kafkajs, @platformatic/kafka)
// sit behind it, so a client can be benchmarked and swapped without touching services.
// Both adapters behave as written here; where a client cannot, the comment says
// which one and how (test/integration/kafka-contract.int.test.ts checks every point
// against both on the real broker).
//
// Errors: every failure of a producer, consumer or admin call (and every error
// reaching onCrash that is not the handler's own) is a TetherError
// 'TETHER_KAFKA' whose `retriable` is the client's own classification
// (kafkajs `retriable`, platformatic `canRetry`), the client's error as cause.

export type KafkaClientName = 'kafkajs' | 'platformatic';

export interface KafkaConnection {
  brokers: readonly string[];
  clientId: string;
}

export interface ProduceRecord {
  topic: string;
  /** Keys decide the partition; null spreads records round-robin. */
  key: Buffer | string | null;
  /** Null is a tombstone (compacted topics); a zero-length Buffer is a value, and is consumed as one. */
  value: Buffer | null;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: number;
}

export interface Producer {
  /**
   * Sends records and resolves once every one is acknowledged by all in-sync
   * replicas. Idempotent in both adapters (a producer id and sequence numbers
   * per partition): a request the client retries after a lost acknowledgement
   * is not written twice. kafkajs keeps one request in flight per broker for it.
   * A send that fails after the client's retries rejects; sending it again may
   * then duplicate (at-least-once), so consumers stay idempotent.
   */
  send(records: readonly ProduceRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: bigint;
  /** Null when the record has no key; a zero-length key stays a zero-length Buffer. */
  key: Buffer | null;
  /** Null only for a tombstone; a zero-length value stays a zero-length Buffer. */
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
   * crash redelivers the batch (at-least-once). Batches of one partition come
   * one at a time, in offset order; up to `partitionConcurrency` partitions
   * are handled at once.
   *
   * A throw, whatever the error (a retriable TetherError included), stops the
   * consumer: the handler is not called again, nothing of that batch is
   * committed, the consumer leaves the group and `onCrash` gets the handler's
   * own error. A poison record must be handled (DLQ) inside; a transient
   * failure must be retried inside or reported and the service restarted.
   */
  eachBatch(batch: ConsumedBatch): Promise<void>;
  /**
   * The consumer stopped for good: a handler threw, or the client failed
   * beyond its own recovery. Transient broker trouble does not get here at
   * first: kafkajs retries a failing fetch or commit, then rejoins the group,
   * up to 10 times in a row; platformatic retries each request (8 times,
   * 250 ms apart) and rejoins on rebalance and unknown-member errors itself,
   * and what outlasts that reaches here. Either way the service is expected
   * to exit and be restarted: offsets of unfinished batches stay uncommitted.
   */
  onCrash?(err: unknown): void;
  /** Most messages handed to one eachBatch call (default 5,000, both adapters). */
  maxBatchSize?: number;
  /** Partitions handled at once (default 3, both adapters). */
  partitionConcurrency?: number;
  /**
   * False: offsets are never committed (a reader that re-reads on every
   * start, see readToEnd); the group then leaves nothing behind on the broker.
   * Default true.
   */
  commitOffsets?: boolean;
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
  /**
   * Static group membership (KIP-345, `group.instance.id`): a member that
   * comes back under the same id after a crash takes its partitions back at
   * once instead of waiting for its old session to time out, and leaving
   * while it is gone triggers no rebalance until the session times out. Must
   * be unique among the group's live members: a second live member with the
   * same id fences the first (it fails through onCrash).
   *
   * Only platformatic supports it (`KafkaClient.staticMembership`). kafkajs
   * 2.2.4 encodes group_instance_id in its JoinGroup v5 request but never
   * passes one down from the consumer (Broker.joinGroup, syncGroup, heartbeat
   * and leaveGroup drop it), so a kafkajs consumer given an instance id joins
   * as a dynamic member, says so in a warning, and after a crash its
   * partitions wait for the old session to time out.
   */
  groupInstanceId?: string;
  /** Broker-side wait for more data; small values lower latency. */
  maxWaitMs?: number;
  /**
   * How long the broker keeps a silent member (default 30 s; the broker
   * allows 6 s to 30 min). platformatic heartbeats in the background;
   * kafkajs heartbeats only between batches, so with kafkajs the session
   * must also outlast the slowest batch.
   */
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
  /** Low and high watermarks per partition; retriable errors (a leader not serving yet) are retried for up to 30 s. */
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** Committed offsets of a group on a topic, per partition (-1 when none); retried as topicOffsets. */
  groupOffsets(groupId: string, topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  /** Whether consumers honour ConsumerOptions.groupInstanceId (platformatic yes, kafkajs no). */
  readonly staticMembership: boolean;
  producer(): Promise<Producer>;
  consumer(options: ConsumerOptions): Consumer;
  admin(): Promise<Admin>;
}
