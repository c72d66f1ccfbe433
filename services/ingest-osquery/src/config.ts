// The osquery ingest service's environment: the shared endpoints plus its own
// knobs. Units are in the names; defaults live here and nowhere else.
import { z } from 'zod';
import { commonEnvShape, env, loadConfig } from '#config';
import { TABLE_KINDS, type TableKind } from './table-kind.ts';

const tableMapping = z
  .string()
  .default('')
  .transform((text, ctx) => {
    const out: Record<string, TableKind> = {};
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const [query, kind] = pair.split('=').map((s) => s.trim());
      if (!query || !kind || !(TABLE_KINDS as readonly string[]).includes(kind)) {
        ctx.addIssue({ code: 'custom', message: `"${pair}" is not <query name>=<table> with a table of ${TABLE_KINDS.join(', ')}` });
        return z.NEVER;
      }
      out[query] = kind as TableKind;
    }
    return out;
  });

export const osqueryEnvSchema = z.object({
  ...commonEnvShape,
  /** The AI catalogue file (apps, extensions, API hosts and addresses); the bundled one by default. */
  TETHER_AI_CATALOGUE_PATH: env.optionalString(),
  /** How often a tailed results file is checked for new lines. */
  TETHER_OSQUERY_POLL_MS: env.int(1_000, 10, 600_000),
  /** Queries whose table the columns do not tell: `<query name>=<table>,…`. */
  TETHER_OSQUERY_TABLES: tableMapping,
  /** Domain that turns a local user name into an address (`ana` -> `ana@<domain>`); unset: local names name nobody. */
  TETHER_OSQUERY_USER_DOMAIN: env.optionalString(),
  /** TLS logger endpoint (osquery's --tls_hostname points here through a TLS terminator); 0 picks a free port. */
  TETHER_OSQUERY_TLS_PORT: env.int(9430, 0, 65_535),
  TETHER_OSQUERY_TLS_HOST: env.string('127.0.0.1'),
  /** What osquery sends as --enroll_secret; required to serve the TLS endpoint. */
  TETHER_OSQUERY_ENROLL_SECRET: z.string().min(16).optional(),
  /** Signs node keys (they carry no state, so they survive restarts); rotating it makes every host enroll again. */
  TETHER_OSQUERY_NODE_KEY_SECRET: z.string().min(32).optional(),
  /** Largest TLS logger body accepted, after gzip is undone. */
  TETHER_OSQUERY_MAX_BODY_BYTES: env.int(32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  /** osquery's kafka_producer topic (--logger_kafka_topic) read by `consume`. */
  TETHER_OSQUERY_KAFKA_TOPIC: env.string('osquery_results'),
  /** /health and /metrics; 0 picks a free port. */
  TETHER_OSQUERY_PORT: env.int(9431, 0, 65_535),
});

export type OsqueryConfig = z.output<typeof osqueryEnvSchema>;

export function loadOsqueryConfig(source: NodeJS.ProcessEnv = process.env): Readonly<OsqueryConfig> {
  return loadConfig(osqueryEnvSchema, source);
}
