import { describe, expect, it } from 'vitest';
import { ENTERPRISE_SCHEMA } from '../src/schema.ts';
import { entra, fill, okta, scimHarness } from './helpers.ts';

const HOUR = 3_600_000;

describe('SCIM Users in Okta\'s dialect', () => {
  it('joiner, password sync, deactivation and reactivation: a version from each change, none from the password', async () => {
    const h = await scimHarness();
    const joinedAt = h.now;
    const created = await h.request('POST', '/Users', okta.createUser);
    expect(created.status).toBe(201);
    const id = String(created.body!.id);
    expect(created.headers).toMatchObject({ location: `https://tether.example/scim/v2/Users/${id}`, etag: 'W/"1"' });
    expect(created.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'dana.ruiz@example.com', active: true,
      meta: { resourceType: 'User', created: new Date(joinedAt).toISOString(), location: `https://tether.example/scim/v2/Users/${id}`, version: 'W/"1"' },
    });
    expect(created.body).not.toHaveProperty('password');
    // Okta's groups: [] is read-only input: ignored.
    expect(created.body).not.toHaveProperty('groups');

    h.advance(HOUR);
    expect((await h.request('PATCH', `/Users/${id}`, okta.password)).status).toBe(200);
    h.advance(HOUR);
    const leftAt = h.now;
    const deactivated = await h.request('PATCH', `/Users/${id}`, okta.deactivate);
    expect(deactivated.body).toMatchObject({ active: false, meta: { version: 'W/"2"' } });
    h.advance(HOUR);
    const backAt = h.now;
    await h.request('PATCH', `/Users/${id}`, okta.reactivate);

    const versions = h.persons();
    expect(versions.map((v) => [v.valid_from, v.active, v.lifecycle_state])).toEqual([
      [joinedAt, true, 'active'], [leftAt, false, 'inactive'], [backAt, true, 'active'],
    ]);
    expect(new Set(versions.map((v) => v.person_id))).toEqual(new Set(['okta:00ujl29u0le5T6Aj10h7']));
    expect(versions[0]).toMatchObject({
      record_kind: 'directory', email: 'dana.ruiz@example.com', display_name: 'Dana Ruiz',
      source: { platform: 'okta', feed: 'scim', source_time: new Date(joinedAt).toISOString() },
    });
    const everything = JSON.stringify([h.records, created, deactivated]);
    expect(everything).not.toContain('1mz050nq');
    expect(everything).not.toContain('Pa55-Rotated-7');
  });

  it('a reconciliation PUT or PATCH that restates the user writes no version and keeps the ETag', async () => {
    const h = await scimHarness();
    const id = String((await h.request('POST', '/Users', okta.createUser)).body!.id);
    h.advance(HOUR);
    const put = await h.request('PUT', `/Users/${id}`, okta.createUser);
    const patch = await h.request('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: true, displayName: 'Dana Ruiz' } }] });
    expect([put.status, put.headers.etag, patch.status, patch.headers.etag]).toEqual([200, 'W/"1"', 200, 'W/"1"']);
    expect(h.persons()).toHaveLength(1);
  });
});

describe('SCIM Users in Entra\'s dialect', () => {
  it('mover, rename and string-boolean disable keep one person whose history remembers the old address', async () => {
    const h = await scimHarness({ platform: 'entra' });
    const id = String((await h.request('POST', '/Users', entra.createUser)).body!.id);
    h.advance(HOUR);
    const moved = await h.request('PATCH', `/Users/${id}`, entra.mover);
    expect(moved.body).toMatchObject({ title: 'Analyst', [ENTERPRISE_SCHEMA]: { department: 'Research', employeeNumber: '701984' } });
    h.advance(HOUR);
    const renamed = await h.request('PATCH', `/Users/${id}`, entra.rename);
    expect(renamed.body).toMatchObject({ userName: 'lee.kim@example.com', emails: [{ type: 'work', value: 'lee.kim@example.com', primary: true }], name: { familyName: 'Kim', givenName: 'Lee' } });
    h.advance(HOUR);
    const disabled = await h.request('PATCH', `/Users/${id}`, entra.disable);
    expect(disabled.body).toMatchObject({ active: false });

    const [joined, mover, rename, leaver] = h.persons();
    expect(new Set(h.persons().map((v) => v.person_id))).toEqual(new Set(['entra:0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef']));
    expect([joined!.department, mover!.department, mover!.title]).toEqual(['Finance', 'Research', 'Analyst']);
    expect(rename).toMatchObject({ email: 'lee.kim@example.com', display_name: 'Lee Kim', active: true });
    expect(rename!.aliases).toEqual(expect.arrayContaining([
      { kind: 'email', value: 'lee.kim@example.com' }, { kind: 'upn', value: 'lee.kim@example.com' },
      { kind: 'former_email', value: 'lee.park@example.com' }, { kind: 'former_upn', value: 'lee.park@example.com' },
      { kind: 'scim_id', value: id }, { kind: 'employee_number', value: '701984' },
      { kind: 'scim_external_id', value: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef' },
    ]));
    // The old address is history, not a current alias a reused address could collide with.
    expect(rename!.aliases).not.toContainEqual({ kind: 'email', value: 'lee.park@example.com' });
    expect(leaver).toMatchObject({ active: false, lifecycle_state: 'inactive', email: 'lee.kim@example.com' });
  });

  it('reads path-less values with dotted and URN keys, a filter path with no match, and both manager forms', async () => {
    const h = await scimHarness({ platform: 'entra' });
    const boss = String((await h.request('POST', '/Users', { ...entra.createUser, userName: 'boss@example.com', externalId: 'boss', emails: [], [ENTERPRISE_SCHEMA]: {} })).body!.id);
    const id = String((await h.request('POST', '/Users', entra.createUser)).body!.id);
    const dotted = await h.request('PATCH', `/Users/${id}`, entra.dottedKeys);
    expect(dotted.body).toMatchObject({ name: { givenName: 'Leigh', familyName: 'Park' }, active: true, [ENTERPRISE_SCHEMA]: { department: 'Legal' } });
    const home = await h.request('PATCH', `/Users/${id}`, entra.addHomeEmail);
    expect(home.body!.emails).toEqual([{ primary: true, type: 'work', value: 'lee.park@example.com' }, { type: 'home', value: 'lee@home.example' }]);
    const legacy = await h.request('PATCH', `/Users/${id}`, fill(entra.managerLegacy, { MANAGER: boss }));
    expect(legacy.body).toMatchObject({ [ENTERPRISE_SCHEMA]: { manager: { value: boss } } });
    expect(h.persons().at(-1)!.manager_person_id).toBe('entra:boss');
    const again = await h.request('PATCH', `/Users/${id}`, fill(entra.managerEnterprise, { MANAGER: boss }));
    expect(again.headers.etag).toBe(legacy.headers.etag);
  });
});

describe('refused writes change nothing', () => {
  it.each([
    ['a wrong schema URN', { ...okta.createUser, schemas: ['urn:ietf:params:scim:schemas:core:2.0:Usr'] }, 'invalidSyntax'],
    ['no schemas', { userName: 'x@example.com' }, 'invalidSyntax'],
    ['a userName that is not a string', { ...okta.createUser, userName: 42 }, 'invalidValue'],
    ['an active that is no boolean', { ...okta.createUser, active: 'maybe' }, 'invalidValue'],
    ['no userName', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'x' }, 'invalidValue'],
  ])('POST with %s: 400 %s', async (_what, body, scimType) => {
    const h = await scimHarness();
    const res = await h.request('POST', '/Users', body);
    expect(res).toMatchObject({ status: 400, body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType } });
    expect(h.records).toEqual([]);
    expect(h.service.directory.users.size).toBe(0);
  });

  it('a PATCH whose second operation fails applies neither', async () => {
    const h = await scimHarness();
    const id = String((await h.request('POST', '/Users', okta.createUser)).body!.id);
    const res = await h.request('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'CEO' }, { op: 'replace', path: 'emails[type eq', value: 'x' }],
    });
    expect(res).toMatchObject({ status: 400, body: { scimType: 'invalidPath' } });
    expect((await h.request('GET', `/Users/${id}`)).body).not.toHaveProperty('title');
    expect(h.persons()).toHaveLength(1);
  });

  it.each([
    ['remove without a path', [{ op: 'remove' }], 'noTarget'],
    ['an unknown op', [{ op: 'merge', path: 'title', value: 'x' }], 'invalidSyntax'],
    ['an unknown attribute', [{ op: 'replace', path: 'shoeSize', value: 44 }], 'invalidPath'],
    ['a read-only id', [{ op: 'replace', path: 'id', value: 'mine' }], 'mutability'],
  ])('PATCH with %s: 400 %s', async (_what, operations, scimType) => {
    const h = await scimHarness();
    const id = String((await h.request('POST', '/Users', okta.createUser)).body!.id);
    const res = await h.request('PATCH', `/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
    expect(res).toMatchObject({ status: 400, body: { scimType } });
    expect(h.persons()).toHaveLength(1);
  });

  it('a failed send to Kafka leaves the state as it was', async () => {
    const h = await scimHarness();
    h.failNextEmit(new Error('broker down'));
    await expect(h.request('POST', '/Users', okta.createUser)).rejects.toThrow('broker down');
    expect(h.service.directory.users.size).toBe(0);
    expect((await h.request('POST', '/Users', okta.createUser)).status).toBe(201);
  });

  it('409 uniqueness on userName (any case) and externalId; 412 on a stale If-Match; 404 on unknown ids', async () => {
    const h = await scimHarness();
    const id = String((await h.request('POST', '/Users', okta.createUser)).body!.id);
    expect(await h.request('POST', '/Users', { ...okta.createUser, userName: 'DANA.RUIZ@example.com', externalId: 'other' })).toMatchObject({ status: 409, body: { scimType: 'uniqueness', status: '409' } });
    expect(await h.request('POST', '/Users', { ...okta.createUser, userName: 'someone@example.com' })).toMatchObject({ status: 409, body: { scimType: 'uniqueness' } });
    expect(await h.request('PUT', `/Users/${id}`, { ...okta.createUser, title: 'x' }, { ifMatch: 'W/"7"' })).toMatchObject({ status: 412 });
    expect(await h.request('PUT', `/Users/${id}`, { ...okta.createUser, title: 'x' }, { ifMatch: 'W/"1"' })).toMatchObject({ status: 200, headers: { etag: 'W/"2"' } });
    expect(await h.request('GET', `/Users/${id}`, undefined, { ifNoneMatch: 'W/"2"' })).toMatchObject({ status: 304 });
    expect(await h.request('GET', '/Users/nope')).toMatchObject({ status: 404, body: { status: '404' } });
    expect(h.persons()).toHaveLength(2);
  });
});

describe('DELETE, re-provisioning and reused addresses', () => {
  it('DELETE writes a leaver version; the same externalId later is the same person, the same address alone a new one', async () => {
    const h = await scimHarness();
    const id = String((await h.request('POST', '/Users', okta.createUser)).body!.id);
    h.advance(HOUR);
    const deletedAt = h.now;
    expect((await h.request('DELETE', `/Users/${id}`)).status).toBe(204);
    expect((await h.request('GET', `/Users/${id}`)).status).toBe(404);
    expect(h.persons().at(-1)).toMatchObject({ person_id: 'okta:00ujl29u0le5T6Aj10h7', valid_from: deletedAt, active: false });

    h.advance(HOUR);
    const rehired = await h.request('POST', '/Users', okta.createUser);
    expect(rehired.status).toBe(201);
    expect(h.persons().at(-1)).toMatchObject({ person_id: 'okta:00ujl29u0le5T6Aj10h7', active: true });
    expect(h.persons().at(-1)!.aliases).toEqual(expect.arrayContaining([{ kind: 'scim_id', value: id }, { kind: 'scim_id', value: String(rehired.body!.id) }]));

    await h.request('DELETE', `/Users/${String(rehired.body!.id)}`);
    const { externalId: _x, ...noExternalId } = okta.createUser;
    const stranger = await h.request('POST', '/Users', noExternalId);
    expect(h.persons().at(-1)!.person_id).toBe(`okta:id:${String(stranger.body!.id)}`);
  });
});

describe('Groups', () => {
  it('membership changes and renames are kept on the members\' versions; a deleted user leaves its groups', async () => {
    const h = await scimHarness();
    const dana = String((await h.request('POST', '/Users', okta.createUser)).body!.id);
    const lee = String((await h.request('POST', '/Users', { ...entra.createUser, externalId: 'lee' })).body!.id);
    const group = await h.request('POST', '/Groups', { ...okta.createGroup, members: [{ value: dana }] });
    expect(group.status).toBe(201);
    const gid = String(group.body!.id);
    expect(h.persons().at(-1)).toMatchObject({ person_id: 'okta:00ujl29u0le5T6Aj10h7', groups: [{ group_id: gid, display_name: 'Test SCIMv2' }] });

    h.advance(HOUR);
    const swapped = await h.request('PATCH', `/Groups/${gid}`, fill(okta.groupMembers, { REMOVE: dana, ADD: lee }));
    expect(swapped.body!.members).toEqual([{ value: lee, $ref: `https://tether.example/scim/v2/Users/${lee}` }]);
    const afterSwap = h.calls.at(-1)!;
    expect(afterSwap.map((r) => r.role).sort()).toEqual(['identityGroups', 'identityUsers', 'identityUsers']);
    expect(h.persons().slice(-2).map((v) => [v.person_id, v.groups?.map((g) => g.group_id)]).sort()).toEqual([['okta:00ujl29u0le5T6Aj10h7', []], ['okta:lee', [gid]]]);

    h.advance(HOUR);
    await h.request('PATCH', `/Groups/${gid}`, fill(okta.groupRename, { ID: gid }));
    expect(h.persons().at(-1)).toMatchObject({ person_id: 'okta:lee', groups: [{ group_id: gid, display_name: 'Research' }] });
    expect((await h.request('GET', `/Users/${lee}`)).body!.groups).toEqual([{ value: gid, $ref: `https://tether.example/scim/v2/Groups/${gid}`, display: 'Research', type: 'direct' }]);

    h.advance(HOUR);
    await h.request('DELETE', `/Users/${lee}`);
    expect((await h.request('GET', `/Groups/${gid}`)).body).not.toHaveProperty('members');
    expect(h.groupVersions().at(-1)).toMatchObject({ group_id: gid, member_person_ids: [], active: true });
    expect(await h.request('POST', '/Groups', { ...okta.createGroup, members: [{ value: lee }] })).toMatchObject({ status: 400, body: { scimType: 'invalidValue' } });
  });

  it('Entra adds and removes members in its legacy form', async () => {
    const h = await scimHarness();
    const lee = String((await h.request('POST', '/Users', entra.createUser)).body!.id);
    const gid = String((await h.request('POST', '/Groups', entra.createGroup)).body!.id);
    expect((await h.request('PATCH', `/Groups/${gid}`, fill(entra.addMember, { MEMBER: lee }))).body!.members).toHaveLength(1);
    expect((await h.request('PATCH', `/Groups/${gid}`, fill(entra.removeMemberLegacy, { MEMBER: lee }))).body).not.toHaveProperty('members');
    expect(h.groupVersions().map((g) => g.member_person_ids.length)).toEqual([0, 1, 0]);
  });
});

describe('lists and restarts', () => {
  it('filters, pages and projects; a restart from the written versions answers the same', async () => {
    const h = await scimHarness();
    for (let i = 0; i < 5; i++) {
      await h.request('POST', '/Users', { ...okta.createUser, userName: `user${i}@example.com`, externalId: `x${i}`, emails: [{ value: `user${i}@example.com`, type: 'work' }], title: i % 2 === 0 ? 'even' : 'odd' });
      h.advance(1_000);
    }
    const gid = String((await h.request('POST', '/Groups', { ...okta.createGroup, members: [{ value: 'id-1' }, { value: 'id-2' }] })).body!.id);
    await h.request('PATCH', '/Users/id-3', okta.deactivate);
    await h.request('DELETE', '/Users/id-5');

    const queries = [
      { filter: 'title eq "even"' },
      { filter: 'title eq "even"', startIndex: '2', count: '1' },
      { startIndex: '2', count: '2' },
      { filter: 'userName eq "USER1@example.com"' },
      { filter: 'emails[type eq "work"].value sw "user3"' },
      { filter: 'active eq false or title eq "odd"' },
      { filter: `id eq "${gid}"`, excludedAttributes: 'members' },
      { filter: 'displayName eq "test scimv2"' },
    ];
    const ask = async () => Promise.all(queries.map((q, i) => h.request('GET', i >= 6 ? '/Groups' : '/Users', undefined, { query: q })));
    const before = await ask();
    expect(before.map((r) => r.body!.totalResults)).toEqual([2, 2, 4, 1, 1, 3, 1, 1]);
    expect(before[1]!.body).toMatchObject({ startIndex: 2, itemsPerPage: 1, Resources: [{ userName: 'user2@example.com' }] });
    expect(before[6]!.body!.Resources).toEqual([expect.not.objectContaining({ members: expect.anything() })]);
    const gets = async () => Promise.all(['/Users/id-1', '/Users/id-3', '/Users/id-5', `/Groups/${gid}`].map((p) => h.request('GET', p)));
    const single = await gets();

    await h.restart();
    expect(await ask()).toEqual(before);
    expect(await gets()).toEqual(single);
    // The restarted service keeps counting versions and enforcing uniqueness.
    expect(await h.request('POST', '/Users', { ...okta.createUser, userName: 'user1@example.com', externalId: 'new' })).toMatchObject({ status: 409 });
    expect((await h.request('PATCH', '/Users/id-1', okta.deactivate)).headers.etag).toBe('W/"3"');
  });
});
