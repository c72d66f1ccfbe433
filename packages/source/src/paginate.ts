// Generic pagination: a page is its items plus the cursor of the next page
// (null when the source says there is no more). Readers for the envelopes the
// sources use turn a response body into such a page, refusing bodies that do
// not have the shape, so a changed API fails loudly instead of looping.
import { tetherError } from '#errors';
import { throwIfAborted } from './retry.ts';

export interface Page<C> {
  items: readonly unknown[];
  next: C | null;
}

export type FetchPage<C> = (cursor: C | null, signal?: AbortSignal) => Promise<Page<C>>;

/** Yields pages until `next` is null; a cursor seen twice is an error, not an endless loop. */
export async function* paginate<C>(fetchPage: FetchPage<C>, options: { start?: C | null; signal?: AbortSignal } = {}): AsyncGenerator<Page<C>> {
  let cursor: C | null = options.start ?? null;
  const seen = new Set<string>();
  for (;;) {
    throwIfAborted(options.signal);
    const page = await fetchPage(cursor, options.signal);
    yield page;
    if (page.next === null) return;
    const key = JSON.stringify(page.next);
    if (seen.has(key)) throw parseError(`pagination cursor ${key} came back twice`);
    seen.add(key);
    cursor = page.next as C;
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
 * object holding the flag; the next cursor is `current + 1`.
 */
export function pageNumberPage(body: unknown, what: string, itemsKey: string, current: number): Page<number> {
  const o = envelope(body, what);
  const items = arrayField(o, itemsKey, what);
  const pagination = o.pagination;
  if (typeof pagination !== 'object' || pagination === null) throw parseError(`${what}: no pagination object`);
  const hasNext = (pagination as Record<string, unknown>).hasNextPage;
  if (typeof hasNext !== 'boolean') throw parseError(`${what}: pagination.hasNextPage is not a boolean`);
  return { items, next: hasNext ? current + 1 : null };
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
