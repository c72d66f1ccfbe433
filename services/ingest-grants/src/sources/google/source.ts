// Google Workspace Admin Reports (reference section 1): `activities.list`
// for applicationName=token, as two event feeds with their own checkpoints:
// `token_grants` (authorize, then revoke, per window) and `token_activity`
// (token use, which dwarfs grants). Windows [startTime, endTime) fixed across
// pages, paged by nextPageToken; a window is read again 6 h later for events
// Google publishes late. Auth: a service account's JWT with domain-wide
// delegation, impersonating an admin (`sub`).
import { readFileSync } from 'node:fs';
import { env } from '#config';
import { errorMessage, tetherError } from '#errors';
import { defineSource, googleServiceAccount, type SourceDeps, type SourceFeeds } from '#source';
import { fetchGoogleNamesPage, GOOGLE_MAX_RESULTS, type GoogleNamesCursor } from '../../fetch/fetchers.ts';
import { clampLimit, grantFold, grantSharedEnv, onFramework, type GrantSharedConfig } from '../grant-source.ts';
import { GOOGLE_TOKEN_FEED, normaliseGoogleToken } from './token-activity.ts';

const P = 'google' as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const GOOGLE_REPORTS_SCOPE = 'https://www.googleapis.com/auth/admin.reports.audit.readonly';

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  token_uri?: string;
}

/** The service-account key file (JSON from the Cloud console), checked for the fields the JWT needs. */
export function readServiceAccountKey(path: string): ServiceAccountKey {
  let key: Partial<ServiceAccountKey>;
  try {
    key = JSON.parse(readFileSync(path, 'utf8')) as Partial<ServiceAccountKey>;
  } catch (err) {
    throw tetherError('TETHER_CONFIG_INVALID', `TETHER_GOOGLE_SERVICE_ACCOUNT_FILE ${path}: cannot be read as JSON: ${errorMessage(err)}`);
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw tetherError('TETHER_CONFIG_INVALID', `TETHER_GOOGLE_SERVICE_ACCOUNT_FILE ${path}: not a service-account key (client_email and private_key missing)`);
  }
  return { client_email: key.client_email, private_key: key.private_key, token_uri: typeof key.token_uri === 'string' ? key.token_uri : undefined };
}

export const googleSource = defineSource({
  name: P,
  description: 'Google Workspace Admin Reports token activities: OAuth grants, revokes and token use (connector inventory)',
  env: {
    /** Service-account key file (JSON) with domain-wide delegation for the Reports scope. */
    TETHER_GOOGLE_SERVICE_ACCOUNT_FILE: env.optionalString(),
    /** The admin the service account acts as (domain-wide delegation `sub`). */
    TETHER_GOOGLE_SUBJECT: env.optionalString(),
    /** Reports of this customer only; default: the subject's own. */
    TETHER_GOOGLE_CUSTOMER_ID: env.optionalString(),
    TETHER_GOOGLE_BASE_URL: env.url('https://admin.googleapis.com'),
    /** Overrides the key file's `token_uri`. */
    TETHER_GOOGLE_TOKEN_URI: env.url().optional(),
    /** Client-side pacing; 0 = none (the quota is 2,400 queries a minute). */
    TETHER_GOOGLE_REQUESTS_PER_MINUTE: env.int(0, 0),
    ...grantSharedEnv,
  },
  endpoint: (config) => {
    if (config.TETHER_GOOGLE_SERVICE_ACCOUNT_FILE === undefined) return null;
    if (config.TETHER_GOOGLE_SUBJECT === undefined) {
      throw tetherError('TETHER_CONFIG_INVALID', 'TETHER_GOOGLE_SUBJECT: required with TETHER_GOOGLE_SERVICE_ACCOUNT_FILE (the admin the Reports API is read as)');
    }
    const key = readServiceAccountKey(config.TETHER_GOOGLE_SERVICE_ACCOUNT_FILE);
    return {
      baseUrl: config.TETHER_GOOGLE_BASE_URL,
      auth: googleServiceAccount({
        clientEmail: key.client_email,
        privateKey: key.private_key,
        tokenUri: config.TETHER_GOOGLE_TOKEN_URI ?? key.token_uri,
        scopes: [GOOGLE_REPORTS_SCOPE],
        subject: config.TETHER_GOOGLE_SUBJECT,
      }),
      requestsPerMinute: config.TETHER_GOOGLE_REQUESTS_PER_MINUTE,
    };
  },
  feeds: googleFeeds,
});

function googleFeeds(deps: SourceDeps, config: GrantSharedConfig & { TETHER_GOOGLE_CUSTOMER_ID?: string | undefined }): SourceFeeds {
  const maxResults = clampLimit(deps.pageLimit, GOOGLE_MAX_RESULTS);
  const customerId = config.TETHER_GOOGLE_CUSTOMER_ID;
  const normalise = onFramework(P, GOOGLE_TOKEN_FEED, normaliseGoogleToken);
  const feed = (name: string, names: readonly ('authorize' | 'revoke' | 'activity')[]) => ({
    feed: name,
    maxWindowMs: 24 * HOUR,
    // Google's own lag: windows end 2 min behind now and are read again 6 h later (reference 1.4).
    lagMs: 2 * MINUTE,
    rereadMs: 6 * HOUR,
    fetchPage: (window: { from: number; to: number }, cursor: unknown, signal: AbortSignal) =>
      fetchGoogleNamesPage(deps.http, window, cursor as GoogleNamesCursor | null, names, { maxResults, customerId }, signal),
    normalise,
  });
  return {
    eventFeeds: [feed('token_grants', ['authorize', 'revoke']), feed('token_activity', ['activity'])],
    inventories: [],
    fold: grantFold(P, config),
    importFeeds: { [GOOGLE_TOKEN_FEED]: normalise, token_grants: normalise, token_activity: normalise },
    defaultImportFeed: GOOGLE_TOKEN_FEED,
  };
}
