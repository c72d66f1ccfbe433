// ingest-ai configuration: the common endpoints plus one key and base URL per
// platform and the polling knobs. Parsed once in index.ts.
import { z } from 'zod';
import { env, pipelineEnvShape } from '#config';
import type { Platform } from './normalise/common.ts';

export const ingestAiEnvSchema = z.object({
  ...pipelineEnvShape,
  TETHER_OPENAI_ADMIN_KEY: env.optionalString(),
  TETHER_OPENAI_BASE_URL: env.url('https://api.openai.com/v1'),
  TETHER_ANTHROPIC_ADMIN_KEY: env.optionalString(),
  TETHER_ANTHROPIC_BASE_URL: env.url('https://api.anthropic.com'),
  TETHER_CURSOR_API_KEY: env.optionalString(),
  TETHER_CURSOR_BASE_URL: env.url('https://api.cursor.com'),
  /** Between two reads of each event feed. */
  TETHER_INGEST_POLL_INTERVAL_MS: env.int(60_000, 1_000),
  /** Between two snapshots of the inventories (users, keys, projects). */
  TETHER_INGEST_INVENTORY_INTERVAL_MS: env.int(300_000, 1_000),
  TETHER_INGEST_HTTP_TIMEOUT_MS: env.int(30_000, 100),
  TETHER_INGEST_HTTP_MAX_ATTEMPTS: env.int(6, 1, 20),
  /** Records asked for per page; each platform clamps it to its own maximum. */
  TETHER_INGEST_PAGE_LIMIT: env.int(100, 1, 5_000),
  /** /health and /metrics in poll mode; 0 picks a free port. */
  TETHER_INGEST_METRICS_PORT: env.int(9464, 0, 65_535),
  /** How far back a first poll (no checkpoint, no backfill) starts. */
  TETHER_INGEST_POLL_LOOKBACK_MS: env.int(3_600_000, 0),
  /** Backfills read windows of this length (progress and checkpoints per window). */
  TETHER_INGEST_BACKFILL_WINDOW_MS: env.int(86_400_000, 1_000),
  /**
   * Poll mode reads every window a second time this long after the first
   * read, for rows a platform writes late (ids are deterministic, so a row
   * read twice is one event downstream); 0 turns the second read off.
   */
  TETHER_INGEST_REREAD_MS: env.int(3_600_000, 0),
  /** Overrides every feed's own lag (how far behind now a window must end). */
  TETHER_INGEST_LAG_MS: z.coerce.number().int().min(0).optional(),
  /** Client-side pacing under the published limits; 0 = none (OpenAI publishes none). */
  TETHER_OPENAI_REQUESTS_PER_MINUTE: env.int(0, 0),
  TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: env.int(600, 0),
  TETHER_CURSOR_REQUESTS_PER_MINUTE: env.int(20, 0),
});

export type IngestAiConfig = z.output<typeof ingestAiEnvSchema>;

export interface PlatformEndpoint {
  key: string | undefined;
  baseUrl: string;
  requestsPerMinute: number;
}

export function endpointOf(config: IngestAiConfig, platform: Platform): PlatformEndpoint {
  switch (platform) {
    case 'openai':
      return { key: config.TETHER_OPENAI_ADMIN_KEY, baseUrl: config.TETHER_OPENAI_BASE_URL, requestsPerMinute: config.TETHER_OPENAI_REQUESTS_PER_MINUTE };
    case 'anthropic':
      return { key: config.TETHER_ANTHROPIC_ADMIN_KEY, baseUrl: config.TETHER_ANTHROPIC_BASE_URL, requestsPerMinute: config.TETHER_ANTHROPIC_REQUESTS_PER_MINUTE };
    case 'cursor':
      return { key: config.TETHER_CURSOR_API_KEY, baseUrl: config.TETHER_CURSOR_BASE_URL, requestsPerMinute: config.TETHER_CURSOR_REQUESTS_PER_MINUTE };
  }
}
