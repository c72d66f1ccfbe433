import { describe, expect, it } from 'vitest';
import { awaitsIdentity, enrich, outputKey, resolveEvent } from '../../src/resolve/enrich.ts';
import { anthropicSystemEvent, cursorAuditEvent, googleTokenEvent, openaiKeyEvent, openaiSessionEvent } from '../fixtures/events.ts';
import { at, connectorGrant, directoryPerson, nonHuman, platformAccount } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-01-01T00:00:00Z');

// Dana joins in Sales, gets an OpenAI account, creates a key, moves to
// Finance, leaves; a second person later joins with the same email.
const dana = {
  joined: directoryPerson('00uDana', at('2025-01-06T09:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Ruiz', department: 'Sales', title: 'AE' }),
  moved: directoryPerson('00uDana', at('2025-03-01T09:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Ruiz', department: 'Finance', title: 'Analyst' }),
  left: directoryPerson('00uDana', at('2025-06-30T17:00:00Z'), {
    email: 'dana@example.com', display_name: 'Dana Ruiz', department: 'Finance', title: 'Analyst', active: false, lifecycle_state: 'inactive',
  }),
  account: platformAccount('openai', 'user-K9p3Lm', at('2025-01-07T10:00:00Z'), { email: 'dana@example.com' }),
};
const dana2 = {
  joined: directoryPerson('00uDana2', at('2025-09-01T09:00:00Z'), { email: 'Dana@Example.com', display_name: 'Dana Okafor', department: 'Legal' }),
  account: platformAccount('openai', 'user-Q1w2E3', at('2025-09-02T10:00:00Z'), { email: 'dana@example.com' }),
};
const project = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2025-01-02T00:00:00Z'), { name: 'billing-bot' });
const key = nonHuman('openai', 'api_key', 'key_Zx81Qw', at('2025-01-12T00:00:00Z'), {
  name: 'dana-laptop', parent_nhi_id: project.nhi_id, owner_email: 'dana@example.com',
  owner_platform_user_id: 'openai:user-K9p3Lm', created_at: at('2025-01-10T12:00:00Z'),
});

const everything = () => storeWith(dana.left, dana2.account, key, dana.joined, project, dana2.joined, dana.account, dana.moved);

describe('enrich: people as of the event time', () => {
  it('resolves a session through the platform account to the directory person of that time', () => {
    const store = everything();
    const before = enrich(openaiSessionEvent({ id: 'audit_log-1', time: at('2025-02-01T10:00:00Z'), type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    const after = enrich(openaiSessionEvent({ id: 'audit_log-2', time: at('2025-04-01T10:00:00Z'), type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    expect(before.person).toMatchObject({ person_id: '00uDana', department: 'Sales', title: 'AE', lifecycle_state: 'active', version_valid_from: dana.joined.valid_from, version_source: 'okta/users' });
    expect(after.person).toMatchObject({ person_id: '00uDana', department: 'Finance', lifecycle_state: 'active', version_valid_from: dana.moved.valid_from });
    expect(before.attribution).toMatchObject({ method: 'platform_user_alias', confidence: 0.9 });
  });

  it('reports a leaver as inactive from that version on, never as today\'s record', () => {
    const store = everything();
    const e = enrich(openaiSessionEvent({ id: 'audit_log-3', time: at('2025-07-15T10:00:00Z'), type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive', version_valid_from: dana.left.valid_from });
  });

  it('keeps a reused email with the person who held it when the account claimed it', () => {
    const store = everything();
    const time = at('2025-10-01T10:00:00Z');
    const oldAccount = enrich(openaiSessionEvent({ id: 'a-old', time, type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    const newAccount = enrich(openaiSessionEvent({ id: 'a-new', time, type: 'login.succeeded', userId: 'user-Q1w2E3', email: 'dana@example.com' }), store, NOW);
    const emailOnly = enrich(cursorAuditEvent({ id: 'c-1', time, email: 'DANA@example.com' }), store, NOW);
    const emailBeforeReuse = enrich(cursorAuditEvent({ id: 'c-0', time: at('2025-05-01T00:00:00Z'), email: 'dana@example.com' }), store, NOW);
    expect(oldAccount.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(newAccount.person).toMatchObject({ person_id: '00uDana2', lifecycle_state: 'active', department: 'Legal' });
    expect(emailOnly.person?.person_id).toBe('00uDana2');
    expect(emailOnly.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9 });
    expect(emailBeforeReuse.person?.person_id).toBe('00uDana');
  });

  it('follows a rename: the account still carries the old email, the person is reported with the new one', () => {
    const renamed = directoryPerson('00uDana', at('2025-02-01T00:00:00Z'), {
      email: 'dana.ruiz@example.com', department: 'Sales',
      aliases: [{ kind: 'email', value: 'dana.ruiz@example.com' }, { kind: 'upn', value: 'dana.ruiz@example.com' }],
    });
    const store = storeWith(dana.joined, renamed, dana.account);
    const e = enrich(openaiSessionEvent({ id: 'r-1', time: at('2025-02-10T00:00:00Z'), type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', email: 'dana.ruiz@example.com' });
    expect(e.attribution.method).toBe('platform_user_alias');
  });

  it('prefers a directory alias naming the platform user id over the email', () => {
    const lee = directoryPerson('00uLee', 1000, {
      email: 'lee@example.com', aliases: [{ kind: 'email', value: 'lee@example.com' }, { kind: 'platform_user_id', value: 'openai:user-M2n8Ws' }],
    });
    const e = enrich(openaiSessionEvent({ id: 'l-1', time: 5000, type: 'login.failed', userId: 'user-M2n8Ws', email: 'someone-else@example.com' }), storeWith(lee), NOW);
    expect(e.person?.person_id).toBe('00uLee');
    expect(e.attribution).toMatchObject({ method: 'platform_user_alias', confidence: 0.95, reasons: ['device_no_hint'] });
  });

  it('falls back to the platform account when no directory person matches', () => {
    const contractor = platformAccount('openai', 'user-Ext1', 1000, { email: 'pat@contractor.example', display_name: 'Pat' });
    const e = enrich(openaiSessionEvent({ id: 'p-1', time: 5000, type: 'login.succeeded', userId: 'user-Ext1', email: 'pat@contractor.example' }), storeWith(contractor), NOW);
    expect(e.person).toMatchObject({ person_id: 'openai:user-Ext1', email: 'pat@contractor.example', version_source: 'openai/users' });
    expect(e.attribution.method).toBe('platform_account_only');
    expect(e.attribution.confidence).toBeLessThan(0.9);
    expect(e.attribution.reasons).toContain('no_directory_person_for_platform_account: openai:user-Ext1');
  });

  it('never uses a person first known after the event', () => {
    const late = directoryPerson('00uNew', at('2025-05-01T00:00:00Z'), { email: 'new@example.com' });
    const account = platformAccount('openai', 'user-New', at('2025-04-01T00:00:00Z'), { email: 'new@example.com' });
    const e = enrich(openaiSessionEvent({ id: 'n-1', time: at('2025-04-15T00:00:00Z'), type: 'login.succeeded', userId: 'user-New', email: 'new@example.com' }), storeWith(late, account), NOW);
    expect(e.person?.person_id).toBe('openai:user-New');
    expect(e.attribution.method).toBe('platform_account_only');
  });
});

describe('enrich: owner chains', () => {
  it('attributes a key used after its owner left to that owner, inactive, with the chain as of then', () => {
    const store = everything();
    const e = enrich(openaiKeyEvent({ id: 'k-1', time: at('2025-10-01T10:00:00Z'), type: 'project.archived', keyId: 'key_Zx81Qw', serviceAccountId: undefined }), store, NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(e.attribution.method).toBe('api_key_owner');
    expect(e.nhi_chain).toEqual([
      { kind: 'api_key', id: 'openai:api_key:key_Zx81Qw', name: 'dana-laptop', status: 'active' },
      { kind: 'person', id: '00uDana', name: 'Dana Ruiz', status: 'inactive' },
    ]);
    expect(outputKey(e)).toBe('00uDana');
  });

  it('walks key -> service account -> project to the project owner, discounting each hop', () => {
    const sa = nonHuman('openai', 'service_account', 'svc_acct_Pq7Yt', 1000, { name: 'etl', parent_nhi_id: 'openai:project:proj_Owned' });
    const saKey = nonHuman('openai', 'api_key', 'key_Sv55Hk', 1000, { parent_nhi_id: sa.nhi_id, status: 'active' });
    const owned = nonHuman('openai', 'project', 'proj_Owned', 1000, { name: 'etl-prod', owner_email: 'dana@example.com' });
    const store = storeWith(sa, saKey, owned, dana.joined);
    const e = enrich(openaiKeyEvent({ id: 's-1', time: 5_000_000_000_000, type: 'project.archived', keyId: 'key_Sv55Hk', serviceAccountId: 'svc_acct_Pq7Yt' }), store, NOW);
    expect(e.nhi_chain.map((l) => `${l.kind}:${l.id}`)).toEqual([
      'api_key:openai:api_key:key_Sv55Hk', 'service_account:openai:service_account:svc_acct_Pq7Yt', 'project:openai:project:proj_Owned', 'person:00uDana',
    ]);
    expect(e.attribution.method).toBe('api_key_owner');
    expect(e.attribution.confidence).toBeLessThan(0.9 * 0.9);
    expect(outputKey(e)).toBe('00uDana');
  });

  it('notes a project without an owner and keys the output by the first NHI', () => {
    const sa = nonHuman('openai', 'service_account', 'svc_acct_Orph', 1000, { parent_nhi_id: 'openai:project:proj_NoOwner' });
    const orphanProject = nonHuman('openai', 'project', 'proj_NoOwner', 1000);
    const event = openaiKeyEvent({ id: 'o-1', time: 5000, type: 'project.updated', keyId: 'key_unknownToo', serviceAccountId: 'svc_acct_Orph' });
    const r = resolveEvent(event, storeWith(sa, orphanProject));
    const e = enrich(event, storeWith(sa, orphanProject), NOW);
    expect(e.person).toBeNull();
    expect(e.attribution.method).toBe('unresolved');
    expect(e.attribution.reasons).toEqual(expect.arrayContaining(['project_has_no_owner: openai:project:proj_NoOwner', 'api_key_unknown: openai:api_key:key_unknownToo']));
    expect(e.nhi_chain.map((l) => l.kind)).toEqual(['service_account', 'project']);
    expect(outputKey(e)).toBe('openai:service_account:svc_acct_Orph');
    // The unknown key is a reference that may still arrive: the event may wait for it.
    expect(r.unknownRefs).toEqual(['api_key:openai:key_unknownToo']);
  });

  it('reports the status of each link as of the event time', () => {
    const { valid_from: _created, ...rest } = key;
    const revoked = nonHuman('openai', 'api_key', 'key_Zx81Qw', at('2025-08-01T00:00:00Z'), { ...rest, active: false, status: 'deleted' });
    const store = storeWith(key, revoked, project, dana.joined, dana.account);
    const before = enrich(openaiKeyEvent({ id: 'st-1', time: at('2025-07-01T00:00:00Z'), type: 'x', keyId: 'key_Zx81Qw', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    const after = enrich(openaiKeyEvent({ id: 'st-2', time: at('2025-08-02T00:00:00Z'), type: 'x', keyId: 'key_Zx81Qw', userId: 'user-K9p3Lm', email: 'dana@example.com' }), store, NOW);
    expect(before.nhi_chain[0]?.status).toBe('active');
    expect(after.nhi_chain[0]?.status).toBe('deleted');
    // A person acting through a key is named directly; the chain still shows the key's owner.
    expect(after.attribution.method).toBe('platform_user_alias');
  });

  it('flags a person acting through someone else\'s key', () => {
    const lee = directoryPerson('00uLee', 1000, { email: 'lee@example.com' });
    const leeAccount = platformAccount('openai', 'user-Lee', 1000, { email: 'lee@example.com' });
    const store = storeWith(key, project, dana.joined, dana.account, lee, leeAccount);
    const e = enrich(openaiKeyEvent({ id: 'x-1', time: at('2025-02-01T00:00:00Z'), type: 'x', keyId: 'key_Zx81Qw', userId: 'user-Lee', email: 'lee@example.com' }), store, NOW);
    expect(e.person?.person_id).toBe('00uLee');
    expect(e.nhi_chain.at(-1)?.id).toBe('00uDana');
    expect(e.attribution.reasons).toContain('key_owner_differs_from_actor');
  });
});

describe('enrich: connectors', () => {
  const client = '1234567890-chatgpt.apps.googleusercontent.com';
  const sam = directoryPerson('00uSam', 1000, { email: 'sam@example.com', display_name: 'Sam Lee' });
  const grantBySam = connectorGrant('google', client, 'sam@example.com', 2000, { app_name: 'ChatGPT', granted_by_email: 'sam@example.com' });

  it('resolves a connector used without a person to its only grantor', () => {
    const e = enrich(googleTokenEvent({ id: 'g-1', time: 5000, clientId: client, appName: 'ChatGPT' }), storeWith(sam, grantBySam), NOW);
    expect(e.person?.person_id).toBe('00uSam');
    expect(e.attribution.method).toBe('connector_grant');
    expect(e.nhi_chain).toEqual([
      { kind: 'connector', id: grantBySam.connector_id, name: 'ChatGPT', status: 'granted' },
      { kind: 'person', id: '00uSam', name: 'Sam Lee', status: 'active' },
    ]);
  });

  it('does not guess between several grantors, but picks the acting person\'s grant when named', () => {
    const grantByDana = connectorGrant('google', client, 'dana@example.com', 3000, { app_name: 'ChatGPT', granted_by_email: 'dana@example.com' });
    const store = storeWith(sam, grantBySam, dana.joined, grantByDana);
    const anonymous = enrich(googleTokenEvent({ id: 'g-2', time: at('2025-02-01T00:00:00Z'), clientId: client, appName: 'ChatGPT' }), store, NOW);
    expect(anonymous.person).toBeNull();
    expect(anonymous.attribution.reasons).toContain(`connector_grant_ambiguous: google:${client} granted by 2 people`);
    const named = enrich(googleTokenEvent({ id: 'g-3', time: at('2025-02-01T00:00:00Z'), clientId: client, appName: 'ChatGPT', email: 'dana@example.com' }), store, NOW);
    expect(named.person?.person_id).toBe('00uDana');
    expect(named.nhi_chain.map((l) => l.id)).toEqual([grantByDana.connector_id, '00uDana']);
  });

  it('reports a grant revoked before the event with its status then', () => {
    const revoked = connectorGrant('google', client, 'sam@example.com', 4000, { app_name: 'ChatGPT', granted_by_email: 'sam@example.com', active: false, status: 'revoked' });
    const e = enrich(googleTokenEvent({ id: 'g-4', time: 5000, clientId: client, appName: 'ChatGPT' }), storeWith(sam, grantBySam, revoked), NOW);
    expect(e.nhi_chain[0]?.status).toBe('revoked');
    expect(e.person?.person_id).toBe('00uSam');
  });
});

describe('enrich: unknown actors', () => {
  it('emits an event that names no actor with a reason, and does not make it wait', () => {
    const event = anthropicSystemEvent({ id: 'activity_01', time: 5000 });
    const r = resolveEvent(event, storeWith());
    const e = enrich(event, storeWith(), NOW, { waitedMs: 12.4 });
    expect(e.person).toBeNull();
    expect(e.device).toBeNull();
    expect(e.attribution).toEqual({ method: 'unresolved', confidence: 0, device_method: 'unresolved', device_confidence: 0, reasons: ['no_actor_identifiers', 'device_no_hint'] });
    expect(e.enrichment).toEqual({ version: 'enrich/1.2', enriched_at: NOW, waited_ms: 12 });
    expect(awaitsIdentity(r)).toBe(false);
    expect(outputKey(e)).toBe(event.event_id);
  });

  it('makes an event wait when its identifiers name nothing yet', () => {
    const r = resolveEvent(openaiSessionEvent({ id: 'u-1', time: 5000, type: 'login.succeeded', userId: 'user-Nobody', email: 'nobody@example.com' }), storeWith());
    expect(r.method).toBe('unresolved');
    expect(r.unknownRefs).toEqual(['email:nobody@example.com', 'platform_user:openai:user-Nobody']);
    expect(r.reasons).toEqual(expect.arrayContaining(['platform_user_unknown: openai:user-Nobody', 'email_unknown: nobody@example.com']));
    expect(awaitsIdentity(r)).toBe(true);
  });

  it('copies the event unchanged into the output', () => {
    const event = openaiSessionEvent({ id: 'u-2', time: 5000, type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' });
    const e = enrich(event, everything(), NOW);
    expect(e.event).toBe(event);
    expect(JSON.parse(e.event.raw.toString()).actor.session.user.id).toBe('user-K9p3Lm');
  });
});
