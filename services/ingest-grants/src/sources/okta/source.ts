// Okta System Log (reference section 3): /api/v1/logs in polling mode, a
// cursor feed: `since` once (filter `eventType sw "app.oauth2"`, ascending),
// then Okta's own `Link: rel="next"` URLs, the last of which is the
// checkpoint; a short page means caught up. Late events are not missed:
// polling mode filters by Okta's persistence time. X-Rate-Limit-* headers:
// a 429 waits for the reset (the HTTP client). Auth: `SSWS <API token>`, or
// an OAuth access token from client credentials (scope okta.logs.read).
import { env } from '#config';
import { defineSource, headerAuth, oauthClientCredentials, type Auth, type SourceDeps, type SourceFeeds } from '#source';
import { fetchOktaLogsPage, OKTA_MAX_LIMIT } from '../../fetch/fetchers.ts';
import { clampLimit, grantFold, grantSharedEnv, onFramework, type GrantSharedConfig } from '../grant-source.ts';
import { normaliseOktaLog, OKTA_LOG_FEED } from './system-log.ts';

const P = 'okta' as const;

/** `Authorization: SSWS <token>`: the token and the header are secrets. */
export function sswsAuth(token: string): Auth {
  return headerAuth({ authorization: `SSWS ${token}` }, [token, `SSWS ${token}`]);
}

export const oktaSource = defineSource({
  name: P,
  description: 'Okta System Log: OAuth consents, revocations and token grants (polling mode)',
  env: {
    /** https://<your org>.okta.com */
    TETHER_OKTA_BASE_URL: env.url().optional(),
    /** An API token (sent as `SSWS <token>`). */
    TETHER_OKTA_API_TOKEN: env.optionalString(),
    /** OAuth instead of an API token: a service app's client id and secret (client credentials, scope okta.logs.read). */
    TETHER_OKTA_CLIENT_ID: env.optionalString(),
    TETHER_OKTA_CLIENT_SECRET: env.optionalString(),
    /** Default: <base URL>/oauth2/v1/token. */
    TETHER_OKTA_TOKEN_URL: env.url().optional(),
    /** Client-side pacing; 0 = none (the rate-limit headers are honoured either way). */
    TETHER_OKTA_REQUESTS_PER_MINUTE: env.int(0, 0),
    ...grantSharedEnv,
  },
  endpoint: (config) => {
    const base = config.TETHER_OKTA_BASE_URL;
    if (base === undefined) return null;
    let auth: Auth;
    if (config.TETHER_OKTA_API_TOKEN !== undefined) auth = sswsAuth(config.TETHER_OKTA_API_TOKEN);
    else if (config.TETHER_OKTA_CLIENT_ID !== undefined && config.TETHER_OKTA_CLIENT_SECRET !== undefined) {
      auth = oauthClientCredentials({
        tokenUrl: config.TETHER_OKTA_TOKEN_URL ?? `${base.replace(/\/+$/, '')}/oauth2/v1/token`,
        clientId: config.TETHER_OKTA_CLIENT_ID,
        clientSecret: config.TETHER_OKTA_CLIENT_SECRET,
        scopes: ['okta.logs.read'],
      });
    } else return null;
    return { baseUrl: base, auth, requestsPerMinute: config.TETHER_OKTA_REQUESTS_PER_MINUTE };
  },
  feeds: oktaFeeds,
});

function oktaFeeds(deps: SourceDeps, config: GrantSharedConfig & { TETHER_OKTA_BASE_URL?: string | undefined }): SourceFeeds {
  const limit = clampLimit(deps.pageLimit, OKTA_MAX_LIMIT);
  const org = config.TETHER_OKTA_BASE_URL ? new URL(config.TETHER_OKTA_BASE_URL).host : null;
  const normalise = onFramework(P, OKTA_LOG_FEED, normaliseOktaLog, org);
  return {
    eventFeeds: [
      {
        kind: 'cursor',
        feed: OKTA_LOG_FEED,
        async fetchPage(since, next, signal) {
          return { ...(await fetchOktaLogsPage(deps.http, since, next as string | null, limit, signal)), organizationId: org };
        },
        normalise,
      },
    ],
    inventories: [],
    fold: grantFold(P, config),
    importFeeds: { [OKTA_LOG_FEED]: normalise },
    defaultImportFeed: OKTA_LOG_FEED,
  };
}
