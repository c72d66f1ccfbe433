// The whole service offline for the tests that need no fake platform: the
// real codec over an id-only registry, a recording producer, checkpoints in
// memory, a captured log, and the API behind an injected fetch.
import { loadConfig, topicNames, type TopicRole } from '#config';
import type { RecordForTopic } from '#schemas';
import { createMetrics } from '#service';
import { createMemoryCheckpointStore, createScrubber, secretForms } from '#source';
import { captureLogger, offlineCodec, recordingProducer } from '#testkit';
import { buildApp } from '../src/app.ts';
import { ingestAiEnvSchema } from '../src/config.ts';

export async function offlineApp(options: { env: Record<string, string>; key: string; fetch?: typeof fetch; now: () => number }) {
  const topics = topicNames('');
  const codec = await offlineCodec();
  const producer = recordingProducer();
  const checkpoints = createMemoryCheckpointStore([], options.now);
  const { log, lines } = captureLogger('ingest-ai');
  const app = buildApp(loadConfig(ingestAiEnvSchema, options.env), {
    log,
    scrubber: createScrubber(secretForms(options.key)),
    producer,
    codec,
    topics,
    checkpoints,
    fetch: options.fetch,
    metrics: createMetrics('ingest-ai', { defaultMetrics: false }),
    now: options.now,
  });
  /** Every record produced to a role's topic, decoded. */
  const on = <R extends TopicRole>(role: R): Promise<RecordForTopic[R][]> =>
    Promise.all(producer.sent.filter((r) => r.topic === topics[role]).map((r) => codec.decode(role, r.value!)));
  return { app, producer, codec, checkpoints, lines, topics, on };
}
