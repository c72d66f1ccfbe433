import { describe, expect, it } from 'vitest';
import type { EntityChange, EntityResult, InventoryEntity, OutRecord } from '#source';
import { versionKey, type AccessEvent, type NonHumanIdentityVersion, type PersonVersion } from '#schemas';
import { nhiVersion, personVersion, type NhiContent, type PersonContent } from '../src/identity.ts';
import {
  anthropicApiKey, anthropicInvite, anthropicUser, anthropicWorkspaceItem, apiKeyRecords, inviteEvents, workspaceRecords, type InviteContent,
  type WorkspaceContent,
} from '../src/platforms/anthropic/inventory.ts';
import { cursorMember } from '../src/platforms/cursor/source.ts';
import { openAiAdminApiKey, openAiProjectItem, openAiUser } from '../src/platforms/openai/inventory.ts';
import { fixture } from './fixtures.ts';

const OBSERVED = Date.parse('2026-03-03T12:00:00Z');

function entities<S>(result: EntityResult<S>): InventoryEntity<S>[] {
  if (!result.ok) throw result.error;
  return [...result.entities];
}

function change<S>(kind: EntityChange<S>['kind'], entity: InventoryEntity<S>, extra: Partial<EntityChange<S>> = {}): EntityChange<S> {
  const validFrom = kind === 'new' ? (entity.createdAt ?? OBSERVED) : OBSERVED;
  return { kind, id: entity.id, previous: null, current: entity.content, validFrom, observedAt: OBSERVED, baseline: false, raw: Buffer.from('{"listed":true}'), ...extra };
}

const values = <T>(records: readonly OutRecord[], role: OutRecord['role']) => records.filter((r) => r.role === role).map((r) => r.value as T);
const page = <T = unknown>(platform: 'openai' | 'anthropic' | 'cursor', name: string, key = 'data') => fixture<Record<string, T[]>>(platform, name)[key]!;

describe('OpenAI inventories', () => {
  it('users become platform accounts keyed <platform>:<user id>; service-account users are not people', () => {
    const users = page('openai', 'users-page.json').flatMap((u) => entities(openAiUser(u)));
    expect(users.map((u) => u.id)).toEqual(['openai:user-K9p3Lm', 'openai:user-M2n8Ws']);
    const [record] = [personVersion(change('new', users[1]!), 'openai', 'users')];
    expect(record!.key).toBe(versionKey('openai:user-M2n8Ws', 1738368000000));
    expect(record!.value).toEqual({
      person_id: 'openai:user-M2n8Ws',
      record_kind: 'platform_account',
      valid_from: 1738368000000,
      source: { platform: 'openai', feed: 'users', source_time: '1738368000', observed_at: OBSERVED },
      active: true,
      lifecycle_state: 'active',
      email: 'Lee.Park@Example.com',
      display_name: 'Lee Park',
      department: null,
      title: null,
      manager_person_id: null,
      aliases: [{ kind: 'email', value: 'Lee.Park@Example.com' }, { kind: 'platform_user_id', value: 'openai:user-M2n8Ws' }],
      platform_role: 'reader',
      groups: null,
      directory_record: null,
    } satisfies PersonVersion);
  });

  it('chains key -> service account or project, with the human owner where the API names one', () => {
    const projects = page('openai', 'projects-page.json').flatMap((item) => entities(openAiProjectItem({ kind: 'project', item })));
    const accounts = page('openai', 'service-accounts-page.json').flatMap((item) => entities(openAiProjectItem({ kind: 'service_account', projectId: 'proj_Ab12Cd34', item })));
    const keys = page('openai', 'api-keys-page.json').flatMap((item) => entities(openAiProjectItem({ kind: 'api_key', projectId: 'proj_Ab12Cd34', item })));
    expect(projects.map((p) => [p.id, p.content.status, p.content.active])).toEqual([
      ['openai:project:proj_Ab12Cd34', 'active', true],
      ['openai:project:proj_Old01', 'archived', false],
    ]);
    expect(accounts[0]!.content).toMatchObject({ nhi_id: 'openai:service_account:svc_acct_Pq7Yt', parent_nhi_id: 'openai:project:proj_Ab12Cd34', name: 'invoice-worker' });
    expect(keys[0]!.content).toMatchObject({
      nhi_id: 'openai:api_key:key_Zx81Qw',
      parent_nhi_id: 'openai:project:proj_Ab12Cd34',
      owner_email: 'dana@example.com',
      owner_platform_user_id: 'openai:user-K9p3Lm',
      redacted_value: 'sk-proj-abc...wxyz',
      created_at: 1767312000000,
      last_used_at: 1767398400000,
    });
    expect(keys[1]!.content).toMatchObject({ nhi_id: 'openai:api_key:key_Sv55Hk', parent_nhi_id: 'openai:service_account:svc_acct_Pq7Yt', owner_email: null, owner_platform_user_id: null });
    const admin = page('openai', 'admin-api-keys-page.json').flatMap((k) => entities(openAiAdminApiKey(k)));
    expect(admin[0]!.content).toMatchObject({ nhi_id: 'openai:admin_api_key:key_AdmN1', kind: 'admin_api_key', owner_platform_user_id: 'openai:user-K9p3Lm', redacted_value: 'sk-admin-ghi...mnop' });
  });

  it('a key first seen holds from its creation; one that disappeared is a deleted, inactive version', () => {
    const [key] = page('openai', 'api-keys-page.json').flatMap((item) => entities(openAiProjectItem({ kind: 'api_key', projectId: 'proj_Ab12Cd34', item })));
    const first = nhiVersion(change('new', key!), 'openai', 'projects');
    expect(first).toMatchObject({ role: 'identityNhi', key: versionKey('openai:api_key:key_Zx81Qw', 1767312000000), value: { valid_from: 1767312000000, status: 'active', active: true } });
    const gone = nhiVersion(change('gone', key!), 'openai', 'projects').value as NonHumanIdentityVersion;
    expect(gone).toMatchObject({ valid_from: OBSERVED, status: 'deleted', active: false, owner_email: 'dana@example.com', parent_nhi_id: 'openai:project:proj_Ab12Cd34' });
    expect(gone.source.source_time).toBeNull();
  });

  it('a malformed listing element is a typed error', () => {
    expect(openAiUser({ email: 'x@example.com' })).toMatchObject({ ok: false, error: { code: 'TETHER_NORMALISE_INVALID' } });
    expect(openAiProjectItem({ kind: 'api_key', projectId: 'p', item: 'key' })).toMatchObject({ ok: false });
  });
});

describe('Anthropic inventories', () => {
  const users = page('anthropic', 'users-page.json').flatMap((u) => entities(anthropicUser(u)));
  const emails = new Map(users.map((u) => [u.id, u.content.email]));
  const directory = { emailOf: (id: string) => emails.get(id) ?? null };
  const keys = page('anthropic', 'api-keys-page.json').flatMap((k) => entities(anthropicApiKey(k, directory)));

  it('keys chain to the service account they act as, else their workspace; the creator is the owner, with the email the users inventory knows', () => {
    expect(keys.map((k) => [k.content.nhi_id, k.content.parent_nhi_id, k.content.owner_platform_user_id, k.content.owner_email, k.content.status])).toEqual([
      ['anthropic:api_key:apikey_01FakeK5', 'anthropic:workspace:wrkspc_01FakeW1', 'anthropic:user_01FakeK2', 'kim@example.com', 'active'],
      ['anthropic:api_key:apikey_01FakeK8', 'anthropic:service_account:svcacct_01FakeS1', null, null, 'active'],
      ['anthropic:api_key:apikey_01FakeK9', null, null, null, 'archived'],
    ]);
    expect(keys[0]!.content.redacted_value).toBe('sk-ant-api03-R2D...igAA');
  });

  it('a key seen for the first time is an identity version and an api_key.created event by its creator, at its creation time', () => {
    const records = apiKeyRecords(change('new', keys[0]!, { baseline: true }));
    const [event] = values<AccessEvent>(records, 'accessRaw');
    expect(values<NonHumanIdentityVersion>(records, 'identityNhi')).toHaveLength(1);
    expect(event).toMatchObject({
      action: 'api_key.created',
      time: Date.parse('2026-02-20T10:00:00Z'),
      actor: { kind: 'human', platform_user_id: 'user_01FakeK2', email: 'kim@example.com' },
      targets: [{ type: 'api_key', id: 'apikey_01FakeK5', name: 'prod-backend' }],
      scope: { workspace_id: 'wrkspc_01FakeW1' },
      ocsf: { type_uid: 600301 },
      source: { platform: 'anthropic', feed: 'api_keys', source_event_id: 'apikey_01FakeK5:created' },
    });
    expect(event!.raw.toString()).toBe('{"listed":true}');
    // The same key seen again after a restart is the same event.
    expect(values<AccessEvent>(apiKeyRecords(change('new', keys[0]!, { baseline: true })), 'accessRaw')[0]!.event_id).toBe(event!.event_id);
  });

  it('status changes between polls become disabled / archived / enabled events; a vanished key a deleted one', () => {
    const disabled = entities(anthropicApiKey({ ...page<Record<string, unknown>>('anthropic', 'api-keys-page.json')[0], status: 'inactive' }, directory))[0]!;
    const events = (c: EntityChange<NhiContent>) => values<AccessEvent>(apiKeyRecords(c), 'accessRaw');
    expect(events(change('changed', disabled, { previous: keys[0]!.content, validFrom: OBSERVED - 5 }))).toEqual([
      expect.objectContaining({ action: 'api_key.disabled', time: OBSERVED - 5, ocsf: expect.objectContaining({ type_uid: 600303 }), actor: expect.objectContaining({ kind: 'unknown' }) }),
    ]);
    const archived = { ...disabled, content: { ...disabled.content, status: 'archived', active: false } };
    expect(events(change('changed', archived, { previous: disabled.content }))[0]).toMatchObject({ action: 'api_key.archived', ocsf: { activity_id: 4 } });
    expect(events(change('changed', keys[0]!, { previous: disabled.content }))[0]!.action).toBe('api_key.enabled');
    const renamed = { ...keys[0]!, content: { ...keys[0]!.content, name: 'renamed' } };
    expect(events(change('changed', renamed, { previous: keys[0]!.content }))).toEqual([]);
    const gone = apiKeyRecords(change('gone', keys[0]!, { raw: null }));
    expect(values<AccessEvent>(gone, 'accessRaw')[0]).toMatchObject({ action: 'api_key.deleted' });
    expect(values<NonHumanIdentityVersion>(gone, 'identityNhi')[0]).toMatchObject({ status: 'deleted', active: false });
  });

  it('invites: sent at their own time, then each status they reach', () => {
    const invites = page('anthropic', 'invites-page.json').flatMap((i) => entities(anthropicInvite(i)));
    const baseline = invites.flatMap((i) => values<AccessEvent>(inviteEvents(change('new', i, { baseline: true })), 'accessRaw'));
    expect(baseline.map((e) => [e.action, e.time, e.targets[0]!.name])).toEqual([
      ['invite.sent', Date.parse('2026-03-01T12:00:00Z'), 'new.hire@example.com'],
      ['invite.sent', Date.parse('2026-01-05T12:00:00Z'), 'old.hire@example.com'],
    ]);
    const accepted = { ...invites[0]!, content: { ...invites[0]!.content, status: 'accepted' } as InviteContent };
    expect(values<AccessEvent>(inviteEvents(change('changed', accepted, { previous: invites[0]!.content })), 'accessRaw').map((e) => e.action)).toEqual(['invite.accepted']);
    expect(values<AccessEvent>(inviteEvents(change('gone', invites[0]!)), 'accessRaw').map((e) => e.action)).toEqual(['invite.deleted']);
  });

  it('workspaces are identities; memberships after the first snapshot are grant and revoke events', () => {
    const ws = page('anthropic', 'workspaces-page.json').flatMap((item) => entities(anthropicWorkspaceItem({ kind: 'workspace', item })));
    expect(ws.map((w) => [w.id, (w.content as NhiContent).status])).toEqual([
      ['anthropic:workspace:wrkspc_01FakeW1', 'active'],
      ['anthropic:workspace:wrkspc_01FakeW0', 'archived'],
    ]);
    expect(values<NonHumanIdentityVersion>(workspaceRecords(change('new', ws[0]!)), 'identityNhi')[0]).toMatchObject({ kind: 'workspace', name: 'Production' });
    const members = page('anthropic', 'workspace-members-page.json').flatMap((item) => entities(anthropicWorkspaceItem({ kind: 'workspace_member', workspaceId: 'wrkspc_01FakeW1', item })));
    expect(workspaceRecords(change('new', members[1]!, { baseline: true }))).toEqual([]);
    const added = values<AccessEvent>(workspaceRecords(change('new', members[1]!)), 'accessRaw')[0]!;
    expect(added).toMatchObject({
      action: 'workspace_member.added',
      ocsf: { class_uid: 3005, activity_id: 1 },
      targets: [{ type: 'user', id: 'user_01FakeK2' }, { type: 'workspace', id: 'wrkspc_01FakeW1' }],
      scope: { workspace_id: 'wrkspc_01FakeW1' },
    });
    const removed = values<AccessEvent>(workspaceRecords(change('gone', members[1]! as InventoryEntity<WorkspaceContent>)), 'accessRaw')[0]!;
    expect(removed).toMatchObject({ action: 'workspace_member.removed', ocsf: { activity_id: 2 } });
  });
});

describe('Cursor members', () => {
  it('become platform accounts; a removed member is inactive; numeric ids are kept as text', () => {
    const members = page('cursor', 'members.json', 'teamMembers').flatMap((m) => entities(cursorMember(m)));
    expect(members.map((m) => [m.id, (m.content as PersonContent).active, (m.content as PersonContent).platform_role])).toEqual([
      ['cursor:user_f4k3Sam', true, 'owner'],
      ['cursor:user_f4k3Adm', true, 'member'],
      ['cursor:1234567', false, 'member'],
    ]);
    expect(personVersion(change('new', members[2]!), 'cursor', 'members').value).toMatchObject({ valid_from: OBSERVED, lifecycle_state: 'inactive', active: false });
  });
});
