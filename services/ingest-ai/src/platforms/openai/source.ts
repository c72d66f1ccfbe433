// OpenAI Admin API (reference section 1): the audit log read in effective_at
// windows, paged with `after` = last_id while has_more; inventories paged
// the same way. Auth: `Authorization: Bearer <admin key>`.
import { env } from '#config';
import { afterIdPage, bearerAuth, defineSource, inventory, paginate, serialiseElement, type HttpClient, type Query, type SourceDeps, type SourceFeeds } from '#source';
import { nhiVersion, personVersion } from '../../identity.ts';
import { asObject, idOf } from '../../normalise/common.ts';
import { normaliseOpenAiAudit } from './audit.ts';
import { isProjectOwner, openAiAdminApiKey, openAiProjectItem, openAiUser, type ProjectInventoryItem } from './inventory.ts';

const P = 'openai' as const;
export const OPENAI_MAX_PAGE = 100;

export const openAiSource = defineSource({
  name: P,
  description: 'OpenAI Admin API: audit log, users, projects (service accounts, API keys), admin API keys',
  env: {
    /** Admin API key (`sk-admin-...`). */
    TETHER_OPENAI_ADMIN_KEY: env.optionalString(),
    TETHER_OPENAI_BASE_URL: env.url('https://api.openai.com/v1'),
    /** Client-side pacing; 0 = none (OpenAI publishes no limit). */
    TETHER_OPENAI_REQUESTS_PER_MINUTE: env.int(0, 0),
  },
  endpoint: (config) =>
    config.TETHER_OPENAI_ADMIN_KEY === undefined
      ? null
      : { baseUrl: config.TETHER_OPENAI_BASE_URL, auth: bearerAuth(config.TETHER_OPENAI_ADMIN_KEY), requestsPerMinute: config.TETHER_OPENAI_REQUESTS_PER_MINUTE },
  feeds: openAiFeeds,
});

function openAiFeeds(deps: SourceDeps): SourceFeeds {
  const limit = Math.min(Math.max(1, deps.pageLimit), OPENAI_MAX_PAGE);
  const list = (path: string, query: Query = {}) => (signal: AbortSignal) =>
    paginate<string>((after, s) => deps.http.getJson(path, { ...query, limit, after }, s).then((body) => afterIdPage(body, path)), { signal, what: path });

  return {
    eventFeeds: [
      {
        feed: 'audit_logs',
        maxWindowMs: 31 * 86_400_000,
        lagMs: 60_000,
        async fetchPage(window, after, signal) {
          // Whole seconds, rounded the same way at both ends, so adjacent windows neither overlap nor gap.
          const body = await deps.http.getJson(
            '/organization/audit_logs',
            { 'effective_at[gte]': Math.ceil(window.from / 1000), 'effective_at[lt]': Math.ceil(window.to / 1000), limit, after: after as string | null },
            signal,
          );
          return afterIdPage(body, '/organization/audit_logs');
        },
        normalise: normaliseOpenAiAudit,
      },
    ],
    inventories: [
      inventory({
        feed: 'users',
        pages: pagesOf(list('/organization/users')),
        process: openAiUser,
        emit: (change) => [personVersion(change, P, 'users')],
        importable: true,
      }),
      inventory({
        feed: 'projects',
        pages: (signal) => projectInventory(deps.http, limit, signal),
        process: (item) => openAiProjectItem(item as ProjectInventoryItem),
        emit: (change) => [nhiVersion(change, P, 'projects')],
        rawOf: (item) => serialiseElement((item as ProjectInventoryItem).item),
      }),
      inventory({
        feed: 'admin_api_keys',
        pages: pagesOf(list('/organization/admin_api_keys')),
        process: openAiAdminApiKey,
        emit: (change) => [nhiVersion(change, P, 'admin_api_keys')],
        importable: true,
      }),
    ],
    importFeeds: { audit_logs: normaliseOpenAiAudit },
    defaultImportFeed: 'audit_logs',
    accountsFeed: 'users',
  };
}

function pagesOf(pages: (signal: AbortSignal) => AsyncIterable<{ items: readonly unknown[] }>) {
  return async function* (signal: AbortSignal): AsyncIterable<readonly unknown[]> {
    for await (const page of pages(signal)) yield page.items;
  };
}

/** Projects (archived ones too) with their owners, then each project's service accounts and API keys. */
async function* projectInventory(http: HttpClient, limit: number, signal: AbortSignal): AsyncIterable<readonly ProjectInventoryItem[]> {
  const list = (path: string, query: Query = {}) =>
    paginate<string>((after, s) => http.getJson(path, { ...query, limit, after }, s).then((b) => afterIdPage(b, path)), { signal, what: path });
  // The id the project mapper keys it by; an element it refuses has no children to list.
  const idOfProject = (project: unknown) => idOf(asObject(project)?.id);
  const base = (projectId: string) => `/organization/projects/${encodeURIComponent(projectId)}`;
  for await (const page of list('/organization/projects', { include_archived: true })) {
    // A project's owner is part of its version, so its users are read before it is yielded; only owners are kept.
    const owners = new Map<string, unknown[]>();
    for (const project of page.items) {
      const projectId = idOfProject(project);
      if (projectId === null || owners.has(projectId)) continue;
      const found: unknown[] = [];
      for await (const users of list(`${base(projectId)}/users`)) found.push(...users.items.filter(isProjectOwner));
      owners.set(projectId, found);
    }
    yield page.items.map((item) => ({ kind: 'project' as const, item, owners: owners.get(idOfProject(item) ?? '') ?? [] }));
    for (const project of page.items) {
      const projectId = idOfProject(project);
      if (projectId === null) continue;
      for (const [kind, path, query] of [
        ['service_account', `${base(projectId)}/service_accounts`, {}],
        ['api_key', `${base(projectId)}/api_keys`, { owner_project_access: 'any' }],
      ] as const) {
        for await (const sub of list(path, query)) yield sub.items.map((item) => ({ kind, projectId, item }));
      }
    }
  }
}
