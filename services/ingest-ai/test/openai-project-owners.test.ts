// OpenAI project ownership (reference 1.7, section 7): a project's users with
// role owner name the person its service accounts' keys end at.
import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import type { EntityResult, HttpClient, InventoryEntity, Query } from '#source';
import type { NhiContent } from '../src/identity.ts';
import { openAiProjectItem, type ProjectInventoryItem } from '../src/platforms/openai/inventory.ts';
import { openAiSource } from '../src/platforms/openai/source.ts';
import { fixture } from './fixtures.ts';

const project = fixture<{ data: unknown[] }>('openai', 'projects-page.json').data[0]!;
const users = fixture<{ data: unknown[] }>('openai', 'project-users-page.json').data;

function one(result: EntityResult<NhiContent>): InventoryEntity<NhiContent> {
  if (!result.ok || result.entities.length !== 1) throw new Error(`expected one entity, got ${JSON.stringify(result)}`);
  return result.entities[0]!;
}

const owner = (owners: readonly unknown[] | undefined) => {
  const c = one(openAiProjectItem({ kind: 'project', item: project, ...(owners ? { owners } : {}) })).content;
  return [c.owner_platform_user_id, c.owner_email];
};

describe('OpenAI project owners', () => {
  it('records the owner from the project users listing (members are not owners)', () => {
    const entity = one(openAiProjectItem({ kind: 'project', item: project, owners: users }));
    expect(entity.content).toMatchObject({
      nhi_id: 'openai:project:proj_Ab12Cd34', kind: 'project', owner_email: 'dana@example.com', owner_platform_user_id: 'openai:user-K9p3Lm', parent_nhi_id: null,
    });
    // The owner is tracked: a new owner is a new version of the project.
    const other = one(openAiProjectItem({ kind: 'project', item: project, owners: [{ id: 'user-Q1', email: 'quinn@example.com', role: 'owner', added_at: 1 }] }));
    expect(other.tracked).not.toEqual(entity.tracked);
  });

  it('without owners (none listed, an exported project listing) records none', () => {
    expect(owner(undefined)).toEqual([null, null]);
    expect(owner([])).toEqual([null, null]);
    expect(owner([users[1]])).toEqual([null, null]);
  });

  it('picks the owner added last, ties by user id, whatever the listing order', () => {
    const a = { id: 'user-A', email: 'a@example.com', role: 'owner', added_at: 1_700_000_000 };
    const b = { id: 'user-B', email: 'b@example.com', role: 'owner', added_at: 1_750_000_000 };
    const c = { id: 'user-C', email: 'c@example.com', role: 'owner', added_at: 1_750_000_000 };
    expect(owner([a, b])).toEqual(['openai:user-B', 'b@example.com']);
    expect(owner([b, a])).toEqual(['openai:user-B', 'b@example.com']);
    expect(owner([c, a, b])).toEqual(['openai:user-B', 'b@example.com']);
    expect(owner([a, c])).toEqual(['openai:user-C', 'c@example.com']);
  });

  it('passes over entries that name nobody or are not objects', () => {
    const hostile = [null, 'owner', 7, [], { role: 'owner' }, { id: '  ', email: '', role: 'owner' }, { id: 'user-X', role: 'Owner' }, { id: 'user-E', role: 'owner', added_at: 'soon' }];
    expect(owner(hostile)).toEqual(['openai:user-E', null]);
    expect(owner([{ email: 'only.email@example.com', role: 'owner' }])).toEqual([null, 'only.email@example.com']);
  });

  it('reads every page of each project\'s users before the project, and keeps only owners', async () => {
    const asked: string[] = [];
    const bodies: Record<string, (after: unknown) => unknown> = {
      '/organization/projects': () => ({ object: 'list', data: [project, { id: '', name: 'blank' }], has_more: false, first_id: null, last_id: null }),
      '/organization/projects/proj_Ab12Cd34/users': (after) => after === undefined || after === null
        ? { object: 'list', data: [users[1]], has_more: true, first_id: 'user-M2n8Ws', last_id: 'user-M2n8Ws' }
        : { object: 'list', data: [users[0]], has_more: false, first_id: 'user-K9p3Lm', last_id: 'user-K9p3Lm' },
    };
    const http: HttpClient = {
      async getJson(path: string, query: Query = {}) {
        asked.push(`${path}${query.after ? `?after=${String(query.after)}` : ''}`);
        return bodies[path]?.(query.after) ?? { object: 'list', data: [], has_more: false, first_id: null, last_id: null };
      },
      async postJson() {
        throw new Error('not used');
      },
      async get() {
        throw new Error('not used');
      },
    };
    const source = openAiSource.feeds({ http, pageLimit: 100, directory: { emailOf: () => null }, log: createLogger({ service: 'test', level: 'silent' }) }, {} as never);
    const projects = source.inventories.find((i) => i.feed === 'projects')!;
    const pages: ProjectInventoryItem[][] = [];
    for await (const page of projects.pages(new AbortController().signal)) pages.push(page as ProjectInventoryItem[]);
    expect(asked).toEqual([
      '/organization/projects',
      '/organization/projects/proj_Ab12Cd34/users',
      '/organization/projects/proj_Ab12Cd34/users?after=user-M2n8Ws',
      '/organization/projects/proj_Ab12Cd34/service_accounts',
      '/organization/projects/proj_Ab12Cd34/api_keys',
    ]);
    expect(pages[0]).toEqual([{ kind: 'project', item: project, owners: [users[0]] }, { kind: 'project', item: { id: '', name: 'blank' }, owners: [] }]);
  });
});
