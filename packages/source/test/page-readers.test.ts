import { describe, expect, it } from 'vitest';
import { createPageGuard } from '../src/page-guard.ts';
import { linkHeaderPage, nextLink, nextPageTokenPage, numberedPage, odataPage, pageNumberPage, paginate, type Page } from '../src/paginate.ts';
import { buildUrl } from '../src/http-client.ts';

describe('page readers for the envelopes the references name', () => {
  it('Google items / nextPageToken; items left out on an empty last page', () => {
    expect(nextPageTokenPage({ kind: 'admin#reports#activities', items: [{ id: 1 }], nextPageToken: 'tok' }, '/activity')).toEqual({ items: [{ id: 1 }], next: 'tok' });
    expect(nextPageTokenPage({ kind: 'admin#reports#activities' }, '/activity')).toEqual({ items: [], next: null });
    expect(nextPageTokenPage({ users: [{ id: 2 }] }, '/users', 'users')).toEqual({ items: [{ id: 2 }], next: null });
    expect(() => nextPageTokenPage({ items: {} }, '/activity')).toThrow(/no "items" array/);
    expect(() => nextPageTokenPage({ items: [], nextPageToken: 7 }, '/activity')).toThrow(/nextPageToken is not a string/);
  });

  it('Graph value / @odata.nextLink: the whole link is the next cursor', () => {
    const link = 'https://graph.microsoft.com/v1.0/oauth2PermissionGrants?$skiptoken=X%27abc%27';
    expect(odataPage({ '@odata.context': 'c', value: [{ id: 'g' }], '@odata.nextLink': link }, '/grants')).toEqual({ items: [{ id: 'g' }], next: link });
    expect(odataPage({ value: [] }, '/grants')).toEqual({ items: [], next: null });
    expect(() => odataPage({ value: [], '@odata.nextLink': 'javascript:x' }, '/grants')).toThrow(/not a URL/);
  });

  it('Link: rel="next" (Okta, GitHub): relations in any case and order, several links in one header', () => {
    const okta = '<https://x.okta.com/api/v1/logs?limit=2>; rel="self", <https://x.okta.com/api/v1/logs?after=abc&limit=2>; rel="next"';
    expect(linkHeaderPage([{ uuid: 'e' }], okta, '/logs')).toEqual({ items: [{ uuid: 'e' }], next: 'https://x.okta.com/api/v1/logs?after=abc&limit=2' });
    expect(nextLink('<https://api.github.com/orgs/o/audit-log?after=a,b>; rel="prev next"')).toBe('https://api.github.com/orgs/o/audit-log?after=a,b');
    expect(nextLink('<https://api.github.com/x?page=3>; REL=Next')).toBe('https://api.github.com/x?page=3');
    expect(nextLink('<https://api.github.com/x?page=1>; rel="first"')).toBeNull();
    expect(nextLink(null)).toBeNull();
    expect(() => linkHeaderPage({ data: [] }, null, '/logs')).toThrow(/not a JSON array/);
  });

  it('page numbers with a total: next while below it; Cursor reads its total too', () => {
    expect(numberedPage([1], 1, 3)).toEqual({ items: [1], next: 2, total: { current: 1, pages: 3 } });
    expect(numberedPage([1], 3, 3).next).toBeNull();
    expect(pageNumberPage({ events: [1], pagination: { hasNextPage: true, totalPages: 4 } }, 'x', 'events', 2)).toEqual({ items: [1], next: 3, total: { current: 2, pages: 4 } });
    expect(pageNumberPage({ usageEvents: [], pagination: { hasNextPage: false, numPages: 0 } }, 'x', 'usageEvents', 1).total).toEqual({ current: 1, pages: 0 });
  });

  it('a next link on another origin is not followed (credentials stay with their host)', () => {
    expect(buildUrl('https://x.okta.com', 'https://x.okta.com/api/v1/logs?after=abc').toString()).toBe('https://x.okta.com/api/v1/logs?after=abc');
    expect(() => buildUrl('https://x.okta.com', 'https://evil.example/api/v1/logs')).toThrow(/points to https:\/\/evil.example/);
  });
});

/** Drains a paginate over `answer`, counting requests; the error (if any) and the count. */
async function drain<C>(answer: (cursor: C | null, call: number) => Page<C>, maxPages?: number) {
  let calls = 0;
  try {
    for await (const _ of paginate<C>(async (cursor) => answer(cursor, ++calls), { what: 'acme/users', maxPages })) {
      if (calls > 1_000) throw new Error('unbounded');
    }
    return { calls, error: undefined };
  } catch (err) {
    return { calls, error: err as { code?: string; message: string; context?: Record<string, unknown> } };
  }
}

describe('page guards (inventories through paginate, event feeds through runWindows)', () => {
  it.each([
    ['a cursor that comes back', (c: string | null, n: number) => ({ items: [n], next: c === 'a' ? 'b' : 'a' }), 'cursor_repeated', 3],
    ['an empty page that claims more', (_: string | null, n: number) => ({ items: [], next: `t${n}` }), 'empty_page_with_more', 1],
    ['the same page for every cursor', (_: string | null, n: number) => ({ items: [{ id: 1 }], next: `t${n}` }), 'page_repeated', 2],
    ['a page past the total', (_: string | null, n: number) => ({ items: [n], next: `t${n}`, total: { current: n, pages: 2 } }), 'past_total', 2],
    ['pages without end', (_: string | null, n: number) => ({ items: [n], next: `t${n}` }), 'too_many_pages', 50],
  ] as const)('%s stops the listing with an error naming it', async (_, answer, guard, requests) => {
    const { calls, error } = await drain<string>(answer, 50);
    expect(error).toMatchObject({ code: 'TETHER_SOURCE_PARSE', context: { feed: 'acme/users', guard } });
    expect(error!.message).toMatch(/^acme\/users: stopped paging: /);
    expect(calls).toBe(requests);
  });

  it('a listing that ends is read whole, the last page may be empty', async () => {
    const { calls, error } = await drain<number>((c) => (c === null ? { items: [1], next: 2 } : { items: [], next: null }));
    expect(error).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('the guard counts the pages it saw', () => {
    const guard = createPageGuard('x');
    guard.check({ items: [1], next: 'a' });
    guard.check({ items: [2], next: null });
    expect(guard.pages).toBe(2);
  });
});
