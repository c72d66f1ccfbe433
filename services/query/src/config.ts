// The query service's environment: the shared endpoints plus its own knobs.
// Units are in the names; defaults live here and nowhere else.
import { z } from 'zod';
import { clickhouseEnvShape, env, loadConfig, logEnvShape, startupEnvShape } from '#config';

/** What the report and trail commands read: ClickHouse and the query knobs. */
export const queryEnvSchema = z.object({
  ...clickhouseEnvShape,
  ...logEnvShape,
  ...startupEnvShape,
  /** Most rows one API answer carries; a trail that would exceed it fails instead of being cut. */
  TETHER_QUERY_MAX_ROWS: env.int(100_000, 1, 10_000_000),
  /** ClickHouse's own limit on one query's run time. */
  TETHER_QUERY_TIMEOUT_MS: env.int(60_000, 1_000, 3_600_000),
  /** Graceful stop budget for `serve`: finish the answers in flight. */
  TETHER_QUERY_SHUTDOWN_GRACE_MS: env.int(10_000, 100, 600_000),
});

/** What `serve` reads besides: the API's address and token. */
export const serveEnvSchema = queryEnvSchema.extend({
  /**
   * Bearer token of the HTTP API (`serve` refuses to start without one).
   * Long enough that guessing is hopeless; never logged.
   */
  TETHER_QUERY_API_TOKEN: z.string().min(24).optional().describe('a bearer token of 24 or more characters'),
  /** One token per caller, so the access log names who asked: `name=token` pairs, comma-separated. */
  TETHER_QUERY_API_TOKENS: z
    .string()
    .optional()
    .refine((v) => v === undefined || v.split(',').map((s) => s.trim()).filter(Boolean).every((pair) => /^[A-Za-z0-9_.-]{1,64}=\S{24,}$/.test(pair)))
    .describe('comma-separated name=token pairs (names of letters, digits, _ . -; tokens of 24 or more characters)'),
  TETHER_QUERY_HOST: env.string('127.0.0.1'),
  /** HTTP API port; 0 picks a free port. */
  TETHER_QUERY_PORT: env.int(8420, 0, 65_535),
});

export type QueryConfig = z.output<typeof queryEnvSchema>;
export type ServeConfig = z.output<typeof serveEnvSchema>;

export function loadQueryConfig(source: NodeJS.ProcessEnv = process.env): Readonly<QueryConfig> {
  return loadConfig(queryEnvSchema, source);
}

export function loadServeConfig(source: NodeJS.ProcessEnv = process.env): Readonly<ServeConfig> {
  return loadConfig(serveEnvSchema, source);
}
