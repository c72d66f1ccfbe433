// Anthropic (reference section 2): the Compliance API activity feed read in
// created_at windows (dotted `created_at.gte` / `.lt` keys, RFC 3339), paged
// with `after_id` = last_id while has_more; Admin API inventories paged the
// same way. Auth: `x-api-key` plus `anthropic-version`.
import { env } from '#config';
import { afterIdPage, defineSource, headerAuth, inventory, paginate, serialiseElement, type HttpClient, type Query, type SourceDeps, type SourceFeeds } from '#source';
import { personVersion } from '../../identity.ts';
import { asObject, idOf } from '../../normalise/common.ts';
import { normaliseAnthropicActivity } from './activities.ts';
import {
  anthropicApiKey, anthropicInvite, anthropicUser, anthropicWorkspaceItem, apiKeyRecords, inviteEvents, workspaceRecords,
  type WorkspaceInventoryItem,
} from './inventory.ts';

const P = 'anthropic' as const;
export const ANTHROPIC_ACTIVITY_MAX_PAGE = 5000;
export const ANTHROPIC_ADMIN_MAX_PAGE = 1000;
export const ANTHROPIC_VERSION = '2023-06-01';

export function anthropicAuthHeaders(key: string): Record<string, string> {
  return { 'x-api-key': key, 'anthropic-version': ANTHROPIC_VERSION };
}

export const anthropicSource = defineSource({
  name: P,
  description: 'Anthropic Compliance API activities and Admin API users, invites, workspaces, API keys',
  env: {
    /** Admin API key; the activity feed also needs `read:compliance_activities`. */
    TETHER_ANTHROPIC_ADMIN_KEY: env.optionalString(),
    TETHER_ANTHROPIC_BASE_URL: env.url('https://api.anthropic.com'),
    /** The Compliance API's published limit. */
    TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: env.int(600, 0),
  },
  endpoint: (config) =>
    config.TETHER_ANTHROPIC_ADMIN_KEY === undefined
      ? null
      : {
          baseUrl: config.TETHER_ANTHROPIC_BASE_URL,
          auth: headerAuth(anthropicAuthHeaders(config.TETHER_ANTHROPIC_ADMIN_KEY), [config.TETHER_ANTHROPIC_ADMIN_KEY]),
          requestsPerMinute: config.TETHER_ANTHROPIC_REQUESTS_PER_MINUTE,
        },
  feeds: anthropicFeeds,
});

function anthropicFeeds(deps: SourceDeps): SourceFeeds {
  const activityLimit = Math.min(Math.max(1, deps.pageLimit), ANTHROPIC_ACTIVITY_MAX_PAGE);
  const adminLimit = Math.min(Math.max(1, deps.pageLimit), ANTHROPIC_ADMIN_MAX_PAGE);
  const list = (path: string, query: Query = {}) => listPages(deps.http, path, { ...query, limit: adminLimit });

  return {
    eventFeeds: [
      {
        feed: 'compliance_activities',
        maxWindowMs: 31 * 86_400_000,
        // Rows become queryable about a minute after the event.
        lagMs: 120_000,
        async fetchPage(window, afterId, signal) {
          const body = await deps.http.getJson(
            '/v1/compliance/activities',
            {
              'created_at.gte': new Date(window.from).toISOString(),
              'created_at.lt': new Date(window.to).toISOString(),
              limit: activityLimit,
              after_id: afterId as string | null,
            },
            signal,
          );
          return afterIdPage(body, '/v1/compliance/activities');
        },
        normalise: normaliseAnthropicActivity,
      },
    ],
    inventories: [
      inventory({
        feed: 'users',
        pages: list('/v1/organizations/users'),
        process: anthropicUser,
        emit: (change) => [personVersion(change, P, 'users')],
        importable: true,
      }),
      inventory({ feed: 'invites', pages: list('/v1/organizations/invites'), process: anthropicInvite, emit: inviteEvents, importable: true }),
      inventory({
        feed: 'workspaces',
        pages: (signal) => workspaceInventory(deps.http, adminLimit, signal),
        process: (item) => anthropicWorkspaceItem(item as WorkspaceInventoryItem),
        emit: workspaceRecords,
        rawOf: (item) => serialiseElement((item as WorkspaceInventoryItem).item),
      }),
      inventory({
        feed: 'api_keys',
        pages: list('/v1/organizations/api_keys'),
        process: (item) => anthropicApiKey(item, deps.directory),
        emit: apiKeyRecords,
        importable: true,
      }),
    ],
    importFeeds: { compliance_activities: normaliseAnthropicActivity },
    defaultImportFeed: 'compliance_activities',
    accountsFeed: 'users',
  };
}

function listPages(http: HttpClient, path: string, query: Query) {
  return async function* (signal: AbortSignal): AsyncIterable<readonly unknown[]> {
    const pages = paginate<string>((afterId, s) => http.getJson(path, { ...query, after_id: afterId }, s).then((b) => afterIdPage(b, path)), { signal, what: path });
    for await (const page of pages) yield page.items;
  };
}

/** Workspaces (archived ones too), then each workspace's members. */
async function* workspaceInventory(http: HttpClient, limit: number, signal: AbortSignal): AsyncIterable<readonly WorkspaceInventoryItem[]> {
  for await (const page of listPages(http, '/v1/organizations/workspaces', { include_archived: true, limit })(signal)) {
    yield page.map((item) => ({ kind: 'workspace' as const, item }));
    for (const workspace of page) {
      // The id the workspace mapper keys it by; an element it refuses has no members to list.
      const workspaceId = idOf(asObject(workspace)?.id);
      if (workspaceId === null) continue;
      const path = `/v1/organizations/workspaces/${encodeURIComponent(workspaceId)}/members`;
      for await (const members of listPages(http, path, { limit })(signal)) {
        yield members.map((item) => ({ kind: 'workspace_member' as const, workspaceId, item }));
      }
    }
  }
}
