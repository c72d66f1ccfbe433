// The acceptance scenario on the real broker and registry: Dana joins,
// creates an OpenAI API key, moves department and leaves; the key is used
// after she left from a laptop since reassigned to Lee; a ChatGPT connector
// granted by Sam is used; a new hire's first login arrives before their
// identity records. Every enriched event must carry the person as of its
// time, their lifecycle state, the device and its assignee then, the chain
// and the method.
import { describe, expect, it } from 'vitest';
import { versionKey, type EnrichedAccessEvent } from '#schemas';
import { waitFor } from '#testkit';
import { anthropicSystemEvent, googleTokenEvent, openaiKeyEvent, openaiSessionEvent } from './fixtures/events.ts';
import { at, connectorGrant, device, directoryPerson, nonHuman, platformAccount } from './fixtures/identities.ts';
import { harness } from './harness.ts';

const danaFields = { email: 'dana@example.com', display_name: 'Dana Ruiz' };
const dana = {
  joined: directoryPerson('00uDana', at('2025-01-06T09:00:00Z'), { ...danaFields, department: 'Sales', title: 'AE' }),
  moved: directoryPerson('00uDana', at('2025-03-01T09:00:00Z'), { ...danaFields, department: 'Finance', title: 'Analyst' }),
  mistake: directoryPerson('00uDana', at('2025-05-01T09:00:00Z'), { ...danaFields, department: 'Marketing', title: 'Analyst' }),
  left: directoryPerson('00uDana', at('2025-06-30T17:00:00Z'), { ...danaFields, department: 'Finance', title: 'Analyst', active: false, lifecycle_state: 'inactive' }),
  account: platformAccount('openai', 'user-K9p3Lm', at('2025-01-07T10:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Ruiz' }),
};
const lee = directoryPerson('00uLee', at('2024-11-01T09:00:00Z'), { email: 'lee@example.com', display_name: 'Lee Kim', department: 'Engineering' });
const jo = directoryPerson('00uJo', at('2024-11-01T09:00:00Z'), { email: 'jo@example.com', display_name: 'Jo Park', department: 'Support' });
const sam = directoryPerson('00uSam', at('2024-10-01T09:00:00Z'), { email: 'sam@example.com', display_name: 'Sam Lee', department: 'Research' });
const project = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2024-12-01T00:00:00Z'), { name: 'billing-bot' });
const apiKey = nonHuman('openai', 'api_key', 'key_Zx81Qw', at('2025-01-10T12:05:00Z'), {
  name: 'dana-laptop', parent_nhi_id: project.nhi_id, owner_email: 'dana@example.com',
  owner_platform_user_id: 'openai:user-K9p3Lm', created_at: at('2025-01-10T12:00:00Z'),
});
const laptop = {
  dana: device('dev-C02XK1', at('2025-01-06T08:00:00Z'), { serial: 'C02XK1', hostname: 'dana-mbp', assigned_person_id: '00uDana', ip_addresses: ['10.0.4.17'] }),
  lee: device('dev-C02XK1', at('2025-07-05T08:00:00Z'), { serial: 'C02XK1', hostname: 'lee-mbp', assigned_person_id: '00uLee', ip_addresses: ['10.0.9.3'] }),
  jo: device('dev-C02XK1', at('2025-11-01T08:00:00Z'), { serial: 'C02XK1', hostname: 'jo-mbp', assigned_person_id: '00uJo', ip_addresses: ['10.0.2.2'] }),
};
const chatgpt = '1234567890-chatgpt.apps.googleusercontent.com';
const grant = connectorGrant('google', chatgpt, 'sam@example.com', at('2025-02-01T00:00:00Z'), {
  app_name: 'ChatGPT', granted_by_email: 'sam@example.com', scopes: ['https://www.googleapis.com/auth/drive.readonly'], ai_classification: 'ai_tool',
});

const events = {
  login: openaiSessionEvent({ id: 'audit_log-01', time: at('2025-01-08T09:30:00Z'), type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com', ip: '10.0.4.17' }),
  keyCreated: openaiSessionEvent({ id: 'audit_log-02', time: at('2025-01-10T12:00:00Z'), type: 'api_key.created', userId: 'user-K9p3Lm', email: 'dana@example.com', ip: '10.0.4.17', projectId: 'proj_Ab12Cd34' }),
  keyAfterMove: openaiKeyEvent({ id: 'audit_log-03', time: at('2025-04-02T15:00:00Z'), type: 'project.updated', keyId: 'key_Zx81Qw', userId: 'user-K9p3Lm', email: 'dana@example.com', projectId: 'proj_Ab12Cd34' }),
  keyInMay: openaiKeyEvent({ id: 'audit_log-04', time: at('2025-05-15T15:00:00Z'), type: 'project.updated', keyId: 'key_Zx81Qw', userId: 'user-K9p3Lm', email: 'dana@example.com', projectId: 'proj_Ab12Cd34' }),
  keyAfterLeaving: openaiKeyEvent({ id: 'audit_log-05', time: at('2025-08-01T02:14:00Z'), type: 'project.archived', keyId: 'key_Zx81Qw', projectId: 'proj_Ab12Cd34', ip: '10.0.9.3' }),
  connector: googleTokenEvent({ id: '-8812', time: at('2025-08-02T10:00:00Z'), clientId: chatgpt, appName: 'ChatGPT', ip: '198.51.100.24' }),
  system: anthropicSystemEvent({ id: 'activity_01JB', time: at('2025-08-03T00:00:00Z') }),
  newHire: openaiSessionEvent({ id: 'audit_log-06', time: at('2025-09-01T09:00:00Z'), type: 'login.succeeded', userId: 'user-N3wH1r', email: 'ari@example.com' }),
};

describe('enrich scenario on the real broker', () => {
  it('attributes every event to the right person, state, device, chain and method as of its time', async () => {
    const h = await harness();
    // Versions arrive out of order, and a mistaken version is withdrawn by its tombstone.
    await h.writeIdentities([dana.left, laptop.jo, dana.mistake, grant, dana.moved, apiKey, laptop.lee, jo, lee, sam, project, dana.account, laptop.dana, dana.joined]);
    await h.tombstone('identityUsers', versionKey('00uDana', dana.mistake.valid_from));
    const output = await h.readEnriched();

    const app = await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '120000' });
    expect((await app.ready()).checks.identity_restored?.ok).toBe(true);
    expect(app.store.counts()).toMatchObject({ people: 5, devices: 1, nhi: 2, connectors: 1 });
    await h.writeEvents(Object.values(events));

    const byId = (id: string) => output.find((o) => o.value.event.event_id === id);
    await waitFor(() => Object.values(events).filter((e) => e !== events.newHire).every((e) => byId(e.event_id)), { what: 'the resolvable events' });
    expect(byId(events.newHire.event_id)).toBeUndefined();

    // The new hire's identity records arrive late; the waiting event is released.
    const ari = directoryPerson('00uAri', at('2025-08-25T09:00:00Z'), { email: 'ari@example.com', display_name: 'Ari Stone', department: 'Sales' });
    await h.writeIdentities([platformAccount('openai', 'user-N3wH1r', at('2025-08-26T00:00:00Z'), { email: 'ari@example.com' }), ari]);
    await waitFor(() => byId(events.newHire.event_id), { what: 'the late event' });

    const get = (e: { event_id: string }): { key: string; value: EnrichedAccessEvent } => byId(e.event_id)!;
    const personLink = (id: string, name: string, status: string) => ({ kind: 'person', id, name, status });
    const keyLink = { kind: 'api_key', id: 'openai:api_key:key_Zx81Qw', name: 'dana-laptop', status: 'active' };

    const login = get(events.login);
    expect(login.key).toBe('00uDana');
    expect(login.value.person).toMatchObject({ person_id: '00uDana', department: 'Sales', title: 'AE', lifecycle_state: 'active' });
    expect(login.value.device).toMatchObject({ device_id: 'dev-C02XK1', hostname: 'dana-mbp', assigned_person_id: '00uDana' });
    expect(login.value.attribution).toMatchObject({ method: 'platform_user_alias', device_method: 'ip_observation', reasons: [] });
    expect(login.value.nhi_chain).toEqual([]);

    expect(get(events.keyCreated).value.person).toMatchObject({ person_id: '00uDana', department: 'Sales' });

    const afterMove = get(events.keyAfterMove).value;
    expect(afterMove.person).toMatchObject({ person_id: '00uDana', department: 'Finance', lifecycle_state: 'active', version_valid_from: dana.moved.valid_from });
    expect(afterMove.nhi_chain).toEqual([keyLink, personLink('00uDana', 'Dana Ruiz', 'active')]);
    expect(afterMove.attribution.method).toBe('platform_user_alias');
    // The withdrawn Marketing version is not used.
    expect(get(events.keyInMay).value.person).toMatchObject({ department: 'Finance', version_valid_from: dana.moved.valid_from });

    const afterLeaving = get(events.keyAfterLeaving);
    expect(afterLeaving.key).toBe('00uDana');
    expect(afterLeaving.value.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive', department: 'Finance', version_valid_from: dana.left.valid_from });
    expect(afterLeaving.value.nhi_chain).toEqual([keyLink, personLink('00uDana', 'Dana Ruiz', 'inactive')]);
    expect(afterLeaving.value.device).toMatchObject({ device_id: 'dev-C02XK1', hostname: 'lee-mbp', assigned_person_id: '00uLee', version_valid_from: laptop.lee.valid_from });
    expect(afterLeaving.value.attribution).toMatchObject({ method: 'api_key_owner', device_method: 'ip_observation' });
    expect(afterLeaving.value.attribution.confidence).toBeGreaterThan(0);
    expect(afterLeaving.value.attribution.reasons).toContain('device_assigned_to_another_person: dev-C02XK1');

    const connector = get(events.connector);
    expect(connector.key).toBe('00uSam');
    expect(connector.value.person).toMatchObject({ person_id: '00uSam', department: 'Research', lifecycle_state: 'active' });
    expect(connector.value.nhi_chain).toEqual([
      { kind: 'connector', id: grant.connector_id, name: 'ChatGPT', status: 'granted' },
      personLink('00uSam', 'Sam Lee', 'active'),
    ]);
    expect(connector.value.attribution.method).toBe('connector_grant');

    const system = get(events.system);
    expect(system.key).toBe(events.system.event_id);
    expect(system.value.person).toBeNull();
    expect(system.value.attribution).toMatchObject({ method: 'unresolved', confidence: 0, reasons: ['no_actor_identifiers', 'device_no_hint'] });

    const newHire = get(events.newHire).value;
    expect(newHire.person).toMatchObject({ person_id: '00uAri', lifecycle_state: 'active' });
    expect(newHire.enrichment.waited_ms).toBeGreaterThan(0);

    // The event itself travels unchanged, original bytes included.
    expect(afterLeaving.value.event.raw.equals(events.keyAfterLeaving.raw)).toBe(true);
    expect(output).toHaveLength(Object.keys(events).length);
  });
});
