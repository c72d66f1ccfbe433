// Microsoft Entra's own change history of its users (reference sections 2.1,
// 6.2): directoryAudits of category UserManagement read in activityDateTime
// windows (ascending), paged by following @odata.nextLink verbatim, as
// PersonVersions valid from each record's activityDateTime
// (identity-history.ts). Poll, backfill (up to the tenant's retention: 7 days
// Free, 30 days P1/P2) and import of an exported JSON/JSONL of records. Auth:
// OAuth 2.0 client credentials with AuditLog.Read.All. The path, page size and
// lag are the grant source's (services/ingest-grants/src/fetch).
import { env } from '#config';
import { defineSource, oauthClientCredentials, odataPage, type SourceDeps, type SourceFeeds } from '#source';
import { ENTRA_AUDIT_PATH, ENTRA_MAX_TOP } from '../../../../ingest-grants/src/fetch/fetchers.ts';
import { historyNormaliser, UserHistory } from '../../identity-history.ts';
import { ENTRA_USERS_CATEGORY, ENTRA_USERS_FEED, entraUserChange } from './directory-audits.ts';

export const entraUsersSource = defineSource({
  name: 'entra-users',
  description: 'Microsoft Entra directoryAudits (UserManagement): Add, Update, Disable, Enable, Delete and Restore user as person history',
  env: {
    TETHER_ENTRA_USERS_TENANT_ID: env.optionalString(),
    TETHER_ENTRA_USERS_CLIENT_ID: env.optionalString(),
    TETHER_ENTRA_USERS_CLIENT_SECRET: env.optionalString(),
    TETHER_ENTRA_USERS_GRAPH_URL: env.url('https://graph.microsoft.com/v1.0'),
    TETHER_ENTRA_USERS_LOGIN_URL: env.url('https://login.microsoftonline.com'),
    /** Graph allows 5 requests per 10 s per app and tenant for audit reports. */
    TETHER_ENTRA_USERS_REQUESTS_PER_MINUTE: env.int(30, 0),
  },
  endpoint: (config) => {
    const { TETHER_ENTRA_USERS_TENANT_ID: tenant, TETHER_ENTRA_USERS_CLIENT_ID: clientId, TETHER_ENTRA_USERS_CLIENT_SECRET: clientSecret } = config;
    if (tenant === undefined || clientId === undefined || clientSecret === undefined) return null;
    return {
      baseUrl: config.TETHER_ENTRA_USERS_GRAPH_URL.replace(/\/+$/, ''),
      auth: oauthClientCredentials({
        tokenUrl: `${config.TETHER_ENTRA_USERS_LOGIN_URL.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
        clientId, clientSecret, clientAuth: 'body', scopes: ['https://graph.microsoft.com/.default'],
      }),
      requestsPerMinute: config.TETHER_ENTRA_USERS_REQUESTS_PER_MINUTE,
    };
  },
  feeds: entraUsersFeeds,
});

function entraUsersFeeds(deps: SourceDeps): SourceFeeds {
  const top = Math.min(Math.max(1, deps.pageLimit), ENTRA_MAX_TOP);
  const normalise = historyNormaliser(new UserHistory(), entraUserChange);
  return {
    eventFeeds: [
      {
        feed: ENTRA_USERS_FEED,
        maxWindowMs: 86_400_000,
        // Records appear 2 min (p95) to 15 min after the change: windows end behind that.
        lagMs: 15 * 60_000,
        async fetchPage(window, next, signal) {
          if (next !== null) return odataPage((await deps.http.get(next as string, undefined, signal)).body, ENTRA_AUDIT_PATH);
          // Dates unquoted; `le` is inclusive: one millisecond before the window's end.
          const filter = `category eq '${ENTRA_USERS_CATEGORY}' and activityDateTime ge ${new Date(window.from).toISOString()} and activityDateTime le ${new Date(window.to - 1).toISOString()}`;
          const body = await deps.http.getJson(ENTRA_AUDIT_PATH, { $filter: filter, $orderby: 'activityDateTime asc', $top: top }, signal);
          return odataPage(body, ENTRA_AUDIT_PATH);
        },
        normalise,
      },
    ],
    inventories: [],
    importFeeds: { [ENTRA_USERS_FEED]: normalise },
    defaultImportFeed: ENTRA_USERS_FEED,
  };
}
