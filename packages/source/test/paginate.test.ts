import { describe, expect, it } from 'vitest';
import { afterIdPage, pageNumberPage, pageTokenPage, paginate, type Page } from '../src/paginate.ts';

describe('envelope readers', () => {
  it('afterIdPage continues from last_id while has_more, and stops otherwise', () => {
    expect(afterIdPage({ object: 'list', data: [1], first_id: 'a', last_id: 'b', has_more: true }, 'x')).toEqual({ items: [1], next: 'b' });
    expect(afterIdPage({ data: [], first_id: null, last_id: null, has_more: false }, 'x')).toEqual({ items: [], next: null });
  });

  it('refuses bodies that would page forever or lose records', () => {
    expect(() => afterIdPage({ data: [1], has_more: true, last_id: null }, '/audit')).toThrow(/last_id is missing/);
    expect(() => afterIdPage({ items: [] }, '/audit')).toThrow(/no "data" array/);
    expect(() => afterIdPage('<html>', '/audit')).toThrow(/not a JSON object/);
  });

  it('pageNumberPage moves to the next page number while hasNextPage', () => {
    const body = { events: [{ event_id: 'e1' }], pagination: { page: 2, hasNextPage: true } };
    expect(pageNumberPage(body, 'x', 'events', 2)).toEqual({ items: [{ event_id: 'e1' }], next: 3 });
    expect(pageNumberPage({ events: [], pagination: { hasNextPage: false } }, 'x', 'events', 3).next).toBeNull();
    expect(() => pageNumberPage({ events: [] }, 'x', 'events', 1)).toThrow(/pagination/);
  });

  it('pageTokenPage follows next_page', () => {
    expect(pageTokenPage({ data: [1], has_more: true, next_page: 'tok2' }, 'x')).toEqual({ items: [1], next: 'tok2' });
    expect(pageTokenPage({ data: [1], has_more: false, next_page: null }, 'x').next).toBeNull();
  });
});

describe('paginate', () => {
  it('yields every page until the source says there is no more', async () => {
    const pages: Record<string, Page<string>> = { start: { items: [1, 2], next: 'p2' }, p2: { items: [3], next: 'p3' }, p3: { items: [], next: null } };
    const asked: (string | null)[] = [];
    const items: unknown[] = [];
    for await (const page of paginate<string>(async (cursor) => {
      asked.push(cursor);
      return pages[cursor ?? 'start']!;
    })) {
      items.push(...page.items);
    }
    expect(items).toEqual([1, 2, 3]);
    expect(asked).toEqual([null, 'p2', 'p3']);
  });

  it('fails instead of looping when a cursor comes back', async () => {
    const run = async () => {
      for await (const _ of paginate<string>(async (cursor) => ({ items: [], next: cursor === 'a' ? 'b' : 'a' }))) {
        // drain
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'TETHER_SOURCE_PARSE' });
  });
});
