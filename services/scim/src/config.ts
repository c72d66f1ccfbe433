// The SCIM service's environment: the shared endpoints plus its own knobs.
// Units are in the names; defaults live here and nowhere else.
import { z } from 'zod';
import { commonEnvShape, env, loadConfig } from '#config';

export const scimEnvSchema = z.object({
  ...commonEnvShape,
  /** The bearer token IdPs send (Okta's and Entra's "secret token"); `serve` refuses to start without one. */
  TETHER_SCIM_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** HTTP port for /scim/v2, /health, /ready and /metrics; 0 picks a free one. */
  TETHER_SCIM_PORT: env.int(9440, 0, 65_535),
  /** Address to listen on; put TLS (Entra wants 1.2+) in front with a proxy. */
  TETHER_SCIM_HOST: env.string('127.0.0.1'),
  /** Public base URL of /scim/v2 for meta.location and Location (behind a proxy); from the request's Host when unset. */
  TETHER_SCIM_BASE_URL: z.url().optional(),
  /** source.platform of the versions and the prefix of person ids derived from an externalId (okta, entra, ...). */
  TETHER_SCIM_PLATFORM: env.string('scim'),
  /** Most resources one list response returns (ServiceProviderConfig filter.maxResults). */
  TETHER_SCIM_MAX_RESULTS: env.int(200, 1, 10_000),
  /** Largest request body accepted, bytes. */
  TETHER_SCIM_BODY_LIMIT_BYTES: env.int(1_048_576, 1_024, 16_777_216),
  /** Graceful stop budget: finish the writes in hand, close. */
  TETHER_SCIM_SHUTDOWN_GRACE_MS: env.int(10_000, 1_000, 600_000),
});

export type ScimConfig = z.output<typeof scimEnvSchema>;

export function loadScimConfig(source: NodeJS.ProcessEnv = process.env): Readonly<ScimConfig> {
  return loadConfig(scimEnvSchema, source);
}
