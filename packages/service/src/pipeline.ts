// Pipeline wiring, apart from the ops side of #service (imported as
// #service/pipeline) so a command that only reads ClickHouse or prints its
// help never loads a Kafka client. What every pipeline service opens at
// start-up: Kafka clients per role, the codec bound to registered schemas,
// and the topic names; it waits for Kafka and the registry first.
import { z } from 'zod';
import { loadConfig, pipelineEnvShape, topicNames, type PipelineConfig, type TopicRole } from '#config';
import { errorMessage, tetherError } from '#errors';
import { createKafkaRoles, ensureTetherTopics, type KafkaRoles, type Producer } from '#kafka';
import { createLogger, type Logger } from '#log';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { kafkaDependency, registryDependency, waitForDependencies, type Dependency } from './dependencies.ts';
import { backoffDelay, compileRetryPolicy, sleep } from '#retry';

export interface Pipeline {
  kafka: KafkaRoles;
  codec: Codec;
  topics: Readonly<Record<TopicRole, string>>;
}

/** Long-running services wait minutes for their servers; one-shot commands, seconds. */
export const SERVICE_STARTUP_WAIT_MS = 300_000;
export const COMMAND_STARTUP_WAIT_MS = 20_000;

export interface ConnectOptions {
  /** Used when TETHER_STARTUP_WAIT_MS is unset (default: SERVICE_STARTUP_WAIT_MS). */
  defaultWaitMs?: number;
  signal?: AbortSignal;
  /** Told while a dependency is down, for readiness. */
  onWaiting?: (dependency: string, reason: string) => void;
}

/** The servers a pipeline service needs, as /ready probes them. */
export function pipelineDependencies(config: PipelineConfig): Dependency[] {
  return [kafkaDependency(config.TETHER_KAFKA_BROKERS), registryDependency(config.TETHER_SCHEMA_REGISTRY_URL)];
}

/**
 * Waits (bounded, with backoff) until Kafka and the registry answer, then
 * connects: topics created where missing, schemas registered. A server that
 * answers the probe but fails the real round trip (still booting) is retried
 * within the same wait. Past the wait: TETHER_CONFIG_INVALID naming the
 * variable of what did not answer.
 */
export async function connectPipeline(config: PipelineConfig, clientId: string, log: Logger, options: ConnectOptions = {}): Promise<Pipeline> {
  const waitMs = config.TETHER_STARTUP_WAIT_MS ?? options.defaultWaitMs ?? SERVICE_STARTUP_WAIT_MS;
  const deadline = Date.now() + waitMs;
  const dependencies = pipelineDependencies(config);
  const policy = compileRetryPolicy({ initialDelayMs: 500, maxDelayMs: 10_000 });
  for (let attempt = 1; ; attempt++) {
    await waitForDependencies(dependencies, {
      waitMs: Math.max(0, deadline - Date.now()),
      log,
      signal: options.signal,
      onWaiting: ({ dependency, reason }) => options.onWaiting?.(dependency.name, reason),
    });
    try {
      return await connectOnce(config, clientId, log);
    } catch (err) {
      const left = deadline - Date.now();
      if (left <= 0 || options.signal?.aborted) {
        throw tetherError('TETHER_CONFIG_INVALID', `TETHER_KAFKA_BROKERS / TETHER_SCHEMA_REGISTRY_URL: connecting to ${config.TETHER_KAFKA_BROKERS.join(',')} and ${config.TETHER_SCHEMA_REGISTRY_URL} kept failing for ${Math.round(waitMs / 1000)} s: ${errorMessage(err)}`, { cause: err });
      }
      options.onWaiting?.('pipeline', errorMessage(err));
      const delay = Math.min(left, backoffDelay(policy, attempt));
      log.warn({ err, retryInMs: delay }, 'connecting to Kafka and the registry failed: retrying');
      await sleep(delay, options.signal);
    }
  }
}

async function connectOnce(config: PipelineConfig, clientId: string, log: Logger): Promise<Pipeline> {
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

/**
 * A one-shot import: reads the pipeline settings, connects (waiting seconds,
 * not minutes, for the servers), hands `run` a producer, closes it after.
 */
export async function withImportProducer<T>(service: string, run: (tools: { pipeline: Pipeline; producer: Producer; log: Logger }) => Promise<T>): Promise<T> {
  const config = loadConfig(z.object(pipelineEnvShape));
  const log = createLogger({ service, level: config.TETHER_LOG_LEVEL });
  const pipeline = await connectPipeline(config, `tether-${service}`, log, { defaultWaitMs: COMMAND_STARTUP_WAIT_MS });
  const producer = await pipeline.kafka.producer.producer();
  try {
    return await run({ pipeline, producer, log });
  } finally {
    await producer.close();
  }
}
