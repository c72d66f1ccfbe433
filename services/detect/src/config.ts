// The detect service's environment: the shared endpoints plus its own knobs.
// Units are in the names; defaults live here and nowhere else.
import { z } from 'zod';
import { commonEnvShape, env, loadConfig } from '#config';
import { RULES_DIR } from './rules/load.ts';

export const detectEnvSchema = z.object({
  ...commonEnvShape,
  /** Directory of rule files (*.yaml, one rule each); every file must be valid or the service does not start. */
  TETHER_DETECT_RULES_DIR: env.string(RULES_DIR),
  /**
   * Most state entries (window events, first-seen values, partial sequences)
   * of all groups together, about 0.3 KB of heap each; least recently used
   * groups are forgotten beyond it (and tombstoned on the state topic).
   */
  TETHER_DETECT_STATE_MAX_ENTRIES: env.int(500_000, 100, 50_000_000),
  /** Values remembered per first-seen group; the earliest seen are forgotten beyond it. */
  TETHER_DETECT_FIRST_SEEN_MAX_VALUES: env.int(1_000, 1, 100_000),
  /** Most enriched events handed to one batch. */
  TETHER_DETECT_MAX_BATCH: env.int(2_000, 1, 100_000),
  /** /health and /metrics; 0 picks a free port. */
  TETHER_DETECT_PORT: env.int(9430, 0, 65_535),
  /** Names this instance in its state consumer group; a random suffix is always added. */
  TETHER_DETECT_INSTANCE_ID: env.optionalString(),
  /** Graceful stop budget: finish the batch in hand, write its findings and state, commit. */
  TETHER_DETECT_SHUTDOWN_GRACE_MS: env.int(30_000, 1_000, 600_000),
});

export type DetectConfig = z.output<typeof detectEnvSchema>;

export function loadDetectConfig(source: NodeJS.ProcessEnv = process.env): Readonly<DetectConfig> {
  return loadConfig(detectEnvSchema, source);
}
