// The enrich service's environment: the shared endpoints plus its own knobs.
// Units are in the names; defaults live here and nowhere else.
import { z } from 'zod';
import { env, loadConfig, pipelineEnvShape } from '#config';

export const enrichEnvSchema = z.object({
  ...pipelineEnvShape,
  /** How long an event whose actor is not known yet waits for late identity data; 0 disables waiting. */
  TETHER_ENRICH_LATE_WAIT_MS: env.int(30_000, 0, 600_000),
  /** Most events held at once while waiting; beyond it the oldest is emitted unresolved. */
  TETHER_ENRICH_LATE_MAX_EVENTS: env.int(10_000, 1, 1_000_000),
  /**
   * After a reference (key, account, email, grant) timed out once, later events
   * naming only such references are emitted at once for this long instead of
   * stalling their partition again; 0 always waits.
   */
  TETHER_ENRICH_GIVE_UP_MS: env.int(600_000, 0, 86_400_000),
  /**
   * Emitted events without a directory person are remembered this long, and
   * emitted again if identity data arriving later names their person; 0 disables.
   */
  TETHER_ENRICH_REATTRIBUTE_WINDOW_MS: env.int(86_400_000, 0, 30 * 86_400_000),
  /** Most events remembered for re-attribution (a few KB each); the oldest go first. */
  TETHER_ENRICH_REATTRIBUTE_MAX_EVENTS: env.int(50_000, 0, 5_000_000),
  /**
   * An event by an address nobody had held yet at its time is attributed to the
   * address's first holder when their directory record starts within this long
   * after the event (a joiner's records arriving after their first AI use),
   * with address_first_held_after_event and less confidence; 0 disables.
   */
  TETHER_ENRICH_PROVISIONING_LAG_MS: env.int(7 * 86_400_000, 0, 90 * 86_400_000),
  /** Most raw events handed to one batch. */
  TETHER_ENRICH_MAX_BATCH: env.int(2_000, 1, 100_000),
  /**
   * The Kafka client that reads the identity topics at start-up and follows
   * them. Its group is thrown away on every start, so static membership (why
   * the events group uses platformatic) does not matter there, and kafkajs
   * consumes about twice as fast (npm run bench:kafka; restore in bench:enrich).
   */
  TETHER_ENRICH_RESTORE_CLIENT: env.oneOf(['kafkajs', 'platformatic'], 'kafkajs'),
  /** /health and /metrics; 0 picks a free port. */
  TETHER_ENRICH_PORT: env.int(9410, 0, 65_535),
  /**
   * Names this instance: its static membership of the events group
   * (group.instance.id, so a restart takes its partitions back at once), and
   * its identity reader's group (with a random suffix, re-read on every
   * start). Default `<hostname>-enrich`; instances sharing a host need their own.
   */
  TETHER_ENRICH_INSTANCE_ID: env.optionalString(),
  /** Graceful stop budget: drain the batch in hand, flush waiting events, commit. */
  TETHER_ENRICH_SHUTDOWN_GRACE_MS: env.int(30_000, 1_000, 600_000),
});

export type EnrichConfig = z.output<typeof enrichEnvSchema>;

export function loadEnrichConfig(source: NodeJS.ProcessEnv = process.env): Readonly<EnrichConfig> {
  return loadConfig(enrichEnvSchema, source);
}
