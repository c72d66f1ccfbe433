// Generic pagination: a page is its items plus the cursor of the next page
// (null when the source says there is no more). Readers for the envelopes the
// sources use turn a response body into such a page, refusing bodies that do
// not have the shape, so a changed API fails loudly instead of looping; the
// page guard (page-guard.ts) refuses paging that does not add up.
import { tetherError } from '#errors';
import { createPageGuard, DEFAULT_MAX_PAGES } from './page-guard.ts';
import { throwIfAborted } from './retry.ts';

export interface Page<C> {
  items: readonly unknown[];
  next: C | null;
  /** When the server numbers its pages and says how many there are. */
  total?: { current: number; pages: number };
}

export type FetchPage<C> = (cursor: C | null, signal?: AbortSignal) => Promise<Page<C>>;

/**
 * Yields pages until `next` is null. `what` names the listing in errors; a
 * cursor or page that comes back, an empty page claiming more, a page past
 * the total, or more than `maxPages` pages is an error, not an endless loop.
 */
export async function* paginate<C>(
  fetchPage: FetchPage<C>,
  options: { start?: C | null; signal?: AbortSignal; what?: string; maxPages?: number } = {},
): AsyncGenerator<Page<C>> {
  let cursor: C | null = options.start ?? null;
  const guard = createPageGuard(options.what ?? 'listing', options.maxPages ?? DEFAULT_MAX_PAGES);
  for (;;) {
    throwIfAborted(options.signal);
    const page = await fetchPage(cursor, options.signal);
    guard.check(page);
    yield page;
    if (page.next === null) return;
    cursor = page.next;
  }
}

/** `{data, has_more, last_id}`: OpenAI and Anthropic lists; the next request passes `last_id`. */
export function afterIdPage(body: unknown, what: string): Page<string> {
  const o = envelope(body, what);
  const items = arrayField(o, 'data', what);
  const hasMore = o.has_more === true;
  if (!hasMore) return { items, next: null };
  if (typeof o.last_id !== 'string' || o.last_id === '') throw parseError(`${what}: has_more is true but last_id is missing`);
  return { items, next: o.last_id };
}

/** `{data, has_more, next_page}`: page-token lists (Anthropic usage and compliance directory). */
export function pageTokenPage(body: unknown, what: string): Page<string> {
  const o = envelope(body, what);
  const items = arrayField(o, 'data', what);
  if (o.has_more === false || o.next_page === null || o.next_page === undefined) return { items, next: null };
  if (typeof o.next_page !== 'string' || o.next_page === '') throw parseError(`${what}: next_page is not a token`);
  return { items, next: o.next_page };
}

/**
 * Page numbers with a `hasNextPage` flag (Cursor). `pagination` is the
 * object holding the flag, and the page count when the server gives one
 * (`totalPages`, or `numPages` on usage events); the next cursor is `current + 1`.
 */
export function pageNumberPage(body: unknown, what: string, itemsKey: string, current: number): Page<number> {
  const o = envelope(body, what);
  const items = arrayField(o, itemsKey, what);
  const pagination = o.pagination;
  if (typeof pagination !== 'object' || pagination === null) throw parseError(`${what}: no pagination object`);
  const p = pagination as Record<string, unknown>;
  if (typeof p.hasNextPage !== 'boolean') throw parseError(`${what}: pagination.hasNextPage is not a boolean`);
  const pages = p.totalPages ?? p.numPages;
  const total = typeof pages === 'number' && Number.isInteger(pages) && pages >= 0 ? { total: { current, pages } } : {};
  return { items, next: p.hasNextPage ? current + 1 : null, ...total };
}

/**
 * Page numbers with a total and no flag (`{<items>, page, total_pages}` or a
 * record count): there is a next page while `current` is below the total.
 */
export function numberedPage(items: readonly unknown[], current: number, totalPages: number): Page<number> {
  return { items, next: current < totalPages ? current + 1 : null, total: { current, pages: totalPages } };
}

/** `{items, nextPageToken}`: Google APIs; `items` is left out when a page is empty. */
export function nextPageTokenPage(body: unknown, what: string, itemsKey = 'items'): Page<string> {
  const o = envelope(body, what);
  const items = o[itemsKey] === undefined ? [] : arrayField(o, itemsKey, what);
  const token = o.nextPageToken;
  if (token === undefined || token === null || token === '') return { items, next: null };
  if (typeof token !== 'string') throw parseError(`${what}: nextPageToken is not a string`);
  return { items, next: token };
}

/** `{value, @odata.nextLink}`: Microsoft Graph; the next cursor is the whole link (request it as given). */
export function odataPage(body: unknown, what: string): Page<string> {
  const o = envelope(body, what);
  const items = arrayField(o, 'value', what);
  const link = o['@odata.nextLink'];
  if (link === undefined || link === null) return { items, next: null };
  if (typeof link !== 'string' || !/^https?:\/\//.test(link)) throw parseError(`${what}: @odata.nextLink is not a URL`);
  return { items, next: link };
}

/**
 * A JSON array body with the next page in the `Link` header (RFC 8288;
 * Okta, GitHub): the target of `rel="next"`, or null when there is none.
 */
export function linkHeaderPage(body: unknown, link: string | null, what: string): Page<string> {
  if (!Array.isArray(body)) throw parseError(`${what}: response is not a JSON array`);
  return { items: body, next: nextLink(link) };
}

/** The `rel="next"` target of a Link header; relation types compare case-insensitively and may be listed together. */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(match[2]!);
    const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (relations.includes('next')) return match[1]!;
  }
  return null;
}

function envelope(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw parseError(`${what}: response is not a JSON object`);
  return body as Record<string, unknown>;
}

function arrayField(o: Record<string, unknown>, key: string, what: string): unknown[] {
  const value = o[key];
  if (!Array.isArray(value)) throw parseError(`${what}: response has no "${key}" array`);
  return value;
}

function parseError(message: string) {
  return tetherError('TETHER_SOURCE_PARSE', message);
}
