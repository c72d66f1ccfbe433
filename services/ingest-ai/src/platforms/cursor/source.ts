// Cursor Admin API (reference section 3): the audit log read in closed
// windows (startTime/endTime in epoch ms, at most 30 days) and paged by page
// number while hasNextPage; usage events the same way by POST; team members
// as one list. Auth: HTTP Basic with the key as user name, empty password.
import { env } from '#config';
import { tetherError } from '#errors';
import { basicAuth, defineSource, inventory, pageNumberPage, type EntityResult, type SourceDeps, type SourceFeeds } from '#source';
import { flag, idOf, str } from '../../normalise/common.ts';
import { badEntity, entityObject, personVersion, platformAccount, type PersonContent } from '../../identity.ts';
import { normaliseCursorAudit } from './audit.ts';
import { normaliseCursorUsage } from './usage.ts';

const P = 'cursor' as const;
export const CURSOR_AUDIT_MAX_PAGE = 500;
export const CURSOR_USAGE_MAX_PAGE = 1000;
const MAX_WINDOW_MS = 30 * 86_400_000;

/** The header value, which is itself a secret to scrub (it is the key in base64). */
export function cursorBasicAuth(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

export const cursorSource = defineSource({
  name: P,
  description: 'Cursor Admin API: audit log, usage events, team members',
  env: {
    /** Admin API key (HTTP Basic user name). */
    TETHER_CURSOR_API_KEY: env.optionalString(),
    TETHER_CURSOR_BASE_URL: env.url('https://api.cursor.com'),
    /** The Admin API's published limit. */
    TETHER_CURSOR_REQUESTS_PER_MINUTE: env.int(20, 0),
  },
  endpoint: (config) =>
    config.TETHER_CURSOR_API_KEY === undefined
      ? null
      : { baseUrl: config.TETHER_CURSOR_BASE_URL, auth: basicAuth(config.TETHER_CURSOR_API_KEY), requestsPerMinute: config.TETHER_CURSOR_REQUESTS_PER_MINUTE },
  feeds: cursorFeeds,
});

function cursorFeeds(deps: SourceDeps): SourceFeeds {
  const auditSize = Math.min(Math.max(1, deps.pageLimit), CURSOR_AUDIT_MAX_PAGE);
  const usageSize = Math.min(Math.max(1, deps.pageLimit), CURSOR_USAGE_MAX_PAGE);
  return {
    eventFeeds: [
      {
        feed: 'audit_logs',
        maxWindowMs: MAX_WINDOW_MS,
        // Offset paging is only stable over a window nothing is still arriving in.
        lagMs: 300_000,
        async fetchPage(window, page, signal) {
          const current = (page as number | null) ?? 1;
          // endTime is taken as inclusive: the last millisecond of [from, to).
          const body = await deps.http.getJson('/teams/audit-logs', { startTime: window.from, endTime: window.to - 1, page: current, pageSize: auditSize }, signal);
          const params = (body as { params?: { teamId?: unknown } } | null)?.params;
          return { ...pageNumberPage(body, '/teams/audit-logs', 'events', current), organizationId: idOf(params?.teamId) };
        },
        normalise: normaliseCursorAudit,
      },
      {
        feed: 'usage_events',
        maxWindowMs: MAX_WINDOW_MS,
        lagMs: 600_000,
        async fetchPage(window, page, signal) {
          const current = (page as number | null) ?? 1;
          const body = await deps.http.postJson('/teams/filtered-usage-events', { startDate: window.from, endDate: window.to - 1, page: current, pageSize: usageSize }, signal);
          return pageNumberPage(body, '/teams/filtered-usage-events', 'usageEvents', current);
        },
        normalise: normaliseCursorUsage,
      },
    ],
    inventories: [
      inventory({
        feed: 'members',
        async *pages(signal) {
          const body = await deps.http.getJson('/teams/members', {}, signal);
          const members = (body as { teamMembers?: unknown } | null)?.teamMembers;
          if (!Array.isArray(members)) throw tetherError('TETHER_SOURCE_PARSE', '/teams/members: response has no "teamMembers" array');
          yield members;
        },
        process: cursorMember,
        emit: (change) => [personVersion(change, P, 'members')],
      }),
    ],
    importFeeds: { audit_logs: normaliseCursorAudit, usage_events: normaliseCursorUsage },
    defaultImportFeed: 'audit_logs',
    accountsFeed: 'members',
  };
}

/** Members carry no join time; `isRemoved` keeps a leaver listed as inactive. */
export function cursorMember(item: unknown): EntityResult<PersonContent> {
  const o = entityObject(item, 'cursor team member');
  if (!o.ok) return o;
  const m = o.value;
  const id = idOf(m.id);
  if (id === null) return badEntity('cursor team member has no id');
  return {
    ok: true,
    entities: [platformAccount(P, { userId: id, email: str(m.email), name: str(m.name), role: str(m.role), active: flag(m.isRemoved) !== true, sourceTime: null, createdAt: null })],
  };
}
