// Issue 16's resolution rules: device by address as of the event's time; an
// event that names nobody goes to whoever used the device then; a handover
// splits the events; an address no device held says so; a token used from
// the vendor's servers never lands on a managed device; an osquery lease is
// not stale while it holds.
import { describe, expect, it } from 'vitest';
import { deriveEventId, type AccessEvent } from '#schemas';
import { couldImprove } from '../../src/reattribution.ts';
import { enrich, resolveEvent } from '../../src/resolve/enrich.ts';
import { googleTokenEvent } from '../fixtures/events.ts';
import { at, connectorGrant, device, directoryPerson } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-03-31T00:00:00Z');
const ana = directoryPerson('00uAna', at('2026-01-01T00:00:00Z'), { email: 'ana@example.com' });
const ben = directoryPerson('00uBen', at('2026-01-01T00:00:00Z'), { email: 'ben@example.com' });
const osquery = { platform: 'osquery', feed: 'pack/it/interface_addresses', source_time: null, observed_at: 0 };

/** An event with nothing but an address (an SSO attempt before authentication, a Cursor login as "unknown"). */
function ipOnly(id: string, time: number, ip: string): AccessEvent {
  return {
    event_id: deriveEventId('cursor', 'audit_logs', id),
    source: { platform: 'cursor', feed: 'audit_logs', source_event_id: id, ingested_at: time, ingest_version: 'test' },
    time, time_raw: new Date(time).toISOString(), action: 'login.failed', source_type: 'login', outcome: 'failure',
    ocsf: { category_uid: 3, class_uid: 3002, activity_id: 1, type_uid: 300201, severity_id: 1 },
    actor: { kind: 'unknown', platform_user_id: null, email: null, name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
    targets: [], scope: { organization_id: null, project_id: null, workspace_id: null },
    src: { ip, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
    connector: null, raw: Buffer.from('{}'), unmapped: '{}',
  };
}

// Ana's laptop holds 10.0.0.5 in the morning; her desktop holds 10.0.0.9 in the afternoon;
// on March 3 the laptop's old address 10.0.0.5 is leased to Ben's laptop.
const anaLaptop = [
  device('serial:LAPA', at('2026-03-02T07:00:00Z'), { source: osquery, assigned_email: 'ana@example.com', ip_addresses: ['10.0.0.5'] }),
  device('serial:LAPA', at('2026-03-02T12:00:00Z'), { source: osquery, assigned_email: 'ana@example.com', ip_addresses: [] }),
];
const anaDesktop = [device('serial:DSKA', at('2026-03-02T12:30:00Z'), { source: osquery, assigned_email: 'ana@example.com', ip_addresses: ['10.0.0.9'] })];
const benLaptop = [device('serial:LAPB', at('2026-03-03T08:00:00Z'), { source: osquery, assigned_email: 'ben@example.com', ip_addresses: ['10.0.0.5'] })];
const store = () => storeWith(ana, ben, ...anaLaptop, ...anaDesktop, ...benLaptop);

describe('enrich: people through the devices they used', () => {
  it('an IP-only event goes to whoever used the device holding the address at its time', () => {
    const morning = enrich(ipOnly('e1', at('2026-03-02T09:00:00Z'), '10.0.0.5'), store(), NOW);
    const afternoon = enrich(ipOnly('e2', at('2026-03-02T15:00:00Z'), '10.0.0.9'), store(), NOW);
    const nextDay = enrich(ipOnly('e3', at('2026-03-03T09:00:00Z'), '::ffff:10.0.0.5'), store(), NOW);
    expect([morning, afternoon, nextDay].map((e) => [e.device?.device_id, e.person?.person_id, e.attribution.method])).toEqual([
      ['serial:LAPA', '00uAna', 'device_user'],
      ['serial:DSKA', '00uAna', 'device_user'],
      ['serial:LAPB', '00uBen', 'device_user'],
    ]);
    expect(morning.attribution.reasons).toContain('person_from_device_user: serial:LAPA used by 00uAna');
    // Less sure than the device match it rests on.
    expect(morning.attribution.confidence).toBeLessThan(morning.attribution.device_confidence);
    expect(morning.attribution.confidence).toBeGreaterThan(0);
  });

  it('an address between two leases, or never leased, is not observed: no device and no person, and it says so', () => {
    const gap = enrich(ipOnly('e4', at('2026-03-02T20:00:00Z'), '10.0.0.5'), store(), NOW);
    expect([gap.device, gap.person, gap.attribution.method]).toEqual([null, null, 'unresolved']);
    expect(gap.attribution.reasons).toContain('ip_not_observed: 10.0.0.5');
    const never = enrich(ipOnly('e5', at('2026-03-02T09:00:00Z'), '198.51.100.7'), store(), NOW);
    expect(never.attribution.reasons).toContain('ip_not_observed: 198.51.100.7');
  });

  it('a handover: events before it are the previous user\'s, after it the new one\'s', () => {
    const handed = [
      device('serial:SHARED', at('2026-03-01T00:00:00Z'), { source: osquery, assigned_email: 'ana@example.com', ip_addresses: ['10.1.1.1'] }),
      device('serial:SHARED', at('2026-03-10T09:00:00Z'), { source: osquery, assigned_email: 'ben@example.com', ip_addresses: ['10.1.1.1'] }),
    ];
    const s = storeWith(ana, ben, ...handed);
    expect(enrich(ipOnly('h1', at('2026-03-10T08:59:00Z'), '10.1.1.1'), s, NOW).person?.person_id).toBe('00uAna');
    expect(enrich(ipOnly('h2', at('2026-03-10T09:01:00Z'), '10.1.1.1'), s, NOW).person?.person_id).toBe('00uBen');
  });

  it('a device nobody used at the time resolves the device but names nobody, with a reason', () => {
    const lab = device('serial:LAB1', at('2026-03-01T00:00:00Z'), { source: osquery, ip_addresses: ['10.2.2.2'] });
    const e = enrich(ipOnly('n1', at('2026-03-02T00:00:00Z'), '10.2.2.2'), storeWith(lab), NOW);
    expect([e.device?.device_id, e.person, e.attribution.method]).toEqual(['serial:LAB1', null, 'unresolved']);
    expect(e.attribution.reasons).toContain('device_has_no_user_at_event_time: serial:LAB1');
  });

  it('an endpoint\'s own evidence (osquery, actor the device) names the device\'s user then', () => {
    const event = { ...ipOnly('o1', at('2026-03-02T09:00:00Z'), '10.9.9.9'), actor: { ...ipOnly('x', 0, '').actor, kind: 'device' } };
    const e = enrich({ ...event, src: { ...event.src, ip: null, device_id: 'serial:LAPA' } }, store(), NOW);
    expect([e.device?.device_id, e.person?.person_id, e.attribution.method, e.attribution.device_method]).toEqual(['serial:LAPA', '00uAna', 'device_user', 'device_id']);
  });

  it('a token used from the vendor\'s servers is never a managed device, even one that once held the address', () => {
    const grant = connectorGrant('google', 'client-1', 'ana', at('2026-02-01T00:00:00Z'), { granted_by_email: 'ana@example.com', scopes: ['https://mail.google.com/'] });
    const natLaptop = device('serial:NAT1', at('2026-03-02T00:00:00Z'), { source: osquery, assigned_email: 'ben@example.com', ip_addresses: ['203.0.113.50'] });
    const e = enrich(googleTokenEvent({ id: 't1', time: at('2026-03-02T10:00:00Z'), clientId: 'client-1', appName: 'Claude', email: 'ana@example.com', ip: '203.0.113.50' }), storeWith(ana, ben, grant, natLaptop), NOW);
    expect(e.device).toBeNull();
    expect(e.person?.person_id).toBe('00uAna');
    expect(e.attribution.reasons).toContain('device_not_applicable_token_use: 203.0.113.50');
  });

  it('an osquery lease holds until it is closed, however old; a fleet observation ages', () => {
    const leased = device('serial:OLD', at('2026-01-01T00:00:00Z'), { source: osquery, assigned_email: 'ana@example.com', ip_addresses: ['10.3.3.3'] });
    const fresh = enrich(ipOnly('l1', at('2026-03-01T00:00:00Z'), '10.3.3.3'), storeWith(ana, leased), NOW);
    expect(fresh.attribution.reasons.filter((r) => r.startsWith('device_ip_observation_stale'))).toEqual([]);
    const seen = device('serial:OLD', at('2026-01-01T00:00:00Z'), { assigned_email: 'ana@example.com', ip_addresses: ['10.3.3.3'] });
    const stale = enrich(ipOnly('l2', at('2026-03-01T00:00:00Z'), '10.3.3.3'), storeWith(ana, seen), NOW);
    expect(stale.attribution.reasons.some((r) => r.startsWith('device_ip_observation_stale'))).toBe(true);
    expect(stale.attribution.device_confidence).toBeLessThan(fresh.attribution.device_confidence);
  });

  it('an MDM version without addresses written after a check-in that saw one does not hide the address', () => {
    const intune = { platform: 'intune', feed: 'managed_devices', source_time: null, observed_at: 0 };
    const fleetSeen = device('serial:MULTI', at('2026-03-02T09:00:00Z'), { assigned_email: 'ana@example.com', ip_addresses: ['203.0.113.70'] });
    const intuneSync = device('serial:MULTI', at('2026-03-02T10:00:00Z'), { source: intune, assigned_email: 'ana@example.com', compliant: false, ip_addresses: [] });
    const e = enrich(ipOnly('m1', at('2026-03-02T11:00:00Z'), '203.0.113.70'), storeWith(ana, fleetSeen, intuneSync), NOW);
    expect([e.device?.device_id, e.person?.person_id, e.attribution.device_method]).toEqual(['serial:MULTI', '00uAna', 'ip_observation']);
    // The device as it stands at the event: Intune's later compliance verdict.
    expect(e.device?.compliant).toBe(false);
    expect(e.device?.version_valid_from).toBe(intuneSync.valid_from);
  });

  it('an IP-only event stays open to re-attribution until device data names its person', () => {
    const early = resolveEvent(ipOnly('r1', at('2026-03-02T09:00:00Z'), '10.0.0.5'), storeWith(ana));
    expect(early.method).toBe('unresolved');
    expect(couldImprove(early)).toBe(true);
    const later = resolveEvent(ipOnly('r1', at('2026-03-02T09:00:00Z'), '10.0.0.5'), store());
    expect(later.method).toBe('device_user');
    expect(couldImprove(later)).toBe(true);
    // A person named by email but no device yet: the device's data may still arrive.
    const named = { ...ipOnly('r3', at('2026-03-02T09:00:00Z'), '10.0.0.5'), actor: { ...ipOnly('r3', 0, '').actor, kind: 'human', email: 'ana@example.com' } };
    const noDeviceYet = resolveEvent(named, storeWith(ana));
    expect([noDeviceYet.method, noDeviceYet.device, couldImprove(noDeviceYet)]).toEqual(['direct_email', null, true]);
    expect(resolveEvent(named, store()).device?.device_id).toBe('serial:LAPA');
    // Nothing to go on at all: nothing later can improve it.
    const bare = resolveEvent({ ...ipOnly('r2', 0, ''), src: { ...ipOnly('r2', 0, '').src, ip: null } }, store());
    expect(couldImprove(bare)).toBe(false);
  });
});
