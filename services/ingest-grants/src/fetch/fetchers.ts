// The per-API page fetchers of the four grant sources: request shape, paging
// style, windows, lag and re-read overlap (reference sections 1.4, 2.1, 3.1,
// 4.1). Small functions over the `#source` HttpClient (timeouts, retries,
// 429 / Retry-After / rate-limit reset headers); authentication is the
// client's (OAuth client credentials, Google service-account JWT: the source
// framework's auth hooks), so these never see a credential.
import { tetherError } from '#errors';
import { paginate, sleep as defaultSleep, type HttpClient, type Page, type TimeWindow } from '#source';
import { googlePage, linkedArrayPage, odataPage } from './pages.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How far behind now a window ends, and how far back each poll re-reads (late records). */
export const LAG_AND_OVERLAP = {
  google: { lagMs: 2 * MINUTE, overlapMs: 6 * HOUR, retentionMs: 180 * DAY },
  entra: { lagMs: 2 * MINUTE, overlapMs: 30 * MINUTE, retentionMs: 30 * DAY },
  okta: { lagMs: 0, overlapMs: 0, retentionMs: 90 * DAY },
  github: { lagMs: 0, overlapMs: DAY, retentionMs: 180 * DAY },
} as const;

/**
 * The window of one poll: from the checkpoint minus the overlap (never
 * before the source's retention), to now minus the lag; fixed across pages.
 */
export function pollWindow(source: keyof typeof LAG_AND_OVERLAP, checkpoint: number, now: number): TimeWindow {
  const { lagMs, overlapMs, retentionMs } = LAG_AND_OVERLAP[source];
  const to = now - lagMs;
  return { from: Math.min(to, Math.max(checkpoint - overlapMs, now - retentionMs)), to };
}

const iso = (ms: number) => new Date(ms).toISOString();

// ------------------------------------------------------------------ Google

export const GOOGLE_MAX_RESULTS = 1000;

export interface GoogleTokenQuery {
  /** `all`, or one user's email or profile id. */
  userKey?: string;
  /** One stream per call: grants (authorize, revoke) and use (activity) are polled apart. */
  eventName?: 'authorize' | 'revoke' | 'activity' | 'request' | 'deny';
  maxResults?: number;
  customerId?: string;
}

/** One page of `activities.list` for applicationName=token: `[startTime, endTime)` in RFC 3339. */
export async function fetchGoogleTokenPage(
  http: HttpClient, window: TimeWindow, pageToken: string | null, query: GoogleTokenQuery, signal?: AbortSignal,
): Promise<Page<string>> {
  const userKey = encodeURIComponent(query.userKey ?? 'all');
  const path = `/admin/reports/v1/activity/users/${userKey}/applications/token`;
  const body = await http.getJson(path, {
    startTime: iso(window.from),
    // endTime is inclusive at millisecond precision: one before the window's end, so windows do not overlap.
    endTime: iso(window.to - 1),
    eventName: query.eventName,
    maxResults: Math.min(Math.max(1, query.maxResults ?? GOOGLE_MAX_RESULTS), GOOGLE_MAX_RESULTS),
    customerId: query.customerId,
    pageToken,
  }, signal);
  return googlePage(body, path);
}

// ------------------------------------------------------------------- Entra

export const ENTRA_MAX_TOP = 999;
export const ENTRA_AUDIT_PATH = '/auditLogs/directoryAudits';

/** One page of directoryAudits in a window: the filtered first request, then `@odata.nextLink` verbatim. */
export async function fetchEntraAuditsPage(
  http: HttpClient, window: TimeWindow, nextLink: string | null, top: number = 500, signal?: AbortSignal,
): Promise<Page<string>> {
  if (nextLink !== null) return odataPage((await http.get(nextLink, undefined, signal)).body, ENTRA_AUDIT_PATH);
  const filter = `category eq 'ApplicationManagement' and activityDateTime ge ${iso(window.from)} and activityDateTime le ${iso(window.to - 1)}`;
  const body = await http.getJson(ENTRA_AUDIT_PATH, { $filter: filter, $orderby: 'activityDateTime asc', $top: Math.min(Math.max(1, top), ENTRA_MAX_TOP) }, signal);
  return odataPage(body, ENTRA_AUDIT_PATH);
}

/** Every page of the oauth2PermissionGrants snapshot (inventory). */
export function entraPermissionGrantPages(http: HttpClient, signal?: AbortSignal): AsyncGenerator<Page<string>> {
  const path = '/oauth2PermissionGrants';
  return paginate<string>(async (next, s) => odataPage(next === null ? await http.getJson(path, {}, s) : (await http.get(next, undefined, s)).body, path), { signal });
}

/** A service principal's app id and name by object id (oauth2PermissionGrants name the client by object id). */
export async function fetchServicePrincipal(http: HttpClient, objectId: string, signal?: AbortSignal): Promise<{ appId: string | null; displayName: string | null }> {
  const body = (await http.getJson(`/servicePrincipals/${encodeURIComponent(objectId)}`, { $select: 'id,appId,displayName' }, signal)) as Record<string, unknown> | null;
  return { appId: typeof body?.appId === 'string' ? body.appId : null, displayName: typeof body?.displayName === 'string' ? body.displayName : null };
}

// -------------------------------------------------------------------- Okta

export const OKTA_MAX_LIMIT = 1000;
export const OKTA_OAUTH_FILTER = 'eventType sw "app.oauth2"';

export interface OktaRateLimit {
  limit: number | null;
  remaining: number | null;
  /** Epoch ms. */
  resetAt: number | null;
}

export function oktaRateLimit(headers: Headers): OktaRateLimit {
  const n = (name: string) => {
    const v = headers.get(name)?.trim();
    return v && /^\d+$/.test(v) ? Number(v) : null;
  };
  const reset = n('x-rate-limit-reset');
  return { limit: n('x-rate-limit-limit'), remaining: n('x-rate-limit-remaining'), resetAt: reset === null ? null : reset * 1000 };
}

export interface OktaRound {
  pages: Page<string>[];
  /** The URL to GET next time (Okta's own next link): the checkpoint. */
  resume: string;
}

/**
 * One polling round of /api/v1/logs (no `until`, ascending): from the saved
 * next link, or `since` with the filter; follows `rel="next"` while pages are
 * full and stops at the first short (or empty) page, whose next link is the
 * resume point: in polling mode every page has one. A round never moves
 * `since`. When the budget is spent (`X-Rate-Limit-Remaining: 0`) it waits
 * for `X-Rate-Limit-Reset` before the next request.
 */
export async function readOktaRound(
  http: HttpClient,
  cursor: string | null,
  options: { since: number; limit?: number; filter?: string; now?: () => number; sleep?: (ms: number, signal?: AbortSignal) => Promise<void>; onPage?: (page: Page<string>) => Promise<void> | void },
  signal?: AbortSignal,
): Promise<OktaRound> {
  const limit = Math.min(Math.max(1, options.limit ?? OKTA_MAX_LIMIT), OKTA_MAX_LIMIT);
  const now = options.now ?? Date.now;
  const wait = options.sleep ?? defaultSleep;
  const pages: Page<string>[] = [];
  let resume = cursor;
  let waitMs = 0;
  const reader = paginate<string>(async (next, s) => {
    if (waitMs > 0) await wait(waitMs, s);
    const { body, headers } = next === null
      ? await http.get('/api/v1/logs', { since: iso(options.since), limit, filter: options.filter ?? OKTA_OAUTH_FILTER, sortOrder: 'ASCENDING' }, s)
      : await http.get(next, undefined, s);
    const rate = oktaRateLimit(headers);
    waitMs = rate.remaining === 0 && rate.resetAt !== null ? Math.max(0, rate.resetAt - now()) : 0;
    const page = linkedArrayPage(body, headers, '/api/v1/logs');
    if (page.next === null) throw tetherError('TETHER_SOURCE_PARSE', '/api/v1/logs: a polling page has no rel="next" link');
    resume = page.next;
    // Short page: caught up; the next round GETs its next link.
    return page.items.length < limit ? { items: page.items, next: null } : page;
  }, { start: cursor, signal });
  for await (const page of reader) {
    pages.push(page);
    await options.onPage?.(page);
  }
  return { pages, resume: resume! };
}

// ------------------------------------------------------------------ GitHub

export const GITHUB_MAX_PER_PAGE = 100;

/**
 * One page of /orgs/{org}/audit-log, ascending, from the day before the
 * checkpoint's (`created:` takes dates; dedup is on `_document_id`); then the
 * Link header's `rel="next"` until absent.
 */
export async function fetchGitHubAuditPage(
  http: HttpClient, org: string, since: number, next: string | null, perPage: number = GITHUB_MAX_PER_PAGE, signal?: AbortSignal,
): Promise<Page<string>> {
  const path = `/orgs/${encodeURIComponent(org)}/audit-log`;
  const { body, headers } = next !== null
    ? await http.get(next, undefined, signal)
    : await http.get(path, {
        phrase: `created:>=${iso(since - DAY).slice(0, 10)}`,
        include: 'web',
        order: 'asc',
        per_page: Math.min(Math.max(1, perPage), GITHUB_MAX_PER_PAGE),
      }, signal);
  return linkedArrayPage(body, headers, path);
}

export const GITHUB_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' } as const;
