// Microsoft Graph (reference section 2): auditLogs/directoryAudits read in
// activityDateTime windows (filtered to ApplicationManagement, ascending,
// then @odata.nextLink verbatim), read again 30 min later for late records;
// oauth2PermissionGrants snapshotted as an inventory. Auth: OAuth 2.0 client
// credentials at the tenant's token endpoint, scope Graph `.default`
// (application permissions AuditLog.Read.All, Directory.Read.All).
import { env } from '#config';
import { defineSource, inventory, oauthClientCredentials, serialiseElement, type SourceDeps, type SourceFeeds } from '#source';
import { entraPermissionGrantPages, ENTRA_MAX_TOP, fetchEntraAuditsPage, fetchServicePrincipal } from '../../fetch/fetchers.ts';
import { clampLimit, grantFold, grantSharedEnv, onFramework, type GrantSharedConfig } from '../grant-source.ts';
import { ENTRA_AUDIT_FEED, normaliseEntraAuditWith } from './directory-audit.ts';
import { ENTRA_GRANTS_FEED, permissionGrantEntity, permissionGrantRecords, type ListedGrant, type PermissionGrant } from './permission-grants.ts';

const P = 'entra' as const;
const MINUTE = 60_000;
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export const entraSource = defineSource({
  name: P,
  description: 'Microsoft Entra (Graph) directory audits of consents and permission grants, and the oauth2PermissionGrants inventory',
  env: {
    TETHER_ENTRA_TENANT_ID: env.optionalString(),
    /** App registration with AuditLog.Read.All and Directory.Read.All (application). */
    TETHER_ENTRA_CLIENT_ID: env.optionalString(),
    TETHER_ENTRA_CLIENT_SECRET: env.optionalString(),
    TETHER_ENTRA_BASE_URL: env.url('https://graph.microsoft.com/v1.0'),
    /** Default: https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token. */
    TETHER_ENTRA_TOKEN_URL: env.url().optional(),
    /** Graph's identity-and-access reports allow 5 requests per 10 s per app and tenant. */
    TETHER_ENTRA_REQUESTS_PER_MINUTE: env.int(30, 0),
    ...grantSharedEnv,
  },
  endpoint: (config) =>
    config.TETHER_ENTRA_TENANT_ID === undefined || config.TETHER_ENTRA_CLIENT_ID === undefined || config.TETHER_ENTRA_CLIENT_SECRET === undefined
      ? null
      : {
          baseUrl: config.TETHER_ENTRA_BASE_URL,
          auth: oauthClientCredentials({
            tokenUrl: config.TETHER_ENTRA_TOKEN_URL ?? `https://login.microsoftonline.com/${encodeURIComponent(config.TETHER_ENTRA_TENANT_ID)}/oauth2/v2.0/token`,
            clientId: config.TETHER_ENTRA_CLIENT_ID,
            clientSecret: config.TETHER_ENTRA_CLIENT_SECRET,
            scopes: [GRAPH_SCOPE],
            clientAuth: 'body',
          }),
          requestsPerMinute: config.TETHER_ENTRA_REQUESTS_PER_MINUTE,
        },
  feeds: entraFeeds,
});

function entraFeeds(deps: SourceDeps, config: GrantSharedConfig & { TETHER_ENTRA_TENANT_ID?: string | undefined }): SourceFeeds {
  const top = clampLimit(deps.pageLimit, ENTRA_MAX_TOP);
  const tenant = config.TETHER_ENTRA_TENANT_ID ?? 'tenant';
  // Service principal object id -> app id and name, filled as the grants inventory resolves them; the audit
  // normaliser reads it for records that name the client only by object id.
  const principals = new Map<string, { appId: string | null; displayName: string | null }>();
  const normalise = onFramework(P, ENTRA_AUDIT_FEED, normaliseEntraAuditWith((objectId) => principals.get(objectId)?.appId ?? null), tenant);

  async function* grantPages(signal: AbortSignal): AsyncIterable<readonly ListedGrant[]> {
    for await (const page of entraPermissionGrantPages(deps.http, signal)) {
      const out: ListedGrant[] = [];
      for (const grant of page.items) {
        const objectId = typeof (grant as { clientId?: unknown })?.clientId === 'string' ? (grant as { clientId: string }).clientId : null;
        if (objectId !== null && !principals.has(objectId)) principals.set(objectId, await fetchServicePrincipal(deps.http, objectId, signal));
        const sp = objectId === null ? undefined : principals.get(objectId);
        out.push({ grant, appId: sp?.appId ?? null, appName: sp?.displayName ?? null });
      }
      yield out;
    }
  }

  return {
    eventFeeds: [
      {
        feed: ENTRA_AUDIT_FEED,
        maxWindowMs: 24 * 60 * MINUTE,
        // 2 min p95 / 5 min p99 (reference 2.1): windows end 5 min behind now, read again after 30 min.
        lagMs: 5 * MINUTE,
        rereadMs: 30 * MINUTE,
        async fetchPage(window, next, signal) {
          return { ...(await fetchEntraAuditsPage(deps.http, window, next as string | null, top, signal)), organizationId: tenant };
        },
        normalise,
      },
    ],
    inventories: [
      inventory<PermissionGrant>({
        feed: ENTRA_GRANTS_FEED,
        pages: grantPages,
        process: permissionGrantEntity,
        emit: (change) => permissionGrantRecords(change, tenant),
        rawOf: (item) => serialiseElement((item as ListedGrant).grant),
      }),
    ],
    fold: grantFold(P, config),
    importFeeds: { [ENTRA_AUDIT_FEED]: normalise },
    defaultImportFeed: ENTRA_AUDIT_FEED,
  };
}
