// One set of guards for every paged read, event feeds and inventories alike:
// a cursor that comes back, the same page served again, an empty page that
// claims more, a page number past the server's own total, or more pages than
// any real listing has all stop that feed with an error naming it, within a
// bounded number of requests, instead of paging until killed.
import { createHash } from 'node:crypto';
import { tetherError, type TetherError } from '#errors';
import { serialiseElement } from './json-records.ts';
import type { Page } from './paginate.ts';

/** Generous: a listing of 100,000 pages of 100 is ten million records. */
export const DEFAULT_MAX_PAGES = 100_000;

export type PageGuardReason = 'cursor_repeated' | 'page_repeated' | 'empty_page_with_more' | 'past_total' | 'too_many_pages';

export interface PageGuard {
  /** Throws TETHER_SOURCE_PARSE (context `guard`, `feed`) when `page` shows the paging cannot be trusted. */
  check(page: Page<unknown>): void;
  readonly pages: number;
}

/** Guards one pass over a paged listing (one window of an event feed, one inventory listing). */
export function createPageGuard(feed: string, maxPages: number = DEFAULT_MAX_PAGES): PageGuard {
  const cursors = new Set<string>();
  const contents = new Set<string>();
  let pages = 0;
  return {
    get pages() {
      return pages;
    },
    check(page) {
      pages++;
      if (page.next === null) return;
      if (pages >= maxPages) throw guardError(feed, 'too_many_pages', `read ${pages} pages and the server still says there is more`);
      if (page.items.length === 0) throw guardError(feed, 'empty_page_with_more', `an empty page says there is more (next ${describe(page.next)})`);
      if (page.total && (page.total.current >= page.total.pages || (typeof page.next === 'number' && page.next > page.total.pages))) {
        throw guardError(feed, 'past_total', `page ${page.total.current} of ${page.total.pages} says there is a next page`);
      }
      const key = JSON.stringify(page.next) ?? String(page.next);
      if (cursors.has(key)) throw guardError(feed, 'cursor_repeated', `pagination cursor ${describe(page.next)} came back`);
      cursors.add(key);
      // A server that ignores the cursor (or the page number) serves the same records again.
      const content = createHash('sha256').update(serialiseElement(page.items)).digest('base64');
      if (contents.has(content)) throw guardError(feed, 'page_repeated', `the same page of ${page.items.length} records came back (next ${describe(page.next)})`);
      contents.add(content);
    },
  };
}

function describe(cursor: unknown): string {
  const text = JSON.stringify(cursor) ?? String(cursor);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function guardError(feed: string, guard: PageGuardReason, detail: string): TetherError {
  return tetherError('TETHER_SOURCE_PARSE', `${feed}: stopped paging: ${detail}`, { context: { feed, guard } });
}
