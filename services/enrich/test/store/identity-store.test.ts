import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { IdentityStore } from '../../src/store/identity-store.ts';
import { at, connectorGrant, device, directoryPerson, keyOf, nonHuman, platformAccount } from '../fixtures/identities.ts';

describe('IdentityStore', () => {
  it('applies versions keyed <id>@<valid_from> and removes one version on its tombstone', () => {
    const store = new IdentityStore();
    const joined = directoryPerson('00u1', at('2025-01-06T09:00:00Z'), { email: 'dana@example.com', department: 'Sales' });
    const moved = directoryPerson('00u1', at('2025-04-01T09:00:00Z'), { email: 'dana@example.com', department: 'Finance' });
    expect(store.apply('identityUsers', keyOf(moved), moved)).toBe('added');
    expect(store.apply('identityUsers', keyOf(joined), joined)).toBe('added');
    expect(store.apply('identityUsers', keyOf(joined), joined)).toBe('unchanged');
    expect(store.person('00u1', at('2025-03-01T00:00:00Z'))?.department).toBe('Sales');
    expect(store.person('00u1', at('2025-05-01T00:00:00Z'))?.department).toBe('Finance');

    const generation = store.generation;
    expect(store.apply('identityUsers', keyOf(moved), null)).toBe('removed');
    expect(store.generation).toBeGreaterThan(generation);
    expect(store.person('00u1', at('2025-05-01T00:00:00Z'))?.department).toBe('Sales');
    expect(store.apply('identityUsers', keyOf(moved), null)).toBe('absent');
  });

  it('finds people by email case-insensitively and by every alias kind', () => {
    const store = new IdentityStore();
    const p = directoryPerson('00u2', 1000, {
      email: 'Lee.Kim@Example.com',
      aliases: [{ kind: 'upn', value: 'LKIM@corp.example.com' }, { kind: 'employee_number', value: 'E-1042' }, { kind: 'platform_user_id', value: 'openai:user-M2n8Ws' }],
    });
    store.apply('identityUsers', keyOf(p), p);
    expect(store.personIdsByAlias('email', 'lee.kim@example.COM ')).toEqual(['00u2']);
    expect(store.personIdsByAlias('upn', 'lkim@corp.example.com')).toEqual(['00u2']);
    expect(store.personIdsByAlias('employee_number', 'E-1042')).toEqual(['00u2']);
    expect(store.personIdsByAlias('platform_user_id', 'openai:user-M2n8Ws')).toEqual(['00u2']);
    expect(store.personIdsByAlias('employee_number', 'e-1042')).toEqual([]);
  });

  it('keeps every holder of a reused email so lookups can choose by time', () => {
    const store = new IdentityStore();
    const first = directoryPerson('00uA', 1000, { email: 'alice@example.com' });
    const second = directoryPerson('00uB', 9000, { email: 'alice@example.com' });
    const account = platformAccount('openai', 'user-abc', 2000, { email: 'alice@example.com' });
    for (const r of [first, second, account]) store.apply('identityUsers', keyOf(r), r);
    expect([...store.personIdsByAlias('email', 'alice@example.com')].sort()).toEqual(['00uA', '00uB', 'openai:user-abc']);
  });

  it('indexes NHIs by platform id, devices by serial, hostname (and short name) and IP', () => {
    const store = new IdentityStore();
    const key = nonHuman('openai', 'api_key', 'key_Zx81Qw', 1000);
    const mac = device('dev-C02XK1', 1000, { serial: 'c02xk1', hostname: 'dana-mbp.corp.example.com', ip_addresses: ['10.0.4.17'] });
    store.apply('identityNhi', keyOf(key), key);
    store.apply('identityDevices', keyOf(mac), mac);
    expect(store.nhiIdsByPlatformId('OpenAI', 'key_Zx81Qw')).toEqual(['openai:api_key:key_Zx81Qw']);
    expect(store.deviceIdsBySerial(' C02XK1')).toEqual(['dev-C02XK1']);
    expect(store.deviceIdsByHostname('DANA-MBP')).toEqual(['dev-C02XK1']);
    expect(store.deviceIdsByHostname('dana-mbp.corp.example.com')).toEqual(['dev-C02XK1']);
    expect(store.deviceIdsByIp('10.0.4.17')).toEqual(['dev-C02XK1']);
  });

  it('never indexes placeholder serials', () => {
    const store = new IdentityStore();
    const a = device('dev-1', 1000, { serial: 'To be filled by O.E.M.' });
    const b = device('dev-2', 1000, { serial: 'To be filled by O.E.M.' });
    store.apply('identityDevices', keyOf(a), a);
    store.apply('identityDevices', keyOf(b), b);
    expect(store.deviceIdsBySerial('To be filled by O.E.M.')).toEqual([]);
  });

  it('refuses a record whose key does not name its version, and malformed tombstone keys', () => {
    const store = new IdentityStore();
    const p = directoryPerson('00u3', 5000, { email: 'x@example.com' });
    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return TetherError.is(err) ? err.code : 'other';
      }
      return 'accepted';
    };
    expect(refused(() => store.apply('identityUsers', '00u3@4000', p))).toBe('TETHER_IDENTITY_INVALID');
    expect(refused(() => store.apply('identityUsers', 'someone-else@5000', p))).toBe('TETHER_IDENTITY_INVALID');
    expect(refused(() => store.apply('identityUsers', '00u3', null))).toBe('TETHER_IDENTITY_INVALID');
    expect(refused(() => store.apply('identityUsers', null, null))).toBe('TETHER_IDENTITY_INVALID');
    expect(store.counts().people).toBe(0);
  });

  it('splits a connector key at its last @ (connector ids end in the grantor email)', () => {
    const store = new IdentityStore();
    const grant = connectorGrant('google', '1234.apps.googleusercontent.com', 'alice@example.com', 5000, { granted_by_email: 'alice@example.com' });
    expect(keyOf(grant)).toBe('google:1234.apps.googleusercontent.com:alice@example.com@5000');
    store.apply('identityConnectors', keyOf(grant), grant);
    expect(store.connectorIdsByClient('google', '1234.apps.googleusercontent.com')).toEqual([grant.connector_id]);
    expect(store.apply('identityConnectors', keyOf(grant), null)).toBe('removed');
    expect(store.connectorIdsByClient('google', '1234.apps.googleusercontent.com')).toEqual([]);
  });
});

describe('IdentityStore compaction (a million identities must fit in memory)', () => {
  it('drops what enrichment never reads and keeps everything it does', () => {
    const store = new IdentityStore();
    const scim = directoryPerson('00u7', 1000, {
      email: 'kim@example.com', display_name: 'Kim Lee', department: 'Legal', title: 'Counsel', manager_person_id: '00u1',
      groups: [{ group_id: 'g1', display_name: 'Legal' }], directory_record: JSON.stringify({ resource: { userName: 'kim@example.com', padding: 'x'.repeat(1000) } }),
    });
    store.apply('identityUsers', keyOf(scim), scim);
    const kept = store.person('00u7', 2000)!;
    expect(kept).toMatchObject({
      person_id: '00u7', record_kind: 'directory', valid_from: 1000, active: true, lifecycle_state: 'active', email: 'kim@example.com',
      display_name: 'Kim Lee', department: 'Legal', title: 'Counsel', manager_person_id: '00u1', directory_record: null, groups: null,
      source: { platform: 'okta', feed: 'users', source_time: null },
    });
    expect(kept.aliases.map((a) => `${a.kind}=${a.value}`)).toEqual(['email=kim@example.com', 'upn=kim@example.com', 'scim_external_id=ext-00u7']);

    const key = nonHuman('openai', 'api_key', 'key_1', 1000, { owner_email: 'kim@example.com', created_at: 500, last_used_at: 900, name: 'ci' });
    store.apply('identityNhi', keyOf(key), key);
    expect(store.nhi('openai:api_key:key_1', 2000)).toMatchObject({ owner_email: 'kim@example.com', created_at: 500, name: 'ci', redacted_value: null, last_used_at: null });
  });

  it('treats a re-sent version that differs only in dropped fields as unchanged', () => {
    const store = new IdentityStore();
    const first = directoryPerson('00u8', 1000, { email: 'ana@example.com', directory_record: '{"resource":{"meta":{"version":"W/\\"1\\""}}}' });
    const again = directoryPerson('00u8', 1000, { email: 'ana@example.com', directory_record: '{"resource":{"meta":{"version":"W/\\"2\\""}}}' });
    expect(store.apply('identityUsers', keyOf(first), first)).toBe('added');
    expect(store.apply('identityUsers', keyOf(again), again)).toBe('unchanged');
  });

  it('shares unchanged aliases between versions and still un-indexes an alias only its removed version carried', () => {
    const store = new IdentityStore();
    const joined = directoryPerson('00u9', 1000, { email: 'max@example.com' });
    const moved = directoryPerson('00u9', 5000, { email: 'max@example.com', department: 'Finance' });
    const renamed = directoryPerson('00u9', 9000, { email: 'max.roe@example.com' });
    for (const v of [joined, moved, renamed]) store.apply('identityUsers', keyOf(v), v);
    expect(store.person('00u9', 6000)!.aliases).toBe(store.person('00u9', 2000)!.aliases);
    expect(store.personIdsByAlias('email', 'max@example.com')).toEqual(['00u9']);
    expect(store.personIdsByAlias('upn', 'max.roe@example.com')).toEqual(['00u9']);
    // The new address leaves the index with the only version that carried it; the old one stays while a version carries it.
    expect(store.apply('identityUsers', keyOf(renamed), null)).toBe('removed');
    expect(store.personIdsByAlias('upn', 'max.roe@example.com')).toEqual([]);
    expect(store.apply('identityUsers', keyOf(joined), null)).toBe('removed');
    expect(store.personIdsByAlias('email', 'max@example.com')).toEqual(['00u9']);
    expect(store.person('00u9', 6000)).toMatchObject({ department: 'Finance', email: 'max@example.com' });
  });
});
