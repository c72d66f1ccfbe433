// ingest-osquery: osquery results, by whichever way a fleet ships them (the
// filesystem logger's files, the TLS logger's posts, osquery's own Kafka
// topic), to DeviceVersions on tether.identity.devices and AI-tool access
// events on tether.access.raw, bad records to tether.dlq, positions and host
// state to tether.ingest.checkpoints. Every transport shares one processor
// and one page sink; `connectOsquery` opens Kafka, the registry, the
// checkpoints and the catalogue once.
import { loadCatalogue } from '#catalogue';
import { tetherError } from '#errors';
import type { Producer } from '#kafka';
import type { Logger } from '#log';
import { createMetrics, deadLetterWriter, startOpsServer, type ComponentMetrics, type HealthReport, type LifecycleState, type OpsServer } from '#service';
import { connectPipeline, type Pipeline } from '#service/pipeline';
import { createKafkaCheckpointStore, createPageSink, createScrubber, restoreCheckpoints, type CheckpointStore, type PageSink } from '#source';
import type { OsqueryConfig } from './config.ts';
import { endpointCatalogue } from './endpoint-catalogue.ts';
import { kafkaLoggerBatchHandler } from './kafka-logger.ts';
import type { ProcessorOptions } from './results-processor.ts';
import { tailFiles } from './tail-files.ts';
import { buildTlsLogger } from './tls-logger.ts';

export const SERVICE = 'ingest-osquery';
export const CONSUMER_GROUP = 'tether-ingest-osquery';

export interface OsqueryApp {
  tail(files: readonly string[], signal: AbortSignal): Promise<void>;
  /** Serves the TLS logger endpoint until `signal`; resolves with its port once listening via `onListening`. */
  serve(signal: AbortSignal, onListening?: (port: number) => void): Promise<void>;
  consume(signal: AbortSignal): Promise<void>;
  health(): HealthReport;
  readonly opsPort: number;
  close(): Promise<void>;
}

export async function connectOsquery(config: Readonly<OsqueryConfig>, log: Logger, now: () => number = Date.now): Promise<OsqueryApp> {
  // The catalogue is validated before anything connects: a bad file is a configuration error.
  const catalogue = endpointCatalogue(loadCatalogue(config.TETHER_AI_CATALOGUE_PATH));
  const metrics: ComponentMetrics = createMetrics(SERVICE);
  let state: LifecycleState = 'starting';
  const pipeline: Pipeline = await connectPipeline(config, `tether-${SERVICE}`, log);
  const producer: Producer = await pipeline.kafka.producer.producer();
  let ops: OpsServer | undefined;
  try {
    const restored = await restoreCheckpoints({ client: pipeline.kafka.consumer, codec: pipeline.codec, topic: pipeline.topics.ingestCheckpoints, log, keep: (id) => id.startsWith('osquery/') });
    const checkpoints: CheckpointStore = createKafkaCheckpointStore({ producer, codec: pipeline.codec, topic: pipeline.topics.ingestCheckpoints, restored });
    const scrubber = createScrubber([config.TETHER_OSQUERY_ENROLL_SECRET, config.TETHER_OSQUERY_NODE_KEY_SECRET].filter((s): s is string => s !== undefined));
    const deadLetters = deadLetterWriter({ service: SERVICE, dlqTopic: pipeline.topics.dlq, codec: pipeline.codec, producer, scrub: scrubber.text, now });
    const sink: PageSink = createPageSink({ producer, codec: pipeline.codec, topics: pipeline.topics, checkpoints, deadLetters, metrics, log });
    const options = (): ProcessorOptions => ({
      catalogue,
      ingestedAt: now(),
      observedAt: now(),
      tableMapping: config.TETHER_OSQUERY_TABLES,
      userDomain: config.TETHER_OSQUERY_USER_DOMAIN ?? null,
    });
    ops = await startOpsServer({ port: config.TETHER_OSQUERY_PORT, registry: metrics.registry, health: () => health() });
    const statusRecords = metrics.counter('osquery_status_records_total', 'osquery status log records received (not stored).');

    function health(): HealthReport {
      return { state, checks: { kafka: { ok: state !== 'failed' } } };
    }

    const running = async (work: () => Promise<void>) => {
      state = 'running';
      try {
        await work();
        state = 'stopped';
      } catch (err) {
        state = 'failed';
        throw err;
      }
    };

    return {
      health,
      get opsPort() {
        return ops!.port;
      },
      tail: (files, signal) => running(() => tailFiles(files, { sink, checkpoints, log, options, pollMs: config.TETHER_OSQUERY_POLL_MS }, signal)),
      serve: (signal, onListening) =>
        running(async () => {
          if (!config.TETHER_OSQUERY_ENROLL_SECRET || !config.TETHER_OSQUERY_NODE_KEY_SECRET) {
            throw tetherError('TETHER_CONFIG_INVALID', 'TETHER_OSQUERY_ENROLL_SECRET (16+ characters) and TETHER_OSQUERY_NODE_KEY_SECRET (32+) must be set to serve the TLS logger endpoint');
          }
          const server = buildTlsLogger({
            sink, checkpoints, log, options,
            enrollSecret: config.TETHER_OSQUERY_ENROLL_SECRET,
            nodeKeySecret: config.TETHER_OSQUERY_NODE_KEY_SECRET,
            maxBodyBytes: config.TETHER_OSQUERY_MAX_BODY_BYTES,
            onStatusRecords: (n) => statusRecords.inc(n),
          });
          await server.listen({ port: config.TETHER_OSQUERY_TLS_PORT, host: config.TETHER_OSQUERY_TLS_HOST });
          const address = server.server.address();
          onListening?.(typeof address === 'object' && address ? address.port : config.TETHER_OSQUERY_TLS_PORT);
          log.info({ port: typeof address === 'object' && address ? address.port : null }, 'osquery TLS logger endpoint listening');
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          await server.close();
        }),
      consume: (signal) =>
        running(async () => {
          const consumer = pipeline.kafka.consumer.consumer({ groupId: `${config.TETHER_TOPIC_PREFIX}${CONSUMER_GROUP}` });
          let crashed: unknown;
          await consumer.run({
            topics: [config.TETHER_OSQUERY_KAFKA_TOPIC],
            fromBeginning: true,
            eachBatch: kafkaLoggerBatchHandler({ sink, checkpoints, options }),
            onCrash: (err) => {
              crashed = err;
              log.error({ err }, 'osquery kafka logger consumer failed');
            },
          });
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
          await consumer.stop();
          if (crashed) throw crashed;
        }),
      async close() {
        await ops?.close();
        await producer.close();
      },
    };
  } catch (err) {
    await ops?.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    throw err;
  }
}
