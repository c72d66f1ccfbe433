// The one table of sources a service runs: names for the CLI, each source's
// variables merged into the service's config schema, the secrets of the
// configured ones. Adding a source is adding its definition to the list.
import { z } from 'zod';
import { env } from '#config';
import { tetherError } from '#errors';
import type { AnySourceDefinition, SourceEndpoint } from './define-source.ts';

/** The runner's own knobs, the same for every source. */
export const sourceRunnerEnvShape = {
  /** Between two reads of each event feed. */
  TETHER_INGEST_POLL_INTERVAL_MS: env.int(60_000, 1_000),
  /** Between two snapshots of the inventories (users, keys, projects). */
  TETHER_INGEST_INVENTORY_INTERVAL_MS: env.int(300_000, 1_000),
  TETHER_INGEST_HTTP_TIMEOUT_MS: env.int(30_000, 100),
  TETHER_INGEST_HTTP_MAX_ATTEMPTS: env.int(6, 1, 20),
  /** Records asked for per page; each source clamps it to its own maximum. */
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
  /** Pages one feed may read in one window (or one inventory listing) before it is stopped as endless. */
  TETHER_INGEST_MAX_PAGES: env.int(100_000, 1),
  /** Failed runs in a row after which a feed is reported unhealthy. */
  TETHER_INGEST_UNHEALTHY_AFTER: env.int(3, 1, 1_000),
};

export type SourceRunnerConfig = z.output<z.ZodObject<typeof sourceRunnerEnvShape>>;

export interface SourceRegistry<Name extends string = string> {
  readonly sources: readonly AnySourceDefinition[];
  /** In registration order; `Name` is the union of the registered names, so it grows with the table. */
  readonly names: readonly Name[];
  get(name: string): AnySourceDefinition | undefined;
  /** Every source's variables; no two sources may claim one, unless they share its very schema (the AI catalogue path). */
  readonly envShape: z.ZodRawShape;
  /** The endpoint of each source this configuration sets up (its credentials present). */
  endpoints(config: Readonly<Record<string, unknown>>): Map<string, SourceEndpoint>;
}

export function createSourceRegistry<const D extends readonly AnySourceDefinition[]>(sources: D): SourceRegistry<D[number]['name']> {
  const byName = new Map<string, AnySourceDefinition>();
  const owner = new Map<string, string>();
  for (const source of sources) {
    if (byName.has(source.name) || source.name === 'all') throw tetherError('TETHER_CONFIG_INVALID', `source name "${source.name}" is taken`);
    byName.set(source.name, source);
    for (const key of Object.keys(source.env)) {
      const other = owner.get(key) ?? (key in sourceRunnerEnvShape ? 'the runner' : undefined);
      // One variable several sources read (the AI catalogue) is one schema object they all import.
      const shared = other !== undefined && other !== 'the runner' && byName.get(other)!.env[key] === source.env[key];
      if (other && !shared) throw tetherError('TETHER_CONFIG_INVALID', `variable ${key} of source ${source.name} is already ${other}'s`);
      owner.set(key, source.name);
    }
  }
  const envShape = Object.freeze(Object.assign({}, ...sources.map((s) => s.env)) as z.ZodRawShape);
  return {
    sources,
    names: [...byName.keys()] as D[number]['name'][],
    get: (name) => byName.get(name),
    envShape,
    endpoints(config) {
      const out = new Map<string, SourceEndpoint>();
      for (const source of sources) {
        const endpoint = source.endpoint(config as never);
        if (endpoint) out.set(source.name, endpoint);
      }
      return out;
    },
  };
}
