// A service account's key has no human owner of its own: its chain goes key
// -> service account -> project, and ends at the project's owner (the
// OpenAI projects inventory records it from the project's users with role
// owner). An owner who had left by the event's time is named, and the key
// reported orphaned, as for a key's own owner.
import { describe, expect, it } from 'vitest';
import { enrich } from '../../src/resolve/enrich.ts';
import { openaiKeyEvent } from '../fixtures/events.ts';
import { at, directoryPerson, nonHuman, platformAccount } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-01-01T00:00:00Z');
const dana = directoryPerson('00uDana', at('2024-06-01T00:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Reyes' });
const danaLeft = directoryPerson('00uDana', at('2025-09-30T17:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Reyes', active: false, lifecycle_state: 'inactive' });
const account = platformAccount('openai', 'user-K9p3Lm', at('2024-06-02T00:00:00Z'), { email: 'dana@example.com' });
const projectFields = { name: 'billing-bot', created_at: at('2025-01-01T00:00:00Z') };
const ownedProject = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2025-01-01T00:00:00Z'), {
  ...projectFields, owner_email: 'dana@example.com', owner_platform_user_id: 'openai:user-K9p3Lm',
});
const serviceAccount = nonHuman('openai', 'service_account', 'svc_acct_Pq7Yt', at('2025-01-04T00:00:00Z'), { name: 'invoice-worker', parent_nhi_id: ownedProject.nhi_id });
const key = nonHuman('openai', 'api_key', 'key_Sv55Hk', at('2025-01-04T00:01:40Z'), { name: 'invoice-worker-key', parent_nhi_id: serviceAccount.nhi_id });
const used = (time: number) => openaiKeyEvent({ id: `sa-${time}`, time, type: 'api_key.deleted', keyId: 'key_Sv55Hk', serviceAccountId: 'svc_acct_Pq7Yt', projectId: 'proj_Ab12Cd34' });

const links = [
  { kind: 'api_key', id: 'openai:api_key:key_Sv55Hk', name: 'invoice-worker-key', status: 'active' },
  { kind: 'service_account', id: 'openai:service_account:svc_acct_Pq7Yt', name: 'invoice-worker', status: 'active' },
  { kind: 'project', id: 'openai:project:proj_Ab12Cd34', name: 'billing-bot', status: 'active' },
];

describe("a service account key's owner chain", () => {
  it('ends at the project owner', () => {
    const e = enrich(used(at('2025-06-01T12:00:00Z')), storeWith(dana, account, ownedProject, serviceAccount, key), NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'active' });
    // The owner's account email names Dana (0.9), found at the third link (key, service account, project): x 0.9^3.
    expect(e.attribution).toMatchObject({ method: 'api_key_owner', confidence: 0.656, reasons: ['device_no_hint'] });
    expect(e.nhi_chain).toEqual([...links, { kind: 'person', id: '00uDana', name: 'Dana Reyes', status: 'active' }]);
  });

  it('names an owner who has left, in the leaver state, and reports the key orphaned', () => {
    const e = enrich(used(at('2025-11-01T12:00:00Z')), storeWith(dana, danaLeft, account, ownedProject, serviceAccount, key), NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(e.attribution.method).toBe('api_key_owner');
    expect(e.attribution.reasons).toContain('nhi_owner_inactive: openai:project:proj_Ab12Cd34 owner 00uDana is inactive');
    expect(e.nhi_chain.at(-1)).toEqual({ kind: 'person', id: '00uDana', name: 'Dana Reyes', status: 'inactive' });
  });

  it('an owner named by email alone (no platform account) resolves as well', () => {
    const byEmail = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2025-01-01T00:00:00Z'), { ...projectFields, owner_email: 'Dana@Example.com' });
    const e = enrich(used(at('2025-06-01T12:00:00Z')), storeWith(dana, byEmail, serviceAccount, key), NOW);
    expect(e.person?.person_id).toBe('00uDana');
    expect(e.attribution.method).toBe('api_key_owner');
  });

  it('without an owner on the project, still ends in project_has_no_owner', () => {
    const ownerless = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2025-01-01T00:00:00Z'), projectFields);
    const e = enrich(used(at('2025-06-01T12:00:00Z')), storeWith(dana, account, ownerless, serviceAccount, key), NOW);
    expect(e.person).toBeNull();
    expect(e.attribution).toMatchObject({ method: 'unresolved', reasons: ['project_has_no_owner: openai:project:proj_Ab12Cd34', 'device_no_hint'] });
    expect(e.nhi_chain).toEqual(links);
  });

  it('an owner added to the project later names nobody for the uses before it', () => {
    const ownerless = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2025-01-01T00:00:00Z'), projectFields);
    const later = nonHuman('openai', 'project', 'proj_Ab12Cd34', at('2025-08-01T00:00:00Z'), { ...projectFields, owner_email: 'dana@example.com', owner_platform_user_id: 'openai:user-K9p3Lm' });
    const store = storeWith(dana, account, ownerless, later, serviceAccount, key);
    expect(enrich(used(at('2025-06-01T12:00:00Z')), store, NOW).person).toBeNull();
    expect(enrich(used(at('2025-08-02T12:00:00Z')), store, NOW).person?.person_id).toBe('00uDana');
  });
});
