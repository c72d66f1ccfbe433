import { describe, expect, it } from 'vitest';
import { enrich } from '../../src/resolve/enrich.ts';
import { cursorAuditEvent, openaiKeyEvent } from '../fixtures/events.ts';
import { at, device, directoryPerson, nonHuman, platformAccount } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-01-01T00:00:00Z');
const dana = directoryPerson('00uDana', at('2025-01-06T00:00:00Z'), { email: 'dana@example.com' });
const lee = directoryPerson('00uLee', at('2025-01-06T00:00:00Z'), { email: 'lee@example.com' });
const jo = directoryPerson('00uJo', at('2025-01-06T00:00:00Z'), { email: 'jo@example.com' });

// One laptop: Dana's until July, then Lee's, then Jo's from November.
const laptop = [
  device('dev-C02XK1', at('2025-01-10T00:00:00Z'), { serial: 'C02XK1', hostname: 'dana-mbp', assigned_person_id: '00uDana', ip_addresses: ['10.0.4.17'] }),
  device('dev-C02XK1', at('2025-07-05T00:00:00Z'), { serial: 'C02XK1', hostname: 'lee-mbp', assigned_person_id: '00uLee', ip_addresses: ['10.0.9.3'] }),
  device('dev-C02XK1', at('2025-11-01T00:00:00Z'), { serial: 'C02XK1', hostname: 'jo-mbp', assigned_person_id: '00uJo', ip_addresses: ['10.0.2.2'] }),
];
const store = () => storeWith(laptop[2]!, laptop[0]!, laptop[1]!, dana, lee, jo);

describe('enrich: devices as of the event time', () => {
  it('reports the assignee of the event\'s time, not a later one', () => {
    const inJuly = enrich(cursorAuditEvent({ id: 'd-1', time: at('2025-08-01T00:00:00Z'), email: 'lee@example.com', serial: 'c02xk1' }), store(), NOW);
    const inMarch = enrich(cursorAuditEvent({ id: 'd-2', time: at('2025-03-01T00:00:00Z'), email: 'dana@example.com', serial: 'C02XK1' }), store(), NOW);
    expect(inJuly.device).toMatchObject({ device_id: 'dev-C02XK1', hostname: 'lee-mbp', assigned_person_id: '00uLee', version_valid_from: laptop[1]!.valid_from });
    expect(inJuly.attribution).toMatchObject({ device_method: 'serial', device_confidence: 0.95, reasons: [] });
    expect(inMarch.device).toMatchObject({ hostname: 'dana-mbp', assigned_person_id: '00uDana' });
  });

  it('names the assignee who held the email when the assignment was recorded, not a leaver who kept it', () => {
    const alexA = directoryPerson('00uAlexA', at('2025-01-06T00:00:00Z'), { email: 'alex@example.com' });
    const alexALeft = directoryPerson('00uAlexA', at('2025-03-01T00:00:00Z'), { email: 'alex@example.com', active: false, lifecycle_state: 'inactive' });
    const alexB = directoryPerson('00uAlexB', at('2025-04-01T00:00:00Z'), { email: 'alex@example.com' });
    const oldLaptop = device('dev-old', at('2025-01-10T00:00:00Z'), { serial: 'OLD1', assigned_email: 'alex@example.com' });
    const newLaptop = device('dev-new', at('2025-04-02T00:00:00Z'), { serial: 'NEW1', assigned_email: 'Alex@Example.com' });
    const s = storeWith(alexA, alexALeft, alexB, oldLaptop, newLaptop);
    const when = at('2025-05-01T00:00:00Z');
    const onNew = enrich(cursorAuditEvent({ id: 'd-r1', time: when, email: 'alex@example.com', serial: 'NEW1' }), s, NOW);
    expect(onNew.device).toMatchObject({ device_id: 'dev-new', assigned_person_id: '00uAlexB' });
    // A laptop assigned while the first Alex held the address is still theirs in the record.
    const onOld = enrich(cursorAuditEvent({ id: 'd-r2', time: when, email: 'alex@example.com', serial: 'OLD1' }), s, NOW);
    expect(onOld.device).toMatchObject({ device_id: 'dev-old', assigned_person_id: '00uAlexA' });
  });

  it('resolves by hostname, short or fully qualified', () => {
    const e = enrich(cursorAuditEvent({ id: 'd-3', time: at('2025-08-01T00:00:00Z'), email: 'lee@example.com', hostname: 'LEE-MBP.corp.example.com' }), store(), NOW);
    expect(e.device?.device_id).toBe('dev-C02XK1');
    expect(e.attribution.device_method).toBe('hostname');
  });

  it('finds the device that held the source IP then, and says when it belongs to someone else', () => {
    const project = nonHuman('openai', 'project', 'proj_1', 1000);
    const key = nonHuman('openai', 'api_key', 'key_1', at('2025-02-01T00:00:00Z'), { parent_nhi_id: project.nhi_id, owner_platform_user_id: 'openai:user-D' });
    const account = platformAccount('openai', 'user-D', at('2025-01-07T00:00:00Z'), { email: 'dana@example.com' });
    const danaLeft = directoryPerson('00uDana', at('2025-06-30T00:00:00Z'), { email: 'dana@example.com', active: false, lifecycle_state: 'inactive' });
    const s = storeWith(...laptop, dana, danaLeft, lee, jo, project, key, account);
    const e = enrich(openaiKeyEvent({ id: 'd-4', time: at('2025-09-01T00:00:00Z'), type: 'x', keyId: 'key_1', ip: '10.0.9.3' }), s, NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(e.device).toMatchObject({ device_id: 'dev-C02XK1', assigned_person_id: '00uLee' });
    expect(e.attribution.device_method).toBe('ip_observation');
    expect(e.attribution.reasons).toContain('device_assigned_to_another_person: dev-C02XK1');
    // Before the reassignment that IP named no device.
    const earlier = enrich(openaiKeyEvent({ id: 'd-5', time: at('2025-03-01T00:00:00Z'), type: 'x', keyId: 'key_1', ip: '10.0.9.3' }), s, NOW);
    expect(earlier.device).toBeNull();
    expect(earlier.attribution.reasons).toContain('ip_not_observed: 10.0.9.3');
  });

  it('prefers the person\'s own device among several on one IP, and will not guess without a person', () => {
    // Both seen behind the office NAT the day before (an observation weeks old would be discounted).
    const natA = device('dev-A', at('2025-01-31T00:00:00Z'), { assigned_person_id: '00uDana', ip_addresses: ['203.0.113.9'] });
    const natB = device('dev-B', at('2025-01-31T00:00:00Z'), { assigned_email: 'LEE@example.com', ip_addresses: ['203.0.113.9'] });
    const s = storeWith(natA, natB, dana, lee);
    const leeEvent = enrich(cursorAuditEvent({ id: 'd-6', time: at('2025-02-01T00:00:00Z'), email: 'lee@example.com', ip: '203.0.113.9' }), s, NOW);
    expect(leeEvent.device).toMatchObject({ device_id: 'dev-B', assigned_person_id: '00uLee' });
    expect(leeEvent.attribution.device_confidence).toBe(0.8);
    const nobody = enrich(cursorAuditEvent({ id: 'd-7', time: at('2025-02-01T00:00:00Z'), email: 'stranger@example.com', ip: '203.0.113.9' }), s, NOW);
    expect(nobody.device).toBeNull();
    expect(nobody.attribution.reasons).toContain('device_ip_ambiguous: 203.0.113.9 held by 2 devices');
  });

  it('flags a device retired before the event', () => {
    const retired = device('dev-C02XK1', at('2025-12-01T00:00:00Z'), { serial: 'C02XK1', active: false, managed: false });
    const e = enrich(cursorAuditEvent({ id: 'd-8', time: at('2025-12-02T00:00:00Z'), email: 'jo@example.com', serial: 'C02XK1' }), storeWith(...laptop, retired, jo), NOW);
    expect(e.device).toMatchObject({ managed: false });
    expect(e.attribution.reasons).toContain('device_retired_at_event_time: dev-C02XK1');
  });
});
