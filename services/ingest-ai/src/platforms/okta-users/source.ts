// Okta's own change history of its users (reference sections 3.1, 6.1): the
// System Log's user.lifecycle.* and profile-update events read in bounded
// windows (since + until, ascending, filtered by eventType), paged by the
// Link header's rel="next", as PersonVersions valid from each event's
// `published` (identity-history.ts). Poll, backfill (up to Okta's 90 days)
// and import of an exported JSON/JSONL of LogEvents. Auth: `SSWS <API token>`
// or an OAuth bearer with okta.logs.read. The request shape and rate-limit
// headers are the grant source's (services/ingest-grants/src/fetch).
import { env } from '#config';
import { bearerAuth, defineSource, headerAuth, linkHeaderPage, sleep, type SourceDeps, type SourceFeeds } from '#source';
import { OKTA_MAX_LIMIT, oktaRateLimit } from '../../../../ingest-grants/src/fetch/fetchers.ts';
import { historyNormaliser, UserHistory } from '../../identity-history.ts';
import { OKTA_USERS_FEED, OKTA_USERS_FILTER, oktaUserChange } from './system-log.ts';

const LOGS_PATH = '/api/v1/logs';
/** Bounded queries are ordered by `published` and may miss events persisted late: the lag leaves Okta time to write them. */
const OKTA_LAG_MS = 5 * 60_000;

export const oktaUsersSource = defineSource({
  name: 'okta-users',
  description: 'Okta System Log: user lifecycle (create, activate, suspend, deactivate, delete) and profile updates as person history',
  env: {
    /** The org URL, e.g. https://example.okta.com. */
    TETHER_OKTA_USERS_ORG_URL: env.optionalString(),
    /** An API token (sent as `SSWS <token>`). */
    TETHER_OKTA_USERS_API_TOKEN: env.optionalString(),
    /** Or an OAuth access token with okta.logs.read (Okta recommends OAuth). */
    TETHER_OKTA_USERS_ACCESS_TOKEN: env.optionalString(),
    /** Client-side pacing under the org's System Log budget (often 120/min, shared with other readers). */
    TETHER_OKTA_USERS_REQUESTS_PER_MINUTE: env.int(60, 0),
  },
  endpoint: (config) => {
    const url = config.TETHER_OKTA_USERS_ORG_URL;
    if (url === undefined) return null;
    const auth = config.TETHER_OKTA_USERS_ACCESS_TOKEN !== undefined
      ? bearerAuth(config.TETHER_OKTA_USERS_ACCESS_TOKEN)
      : config.TETHER_OKTA_USERS_API_TOKEN !== undefined ? headerAuth({ authorization: `SSWS ${config.TETHER_OKTA_USERS_API_TOKEN}` }, [config.TETHER_OKTA_USERS_API_TOKEN, `SSWS ${config.TETHER_OKTA_USERS_API_TOKEN}`]) : null;
    return auth === null ? null : { baseUrl: url.replace(/\/+$/, ''), auth, requestsPerMinute: config.TETHER_OKTA_USERS_REQUESTS_PER_MINUTE };
  },
  feeds: oktaUsersFeeds,
});

function oktaUsersFeeds(deps: SourceDeps): SourceFeeds {
  const limit = Math.min(Math.max(1, deps.pageLimit), OKTA_MAX_LIMIT);
  // One fold for the feed and its imports: each version continues the user's state as this process saw it.
  const normalise = historyNormaliser(new UserHistory(), oktaUserChange);
  return {
    eventFeeds: [
      {
        feed: OKTA_USERS_FEED,
        // Okta keeps 90 days; a day per window keeps each bounded query well inside its 30 s timeout.
        maxWindowMs: 86_400_000,
        lagMs: OKTA_LAG_MS,
        async fetchPage(window, next, signal) {
          const { body, headers } = next === null
            ? await deps.http.get(LOGS_PATH, {
                since: new Date(window.from).toISOString(),
                // until is inclusive: one millisecond before the window's end, so windows do not overlap.
                until: new Date(window.to - 1).toISOString(),
                filter: OKTA_USERS_FILTER,
                sortOrder: 'ASCENDING',
                limit,
              }, signal)
            : await deps.http.get(next as string, undefined, signal);
          const page = linkHeaderPage(body, headers.get('link'), LOGS_PATH);
          // The budget is spent: wait for its reset before the next request rather than earn a 429.
          const rate = oktaRateLimit(headers);
          if (rate.remaining === 0 && rate.resetAt !== null) await sleep(Math.min(60_000, Math.max(0, rate.resetAt - Date.now())), signal);
          // A short page is the end of a bounded window, whatever link Okta adds.
          return page.items.length < limit ? { items: page.items, next: null } : page;
        },
        normalise,
      },
    ],
    inventories: [],
    importFeeds: { [OKTA_USERS_FEED]: normalise },
    defaultImportFeed: OKTA_USERS_FEED,
  };
}
