// ingest-ai: runs the registered sources (src/sources.ts) on the source
// framework: AccessEvents to tether.access.raw, identity versions to
// tether.identity.users / .nhi, bad records to tether.dlq, and its cursors to
// tether.ingest.checkpoints. `buildApp` wires the parts without touching the
// network; `connectApp` opens Kafka, the registry and the checkpoints first.
import { errorMessage, tetherError } from '#errors';
import { ensureTetherTopics } from '#kafka';
import type { Logger } from '#log';
import { connectPipeline } from '#service/pipeline';
import {
  compileRetryPolicy, createKafkaCheckpointStore, createSourceRunner, restoreCheckpoints, retry,
  type Scrubber, type SourceRunner, type SourceRunnerDeps,
} from '#source';
import type { IngestAiConfig } from './config.ts';
import { SOURCES } from './sources.ts';

export const SERVICE = 'ingest-ai';

export type AppDeps = Omit<SourceRunnerDeps, 'service'>;
export type IngestAiApp = SourceRunner;
export type { TimeRange } from '#source';

/** The sources `selector` names that have credentials configured. */
export function configuredPlatforms(config: IngestAiConfig, selector: string): string[] {
  const endpoints = SOURCES.endpoints(config);
  return (selector === 'all' ? SOURCES.names : [selector]).filter((name) => endpoints.has(name));
}

/** Which checkpoints on the shared topic are ours. */
export function ownsCheckpoint(id: string): boolean {
  return SOURCES.names.some((name) => id.startsWith(`${name}/`));
}

export function buildApp(config: IngestAiConfig, deps: AppDeps): IngestAiApp {
  return createSourceRunner(SOURCES, config, { ...deps, service: SERVICE });
}

export interface ConnectedApp {
  app: IngestAiApp;
  close(): Promise<void>;
}

/** Opens Kafka and the registry, makes sure the topics exist, restores this service's checkpoints. */
export async function connectApp(config: IngestAiConfig, options: { log: Logger; scrubber: Scrubber; fetch?: typeof fetch }): Promise<ConnectedApp> {
  const { log } = options;
  const pipeline = await connectPipeline(config, `tether-${SERVICE}`, log);
  const admin = await pipeline.kafka.admin.admin();
  try {
    // A broker busy creating other topics can answer before the new leaders are known: retried.
    await retry(
      () => ensureTetherTopics(admin, config.TETHER_TOPIC_PREFIX).catch((err: unknown) => {
        throw tetherError('TETHER_KAFKA', `creating the topics failed: ${errorMessage(err)}`, { cause: err, retriable: true });
      }),
      compileRetryPolicy({ maxAttempts: 5, initialDelayMs: 500 }),
    );
  } finally {
    await admin.close();
  }
  const producer = await pipeline.kafka.producer.producer();
  try {
    const restored = await restoreCheckpoints({
      client: pipeline.kafka.consumer,
      codec: pipeline.codec,
      topic: pipeline.topics.ingestCheckpoints,
      log,
      keep: ownsCheckpoint,
    });
    const checkpoints = createKafkaCheckpointStore({ producer, codec: pipeline.codec, topic: pipeline.topics.ingestCheckpoints, restored });
    const app = buildApp(config, { log, scrubber: options.scrubber, producer, codec: pipeline.codec, topics: pipeline.topics, checkpoints, fetch: options.fetch });
    return { app, close: () => producer.close() };
  } catch (err) {
    await producer.close().catch(() => undefined);
    throw err;
  }
}
