// The per-API page fetchers of the four grant sources: request shape and
// paging style (reference sections 1.1, 2.1, 3.1, 4.1) over the `#source`
// HttpClient (timeouts, retries, 429 / Retry-After / rate-limit reset
// headers) and its page readers (nextPageTokenPage, odataPage,
// linkHeaderPage). Authentication is the client's (OAuth client
// credentials, Google service-account JWT, SSWS or bearer headers: the
// framework's auth hooks), so these never see a credential. Windows, lag and
// re-reads are the runner's (source.ts of each source says how long).
import { tetherError } from '#errors';
import { linkHeaderPage, nextPageTokenPage, odataPage, paginate, type CursorPage, type HttpClient, type Page, type TimeWindow } from '#source';

const iso = (ms: number) => new Date(ms).toISOString();

// ------------------------------------------------------------------ Google

export const GOOGLE_MAX_RESULTS = 1000;

export type GoogleTokenEvent = 'authorize' | 'revoke' | 'activity' | 'request' | 'deny';

export interface GoogleTokenQuery {
  /** `all`, or one user's email or profile id. */
  userKey?: string;
  /** One stream per call: grants (authorize, revoke) and use (activity) are polled apart. */
  eventName?: GoogleTokenEvent;
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
  return nextPageTokenPage(body, path);
}

/** Where a read of several event names of one window is: which name, and its page token. */
export interface GoogleNamesCursor {
  name: number;
  token: string | null;
}

/**
 * One page of a window over several event names (grants: authorize, then
 * revoke), each its own request stream. When one name's pages end, the
 * next name's first page is read into the same page, so no page is empty
 * while more follow (the page guard's rule).
 */
export async function fetchGoogleNamesPage(
  http: HttpClient, window: TimeWindow, cursor: GoogleNamesCursor | null, names: readonly GoogleTokenEvent[], query: Omit<GoogleTokenQuery, 'eventName'>, signal?: AbortSignal,
): Promise<Page<GoogleNamesCursor>> {
  let at = cursor ?? { name: 0, token: null };
  const items: unknown[] = [];
  for (;;) {
    const page = await fetchGoogleTokenPage(http, window, at.token, { ...query, eventName: names[at.name] }, signal);
    items.push(...page.items);
    if (page.next !== null) return { items, next: { name: at.name, token: page.next } };
    if (at.name + 1 >= names.length) return { items, next: null };
    at = { name: at.name + 1, token: null };
    if (items.length > 0) return { items, next: at };
  }
}

// ------------------------------------------------------------------- Entra

export const ENTRA_MAX_TOP = 999;
export const ENTRA_AUDIT_PATH = '/auditLogs/directoryAudits';

/** One page of directoryAudits in a window: the filtered first request, then `@odata.nextLink` verbatim. */
export async function fetchEntraAuditsPage(
  http: HttpClient, window: TimeWindow, nextLink: string | null, top: number = 500, signal?: AbortSignal,
): Promise<Page<string>> {
  if (nextLink !== null) return odataPage(await http.getJson(nextLink, undefined, signal), ENTRA_AUDIT_PATH);
  const filter = `category eq 'ApplicationManagement' and activityDateTime ge ${iso(window.from)} and activityDateTime le ${iso(window.to - 1)}`;
  const body = await http.getJson(ENTRA_AUDIT_PATH, { $filter: filter, $orderby: 'activityDateTime asc', $top: Math.min(Math.max(1, top), ENTRA_MAX_TOP) }, signal);
  return odataPage(body, ENTRA_AUDIT_PATH);
}

export const ENTRA_GRANTS_PATH = '/oauth2PermissionGrants';

/** Every page of the oauth2PermissionGrants snapshot (inventory). */
export function entraPermissionGrantPages(http: HttpClient, signal?: AbortSignal): AsyncGenerator<Page<string>> {
  return paginate<string>(async (next, s) => odataPage(await http.getJson(next ?? ENTRA_GRANTS_PATH, {}, s), ENTRA_GRANTS_PATH), { signal, what: ENTRA_GRANTS_PATH });
}

/** A service principal's app id and name by object id (oauth2PermissionGrants name the client by object id). */
export async function fetchServicePrincipal(http: HttpClient, objectId: string, signal?: AbortSignal): Promise<{ appId: string | null; displayName: string | null }> {
  const body = (await http.getJson(`/servicePrincipals/${encodeURIComponent(objectId)}`, { $select: 'id,appId,displayName' }, signal)) as Record<string, unknown> | null;
  return { appId: typeof body?.appId === 'string' ? body.appId : null, displayName: typeof body?.displayName === 'string' ? body.displayName : null };
}

// -------------------------------------------------------------------- Okta

export const OKTA_MAX_LIMIT = 1000;
export const OKTA_LOGS_PATH = '/api/v1/logs';

export interface OktaRateLimit {
  limit: number | null;
  remaining: number | null;
  /** Epoch ms. */
  resetAt: number | null;
}

/** Okta's documented rate-limit headers (X-Rate-Limit-Limit, -Remaining, -Reset in epoch seconds). */
export function oktaRateLimit(headers: Headers): OktaRateLimit {
  const n = (name: string) => {
    const v = headers.get(name)?.trim();
    return v && /^\d+$/.test(v) ? Number(v) : null;
  };
  const reset = n('x-rate-limit-reset');
  return { limit: n('x-rate-limit-limit'), remaining: n('x-rate-limit-remaining'), resetAt: reset === null ? null : reset * 1000 };
}
export const OKTA_OAUTH_FILTER = 'eventType sw "app.oauth2"';

/**
 * One page of /api/v1/logs in polling mode (no `until`, ascending): the
 * first from `since` with the filter, then Okta's own `rel="next"` links.
 * In polling mode every page has one; a short (or empty) page means caught
 * up, and its next link is where the next poll resumes (never a moved
 * `since`). The rate-limit headers are the HTTP client's: a 429 waits for
 * `X-Rate-Limit-Reset`.
 */
export async function fetchOktaLogsPage(http: HttpClient, since: number, next: string | null, limit: number, signal?: AbortSignal, filter: string = OKTA_OAUTH_FILTER): Promise<CursorPage> {
  const size = Math.min(Math.max(1, limit), OKTA_MAX_LIMIT);
  const { body, headers } = next === null
    ? await http.get(OKTA_LOGS_PATH, { since: iso(since), limit: size, filter, sortOrder: 'ASCENDING' }, signal)
    : await http.get(next, undefined, signal);
  const page = linkHeaderPage(body, headers.get('link'), OKTA_LOGS_PATH);
  if (page.next === null) throw tetherError('TETHER_SOURCE_PARSE', `${OKTA_LOGS_PATH}: a polling page has no rel="next" link`);
  // Short page: caught up for now; the next run GETs its next link.
  return page.items.length < size ? { items: page.items, next: null, resume: page.next } : page;
}

// ------------------------------------------------------------------ GitHub

export const GITHUB_MAX_PER_PAGE = 100;

/** GitHub's search qualifier for a window, to the second (`created:<from>..<to>`, both ends inclusive). */
export function githubCreatedPhrase(window: TimeWindow): string {
  const seconds = (ms: number) => `${iso(Math.floor(ms / 1000) * 1000).slice(0, 19)}Z`;
  return `created:${seconds(window.from)}..${seconds(window.to - 1)}`;
}

/**
 * One page of /orgs/{org}/audit-log over a window, ascending, then the Link
 * header's `rel="next"` until absent. The entries are kept to the window by
 * their own `@timestamp` too: the qualifier is to the second (and some
 * tenants may read it by day), so an entry another window owns is dropped
 * here and read there; `_document_id` dedups downstream.
 */
export async function fetchGitHubAuditPage(
  http: HttpClient, org: string, window: TimeWindow, next: string | null, perPage: number = GITHUB_MAX_PER_PAGE, signal?: AbortSignal,
): Promise<Page<string>> {
  const path = `/orgs/${encodeURIComponent(org)}/audit-log`;
  let link = next;
  for (let read = 0; ; read++) {
    const { body, headers } = link !== null
      ? await http.get(link, undefined, signal)
      : await http.get(path, { phrase: githubCreatedPhrase(window), include: 'web', order: 'asc', per_page: Math.min(Math.max(1, perPage), GITHUB_MAX_PER_PAGE) }, signal);
    const page = linkHeaderPage(body, headers.get('link'), path);
    const items = page.items.filter((entry) => inWindow(entry, window));
    // A page the window keeps nothing of is not handed on empty with more to come (the page guard refuses that):
    // the next one is read in its place, a bounded number of times.
    if (items.length > 0 || page.next === null || page.items.length === 0 || read >= MAX_SKIPPED_PAGES) return { items, next: page.next };
    link = page.next;
  }
}

/** Pages of entries all outside the window read through in one call before giving up (a server ignoring the phrase). */
const MAX_SKIPPED_PAGES = 100;

/** Entries whose time cannot be read stay (the normaliser dead-letters them); others must fall in the window. */
function inWindow(entry: unknown, window: TimeWindow): boolean {
  const o = entry as Record<string, unknown> | null;
  const t = typeof o === 'object' && o !== null ? (o['@timestamp'] ?? o.created_at) : undefined;
  if (typeof t !== 'number' || !Number.isFinite(t)) return true;
  return t >= window.from && t < window.to;
}

export const GITHUB_HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' } as const;
