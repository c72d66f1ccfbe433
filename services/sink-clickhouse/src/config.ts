// The sink's environment: the shared endpoints plus its own knobs.
// Units are in the names; defaults live here and nowhere else.
import { z } from 'zod';
import { commonEnvShape, env, loadConfig } from '#config';

export const SINK_STREAM_NAMES = ['events', 'identity', 'dlq', 'findings'] as const;
export type SinkStreamName = (typeof SINK_STREAM_NAMES)[number];

export const sinkEnvSchema = z.object({
  ...commonEnvShape,
  /** Rows per insert: a buffer this full is written at once (ClickHouse likes 10k-100k). */
  TETHER_SINK_BATCH_ROWS: env.int(20_000, 1, 1_000_000),
  /** Encoded bytes per insert: a buffer this big is written at once, whatever its rows. */
  TETHER_SINK_BATCH_BYTES: env.int(32 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
  /**
   * Members of the events group this process runs (each its own partitions,
   * fetches and inserts): two let one fetch while the other inserts.
   */
  TETHER_SINK_EVENT_CONSUMERS: env.int(2, 1, 16),
  /** Longest a row waits in the buffer before its insert. */
  TETHER_SINK_BATCH_MAX_WAIT_MS: env.int(1_000, 0, 600_000),
  /**
   * Most bytes fetched per partition at once. A batch can only hold what one
   * fetch round brought (the consumer waits for the insert before fetching
   * again), so this, not only TETHER_SINK_BATCH_ROWS, sets the insert size.
   */
  TETHER_SINK_FETCH_BYTES_PER_PARTITION: env.int(8 * 1024 * 1024, 64 * 1024, 256 * 1024 * 1024),
  /** Which streams this instance sinks: events (access_events), identity (*_history), dlq (dead_letters), findings (findings). */
  TETHER_SINK_STREAMS: z
    .string()
    .default(SINK_STREAM_NAMES.join(','))
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.enum(SINK_STREAM_NAMES)).min(1))
    .describe(`a comma-separated list of ${SINK_STREAM_NAMES.join(', ')}`),
  /** Longest pause between two insert attempts while ClickHouse is down or slow. */
  TETHER_SINK_RETRY_MAX_MS: env.int(15_000, 100, 600_000),
  /** One insert's timeout: a server that hangs counts as down after this long. */
  TETHER_SINK_INSERT_TIMEOUT_MS: env.int(30_000, 1_000, 600_000),
  /** /health and /metrics; 0 picks a free port. */
  TETHER_SINK_PORT: env.int(9420, 0, 65_535),
  /**
   * Names this instance: its static member id in each stream's group
   * (group.instance.id), so a restart under the same name takes its
   * partitions back at once. Default `<hostname>-sink-clickhouse`; instances
   * sharing a host need their own.
   */
  TETHER_SINK_INSTANCE_ID: env.optionalString(),
  /** Graceful stop budget: write the buffered rows, commit, leave the groups. */
  TETHER_SINK_SHUTDOWN_GRACE_MS: env.int(30_000, 1_000, 600_000),
});

export type SinkConfig = z.output<typeof sinkEnvSchema>;

export function loadSinkConfig(source: NodeJS.ProcessEnv = process.env): Readonly<SinkConfig> {
  return loadConfig(sinkEnvSchema, source);
}
