// Real-world identity messiness, end to end through the pure join: renames,
// reused addresses, re-linked platform accounts, reassigned devices, stale IP
// observations, versions out of order, owner changes along a key's chain and
// hostile records. Each case asserts who the event is attributed to, in which
// lifecycle state, on which device, through which chain, and how sure and why.
import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { enrich, resolveEvent } from '../../src/resolve/enrich.ts';
import { IdentityStore } from '../../src/store/identity-store.ts';
import { cursorAuditEvent, googleTokenEvent, openaiKeyEvent, openaiSessionEvent } from '../fixtures/events.ts';
import { at, connectorGrant, device, directoryPerson, keyOf, nonHuman, platformAccount } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-01-01T00:00:00Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const login = (id: string, time: number, email: string, extra: { ip?: string; hostname?: string; serial?: string } = {}) =>
  cursorAuditEvent({ id, time, email, ...extra });

/** A directory version whose email, UPN and display name are given together (a rename changes all three). */
function named(personId: string, validFrom: number, email: string, fields: Parameters<typeof directoryPerson>[2] = {}) {
  return directoryPerson(personId, validFrom, {
    email,
    aliases: [{ kind: 'email', value: email }, { kind: 'upn', value: email }, { kind: 'scim_external_id', value: `ext-${personId}` }],
    ...fields,
  });
}

describe('rename: an email, UPN and display name change at T', () => {
  const T = at('2025-05-01T00:00:00Z');
  const before = named('00uRiley', at('2025-01-06T09:00:00Z'), 'riley.smith@example.com', { display_name: 'Riley Smith', department: 'Sales' });
  const after = named('00uRiley', T, 'riley.jones@example.com', { display_name: 'Riley Jones', department: 'Sales' });

  it('resolves the old address before T and the new one after T to the same person, each with that time\'s record', () => {
    const store = storeWith(after, before);
    const old = enrich(login('rn-1', at('2025-03-01T00:00:00Z'), 'riley.smith@example.com'), store, NOW);
    const renamed = enrich(login('rn-2', at('2025-06-01T00:00:00Z'), 'Riley.Jones@example.com'), store, NOW);
    expect(old.person).toMatchObject({ person_id: '00uRiley', email: 'riley.smith@example.com', display_name: 'Riley Smith', lifecycle_state: 'active', version_valid_from: before.valid_from });
    expect(old.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
    expect(renamed.person).toMatchObject({ person_id: '00uRiley', email: 'riley.jones@example.com', display_name: 'Riley Jones', version_valid_from: T });
    expect(renamed.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
  });

  it('still names the person for the old address after T when nobody else holds it, with less confidence and why', () => {
    const e = enrich(login('rn-3', at('2025-06-01T00:00:00Z'), 'riley.smith@example.com'), storeWith(before, after), NOW);
    expect(e.person).toMatchObject({ person_id: '00uRiley', email: 'riley.jones@example.com', lifecycle_state: 'active' });
    expect(e.attribution.method).toBe('direct_email');
    expect(e.attribution.confidence).toBe(0.6);
    expect(e.attribution.reasons).toEqual([`email_formerly_held: riley.smith@example.com last held by 00uRiley until ${iso(T)}`, 'device_no_hint']);
  });

  it('gives the old address to whoever holds it next, and only from then on', () => {
    const sam = named('00uSam', at('2025-08-01T00:00:00Z'), 'riley.smith@example.com');
    const store = storeWith(before, after, sam);
    const inBetween = enrich(login('rn-4', at('2025-07-01T00:00:00Z'), 'riley.smith@example.com'), store, NOW);
    const afterReuse = enrich(login('rn-5', at('2025-09-01T00:00:00Z'), 'riley.smith@example.com'), store, NOW);
    expect(inBetween.person?.person_id).toBe('00uRiley');
    expect(inBetween.attribution.confidence).toBe(0.6);
    expect(afterReuse.person?.person_id).toBe('00uSam');
    expect(afterReuse.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
  });

  it('resolves an address the directory holds as a UPN only (a sign-in name that differs from the mailbox)', () => {
    const kim = directoryPerson('00uKim', at('2025-01-06T00:00:00Z'), {
      email: 'kim@example.com', aliases: [{ kind: 'email', value: 'kim@example.com' }, { kind: 'upn', value: 'kim.old@corp.example.com' }],
    });
    const kimRenamed = directoryPerson('00uKim', T, {
      email: 'kim@example.com', aliases: [{ kind: 'email', value: 'kim@example.com' }, { kind: 'upn', value: 'kim.new@corp.example.com' }],
    });
    const store = storeWith(kim, kimRenamed);
    const e = enrich(login('rn-6', at('2025-06-01T00:00:00Z'), 'KIM.NEW@corp.example.com'), store, NOW);
    expect(e.person?.person_id).toBe('00uKim');
    expect(e.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
    const oldUpn = enrich(login('rn-7', at('2025-06-01T00:00:00Z'), 'kim.old@corp.example.com'), store, NOW);
    expect(oldUpn.person?.person_id).toBe('00uKim');
    expect(oldUpn.attribution.confidence).toBe(0.6);
    expect(oldUpn.attribution.reasons[0]).toMatch(/^email_formerly_held: kim\.old@corp\.example\.com last held by 00uKim/);
  });

  it('links a platform account that kept the old address after the rename to the renamed person', () => {
    // The account was created after the rename but the platform still had the old address on file.
    const account = platformAccount('openai', 'user-R1ley', at('2025-07-01T00:00:00Z'), { email: 'riley.smith@example.com' });
    const e = enrich(openaiSessionEvent({ id: 'rn-8', time: at('2025-07-02T00:00:00Z'), type: 'login.succeeded', userId: 'user-R1ley', email: 'riley.smith@example.com' }), storeWith(before, after, account), NOW);
    expect(e.person).toMatchObject({ person_id: '00uRiley', email: 'riley.jones@example.com' });
    expect(e.attribution.method).toBe('platform_user_alias');
    expect(e.attribution.confidence).toBe(0.6);
    expect(e.attribution.reasons).toContain(`email_formerly_held: riley.smith@example.com last held by 00uRiley until ${iso(T)}`);
  });
});

describe('reused email: alex@ held by A until A leaves at T1, given to B from T2', () => {
  const T1 = at('2025-04-30T17:00:00Z');
  const T2 = at('2025-06-02T09:00:00Z');
  const a = {
    joined: directoryPerson('00uAlexA', at('2025-01-06T09:00:00Z'), { email: 'alex@example.com', display_name: 'Alex Adams' }),
    // Okta keeps a deprovisioned user's profile, email included.
    left: directoryPerson('00uAlexA', T1, { email: 'alex@example.com', display_name: 'Alex Adams', active: false, lifecycle_state: 'inactive' }),
  };
  const b = directoryPerson('00uAlexB', T2, { email: ' Alex@Example.com ', display_name: 'Alex Baker' });
  const store = () => storeWith(b, a.left, a.joined);

  it('attributes to A (active) before T1, A (inactive) between, B (active) after T2', () => {
    const s = store();
    const early = enrich(login('ru-1', at('2025-03-01T00:00:00Z'), 'alex@example.com'), s, NOW);
    const gap = enrich(login('ru-2', at('2025-05-15T00:00:00Z'), 'alex@example.com'), s, NOW);
    const late = enrich(login('ru-3', at('2025-07-01T00:00:00Z'), 'alex@example.com'), s, NOW);
    expect(early.person).toMatchObject({ person_id: '00uAlexA', lifecycle_state: 'active', version_valid_from: a.joined.valid_from });
    expect(early.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
    // A leaver's address in use is the signal a SOC hunts for: name the leaver, in the leaver state.
    expect(gap.person).toMatchObject({ person_id: '00uAlexA', lifecycle_state: 'inactive', version_valid_from: T1 });
    expect(gap.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
    // The leaver's record still carries the address, but an active holder is who it names now.
    expect(late.person).toMatchObject({ person_id: '00uAlexB', lifecycle_state: 'active', display_name: 'Alex Baker' });
    expect(late.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
  });

  it('matches case-insensitively, ignores surrounding whitespace, and reads a plus address as its mailbox', () => {
    const s = store();
    const time = at('2025-07-01T00:00:00Z');
    expect(enrich(login('ru-4', time, '  ALEX@example.COM\t'), s, NOW).person?.person_id).toBe('00uAlexB');
    // "alex+ai@" is delivered to alex@'s mailbox: whoever held alex@ at the event's time, reuse rules and all.
    const plus = enrich(login('ru-5', time, 'Alex+AI@example.com'), s, NOW);
    expect(plus.person?.person_id).toBe('00uAlexB');
    expect(plus.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
    expect(plus.event.actor.email).toBe('Alex+AI@example.com');
    expect(enrich(login('ru-5b', at('2025-03-01T00:00:00Z'), 'alex+cursor@example.com'), s, NOW).person?.person_id).toBe('00uAlexA');
    // Another local part is another mailbox, tag or not.
    const other = resolveEvent(login('ru-5c', time, 'alexa+ai@example.com'), s);
    expect(other.person).toBeUndefined();
    expect(other.reasons).toEqual(['email_unknown: alexa+ai@example.com', 'device_no_hint']);
    // An address no record names may still arrive: the event may wait for it (under its match key).
    expect(other.unknownRefs).toEqual(['email:alexa@example.com']);
  });

  it('when the leaver record drops the address, still names A in the gap, with less confidence and why', () => {
    const leftWithoutEmail = directoryPerson('00uAlexA', T1, { email: null, aliases: [], active: false, lifecycle_state: 'inactive' });
    const s = storeWith(a.joined, leftWithoutEmail, b);
    const gap = enrich(login('ru-6', at('2025-05-15T00:00:00Z'), 'alex@example.com'), s, NOW);
    expect(gap.person).toMatchObject({ person_id: '00uAlexA', lifecycle_state: 'inactive' });
    expect(gap.attribution.confidence).toBe(0.6);
    expect(gap.attribution.reasons).toContain(`email_formerly_held: alex@example.com last held by 00uAlexA until ${iso(T1)}`);
    expect(enrich(login('ru-7', at('2025-07-01T00:00:00Z'), 'alex@example.com'), s, NOW).person?.person_id).toBe('00uAlexB');
  });

  it('after both holders left, names the one who held it last, without calling it ambiguous', () => {
    const bLeft = directoryPerson('00uAlexB', at('2025-10-01T00:00:00Z'), { email: 'alex@example.com', active: false, lifecycle_state: 'inactive' });
    const e = enrich(login('ru-8', at('2025-11-01T00:00:00Z'), 'alex@example.com'), storeWith(a.joined, a.left, b, bLeft), NOW);
    expect(e.person).toMatchObject({ person_id: '00uAlexB', lifecycle_state: 'inactive' });
    expect(e.attribution).toMatchObject({ confidence: 0.9, reasons: ['device_no_hint'] });
  });

  it('keeps A\'s platform account and A\'s key with A after the address went to B', () => {
    const account = platformAccount('openai', 'user-AlexA', at('2025-02-01T00:00:00Z'), { email: 'alex@example.com' });
    const project = nonHuman('openai', 'project', 'proj_Alex', at('2025-01-01T00:00:00Z'));
    const key = nonHuman('openai', 'api_key', 'key_AlexA', at('2025-02-02T00:00:00Z'), { parent_nhi_id: project.nhi_id, owner_email: 'alex@example.com' });
    const s = storeWith(a.joined, a.left, b, account, project, key);
    const time = at('2025-08-01T00:00:00Z');
    const session = enrich(openaiSessionEvent({ id: 'ru-9', time, type: 'login.succeeded', userId: 'user-AlexA', email: 'alex@example.com' }), s, NOW);
    expect(session.person).toMatchObject({ person_id: '00uAlexA', lifecycle_state: 'inactive' });
    const keyUse = enrich(openaiKeyEvent({ id: 'ru-10', time, type: 'x', keyId: 'key_AlexA' }), s, NOW);
    expect(keyUse.person).toMatchObject({ person_id: '00uAlexA', lifecycle_state: 'inactive' });
    expect(keyUse.nhi_chain.at(-1)).toEqual({ kind: 'person', id: '00uAlexA', name: 'Alex Adams', status: 'inactive' });
  });

  it('gives a key made in the gap, when only the leaver\'s record carried the address, to its next active holder', () => {
    // A leaver cannot create a key; the directory dates the new holder's record later than their first day.
    const project = nonHuman('openai', 'project', 'proj_Gap', at('2025-01-01T00:00:00Z'));
    const key = nonHuman('openai', 'api_key', 'key_Gap', at('2025-05-20T00:00:00Z'), { parent_nhi_id: project.nhi_id, owner_email: 'alex@example.com' });
    const s = storeWith(a.joined, a.left, b, project, key);
    const keyUse = enrich(openaiKeyEvent({ id: 'ru-11', time: at('2025-07-01T00:00:00Z'), type: 'x', keyId: 'key_Gap' }), s, NOW);
    expect(keyUse.person).toMatchObject({ person_id: '00uAlexB', lifecycle_state: 'active' });
    expect(keyUse.attribution.method).toBe('api_key_owner');
    // A login in the gap itself still names the leaver: the address was A's at that moment.
    expect(enrich(login('ru-12', at('2025-05-20T00:00:00Z'), 'alex@example.com'), s, NOW).person).toMatchObject({ person_id: '00uAlexA', lifecycle_state: 'inactive' });
  });
});

describe('platform user id re-linked to another person', () => {
  const x = directoryPerson('00uX', at('2025-01-06T00:00:00Z'), { email: 'x@example.com' });
  const y = directoryPerson('00uY', at('2025-01-06T00:00:00Z'), { email: 'y@example.com' });
  const T0 = at('2025-02-01T00:00:00Z');
  const T1 = at('2025-06-01T00:00:00Z');
  const linked = platformAccount('openai', 'user-1', T0, { email: 'x@example.com' });
  const relinked = platformAccount('openai', 'user-1', T1, { email: 'y@example.com' });
  const session = (id: string, time: number, email: string) => openaiSessionEvent({ id, time, type: 'login.succeeded', userId: 'user-1', email });

  it('resolves the account to whoever its email named at the event time, whatever order the versions came in', () => {
    for (const s of [storeWith(x, y, linked, relinked), storeWith(relinked, y, linked, x)]) {
      const early = enrich(session('pl-1', at('2025-03-01T00:00:00Z'), 'x@example.com'), s, NOW);
      const late = enrich(session('pl-2', at('2025-07-01T00:00:00Z'), 'y@example.com'), s, NOW);
      expect(early.person?.person_id).toBe('00uX');
      expect(early.attribution).toMatchObject({ method: 'platform_user_alias', confidence: 0.9, reasons: ['device_no_hint'] });
      expect(late.person?.person_id).toBe('00uY');
      expect(late.attribution).toMatchObject({ method: 'platform_user_alias', confidence: 0.9, reasons: ['device_no_hint'] });
    }
  });

  it('follows the account, and says so, when the event still carries the previous person\'s email', () => {
    const e = enrich(session('pl-3', at('2025-07-01T00:00:00Z'), 'x@example.com'), storeWith(x, y, linked, relinked), NOW);
    expect(e.person?.person_id).toBe('00uY');
    expect(e.attribution.method).toBe('platform_user_alias');
    expect(e.attribution.reasons).toContain('actor_email_names_another_person: x@example.com held by 00uX');
  });

  it('follows a directory alias that moves the platform user id from one person to another', () => {
    const alias = { kind: 'platform_user_id', value: 'openai:user-2' };
    const xWith = directoryPerson('00uX', at('2025-01-06T00:00:00Z'), { email: 'x@example.com', aliases: [{ kind: 'email', value: 'x@example.com' }, alias] });
    const xWithout = directoryPerson('00uX', T1, { email: 'x@example.com', aliases: [{ kind: 'email', value: 'x@example.com' }] });
    const yWith = directoryPerson('00uY', T1, { email: 'y@example.com', aliases: [{ kind: 'email', value: 'y@example.com' }, alias] });
    const s = storeWith(xWithout, yWith, xWith, y);
    const ev = (id: string, time: number) => openaiSessionEvent({ id, time, type: 'login.succeeded', userId: 'user-2', email: 'shared-inbox@example.com' });
    expect(enrich(ev('pl-4', at('2025-03-01T00:00:00Z')), s, NOW)).toMatchObject({ person: { person_id: '00uX' }, attribution: { method: 'platform_user_alias', confidence: 0.95 } });
    expect(enrich(ev('pl-5', at('2025-07-01T00:00:00Z')), s, NOW)).toMatchObject({ person: { person_id: '00uY' }, attribution: { method: 'platform_user_alias', confidence: 0.95 } });
  });

  it('does not resolve the account before its first version, and names the event\'s own email instead', () => {
    const e = enrich(session('pl-6', at('2025-01-20T00:00:00Z'), 'x@example.com'), storeWith(x, y, linked, relinked), NOW);
    expect(e.person?.person_id).toBe('00uX');
    expect(e.attribution.method).toBe('direct_email');
  });
});

describe('reassigned device: serial S with A until T, then with B', () => {
  const T = at('2025-07-05T00:00:00Z');
  const a = directoryPerson('00uA', at('2025-01-06T00:00:00Z'), { email: 'a@example.com' });
  const b = directoryPerson('00uB', at('2025-01-06T00:00:00Z'), { email: 'b@example.com' });
  const laptop = [
    device('dev-S', at('2025-01-10T00:00:00Z'), { serial: 'C02ZZ9', hostname: 'a-mbp', assigned_person_id: '00uA' }),
    device('dev-S', T, { serial: 'C02ZZ9', hostname: 'b-mbp', assigned_person_id: '00uB' }),
  ];
  const before = at('2025-03-01T00:00:00Z');
  const after = at('2025-08-01T00:00:00Z');

  it('reports the assignee as of the event, and flags use by the other person, whatever the arrival order', () => {
    const s = storeWith(laptop[1]!, a, laptop[0]!, b);
    const aBefore = enrich(login('dv-1', before, 'a@example.com', { serial: 'c02zz9' }), s, NOW);
    const bBefore = enrich(login('dv-2', before, 'b@example.com', { serial: 'C02ZZ9' }), s, NOW);
    const bAfter = enrich(login('dv-3', after, 'b@example.com', { serial: 'C02ZZ9' }), s, NOW);
    const aAfter = enrich(login('dv-4', after, 'a@example.com', { serial: 'C02ZZ9' }), s, NOW);
    expect(aBefore.device).toMatchObject({ device_id: 'dev-S', hostname: 'a-mbp', assigned_person_id: '00uA', version_valid_from: laptop[0]!.valid_from });
    expect(aBefore.attribution).toMatchObject({ device_method: 'serial', device_confidence: 0.95, reasons: [] });
    expect(bBefore.device).toMatchObject({ assigned_person_id: '00uA' });
    expect(bBefore.attribution.reasons).toEqual(['device_assigned_to_another_person: dev-S']);
    expect(bAfter.device).toMatchObject({ hostname: 'b-mbp', assigned_person_id: '00uB', version_valid_from: T });
    expect(bAfter.attribution.reasons).toEqual([]);
    expect(aAfter.device).toMatchObject({ assigned_person_id: '00uB' });
    expect(aAfter.attribution.reasons).toEqual(['device_assigned_to_another_person: dev-S']);
  });

  it('matches a hostname only while the device carried it', () => {
    const s = storeWith(...laptop, a, b);
    expect(enrich(login('dv-5', before, 'a@example.com', { hostname: 'A-MBP.corp.example.com' }), s, NOW).device?.device_id).toBe('dev-S');
    const stale = enrich(login('dv-6', after, 'a@example.com', { hostname: 'a-mbp' }), s, NOW);
    expect(stale.device).toBeNull();
    expect(stale.attribution.reasons).toContain('device_hostname_unknown: a-mbp');
  });

  it('picks the person\'s record among several carrying one serial, and calls the rest ambiguous, not unknown', () => {
    // Re-enrolled under a new MDM id: both records still carry the serial.
    const reEnrolled = device('dev-S2', at('2025-08-01T00:00:00Z'), { serial: 'C02ZZ9', hostname: 'b-mbp', assigned_person_id: '00uB' });
    const s = storeWith(...laptop, reEnrolled, a, b);
    const own = enrich(login('dv-9', at('2025-08-02T00:00:00Z'), 'b@example.com', { serial: 'C02ZZ9' }), s, NOW);
    expect(own.device).toMatchObject({ device_id: 'dev-S2', assigned_person_id: '00uB' });
    expect(own.attribution.device_confidence).toBe(0.57);
    const stranger = enrich(login('dv-10', at('2025-08-02T00:00:00Z'), 'nobody@example.com', { serial: 'C02ZZ9' }), s, NOW);
    expect(stranger.device).toBeNull();
    expect(stranger.attribution.reasons).toContain('device_serial_ambiguous: C02ZZ9 on 2 device records');
  });

  it('keeps an assignment recorded by email with the person through their rename', () => {
    const riley = named('00uRiley', at('2025-01-06T00:00:00Z'), 'riley.smith@example.com');
    const rileyRenamed = named('00uRiley', at('2025-05-01T00:00:00Z'), 'riley.jones@example.com');
    // Fleet reported the IdP login before the rename; the device has not checked in since.
    const mac = device('dev-R', at('2025-04-01T00:00:00Z'), { serial: 'R1', assigned_email: 'riley.smith@example.com' });
    const e = enrich(login('dv-7', at('2025-06-01T00:00:00Z'), 'riley.jones@example.com', { serial: 'R1' }), storeWith(riley, rileyRenamed, mac), NOW);
    expect(e.person?.person_id).toBe('00uRiley');
    expect(e.device).toMatchObject({ device_id: 'dev-R', assigned_person_id: '00uRiley' });
    expect(e.attribution.reasons).toEqual([]);
  });

  it('flags a laptop assigned to a reused address\'s previous holder when the new holder uses it', () => {
    const alexA = directoryPerson('00uAlexA', at('2025-01-06T00:00:00Z'), { email: 'alex@example.com' });
    const alexALeft = directoryPerson('00uAlexA', at('2025-03-01T00:00:00Z'), { email: 'alex@example.com', active: false, lifecycle_state: 'inactive' });
    const alexB = directoryPerson('00uAlexB', at('2025-04-01T00:00:00Z'), { email: 'alex@example.com' });
    const oldLaptop = device('dev-old', at('2025-01-10T00:00:00Z'), { serial: 'OLD1', assigned_email: 'alex@example.com' });
    const e = enrich(login('dv-8', at('2025-05-01T00:00:00Z'), 'alex@example.com', { serial: 'OLD1' }), storeWith(alexA, alexALeft, alexB, oldLaptop), NOW);
    expect(e.person?.person_id).toBe('00uAlexB');
    expect(e.device).toMatchObject({ device_id: 'dev-old', assigned_person_id: '00uAlexA' });
    expect(e.attribution.reasons).toContain('device_assigned_to_another_person: dev-old');
  });
});

describe('IP observations: as of the event, and ageing', () => {
  const T0 = at('2025-03-03T08:00:00Z');
  const mine = directoryPerson('00uIp', at('2025-01-06T00:00:00Z'), { email: 'ip@example.com' });
  const d1 = device('dev-D', T0, { serial: 'D1', assigned_person_id: '00uIp', ip_addresses: ['10.1.1.1'] });
  const d2 = device('dev-D', T0 + 3 * DAY, { serial: 'D1', assigned_person_id: '00uIp', ip_addresses: ['10.2.2.2'] });
  const nobody = (id: string, time: number, ip: string) => openaiKeyEvent({ id, time, type: 'x', keyId: 'key_unseen', ip });

  it('matches an IP only while the device held it', () => {
    const s = storeWith(d2, d1, mine);
    const held = enrich(login('ip-1', T0 + DAY, 'ip@example.com', { ip: '10.1.1.1' }), s, NOW);
    expect(held.device).toMatchObject({ device_id: 'dev-D', version_valid_from: T0 });
    expect(held.attribution).toMatchObject({ device_method: 'ip_observation', device_confidence: 0.8, reasons: [] });
    const released = enrich(login('ip-2', T0 + 4 * DAY, 'ip@example.com', { ip: '10.1.1.1' }), s, NOW);
    expect(released.device).toBeNull();
    expect(released.attribution.reasons).toEqual(['ip_not_observed: 10.1.1.1']);
    expect(enrich(login('ip-3', T0 + 4 * DAY, 'ip@example.com', { ip: '10.2.2.2' }), s, NOW).device?.version_valid_from).toBe(T0 + 3 * DAY);
  });

  it('discounts an observation older than a week, and says how old', () => {
    const e = enrich(login('ip-4', T0 + 33 * DAY, 'ip@example.com', { ip: '10.2.2.2' }), storeWith(d1, d2, mine), NOW);
    expect(e.device?.device_id).toBe('dev-D');
    expect(e.attribution.device_confidence).toBe(0.4);
    expect(e.attribution.reasons).toEqual(['device_ip_observation_stale: 10.2.2.2 on dev-D observed 30 days before the event']);
  });

  it('prefers a fresh observation of the IP over a stale one on another device', () => {
    const other = device('dev-E', T0 + 32 * DAY, { serial: 'E1', ip_addresses: ['10.2.2.2'] });
    const s = storeWith(d1, d2, other, mine);
    const e = enrich(nobody('ip-5', T0 + 33 * DAY, '10.2.2.2'), s, NOW);
    expect(e.device?.device_id).toBe('dev-E');
    expect(e.attribution).toMatchObject({ device_method: 'ip_observation', device_confidence: 0.6 });
    // Two fresh holders without a person to choose by stay ambiguous.
    const third = device('dev-F', T0 + 32 * DAY, { serial: 'F1', ip_addresses: ['10.2.2.2'] });
    const both = enrich(nobody('ip-6', T0 + 33 * DAY, '10.2.2.2'), storeWith(d1, d2, other, third, mine), NOW);
    expect(both.device).toBeNull();
    expect(both.attribution.reasons).toContain('device_ip_ambiguous: 10.2.2.2 held by 2 devices');
  });

  it('still picks the person\'s own device on a shared IP even when its observation is older', () => {
    const other = device('dev-E', T0 + 32 * DAY, { serial: 'E1', ip_addresses: ['10.2.2.2'] });
    const e = enrich(login('ip-7', T0 + 33 * DAY, 'ip@example.com', { ip: '10.2.2.2' }), storeWith(d1, d2, other, mine), NOW);
    expect(e.device?.device_id).toBe('dev-D');
    expect(e.attribution.device_confidence).toBe(0.4);
    expect(e.attribution.reasons[0]).toMatch(/^device_ip_observation_stale: 10\.2\.2\.2 on dev-D/);
  });
});

describe('out-of-order and repeated identity versions', () => {
  const joined = directoryPerson('00uOoo', at('2025-01-06T00:00:00Z'), { email: 'ooo@example.com', department: 'Sales' });
  const moved = directoryPerson('00uOoo', at('2025-03-01T00:00:00Z'), { email: 'ooo@example.com', department: 'Finance' });
  const left = directoryPerson('00uOoo', at('2025-06-30T00:00:00Z'), { email: 'ooo@example.com', department: 'Finance', active: false, lifecycle_state: 'inactive' });
  const at_ = (iso_: string) => login(`oo-${iso_}`, at(iso_), 'ooo@example.com');

  it('slots a late version with an earlier valid_from in by time instead of replacing the latest', () => {
    const store = new IdentityStore();
    expect(store.apply('identityUsers', keyOf(left), left)).toBe('added');
    expect(enrich(at_('2025-02-01T00:00:00Z'), store, NOW).person).toBeNull();
    expect(store.apply('identityUsers', keyOf(joined), joined)).toBe('added');
    expect(store.apply('identityUsers', keyOf(moved), moved)).toBe('added');
    expect(store.personHistory('00uOoo').map((v) => v.valid_from)).toEqual([joined.valid_from, moved.valid_from, left.valid_from]);
    expect(enrich(at_('2025-02-01T00:00:00Z'), store, NOW).person).toMatchObject({ department: 'Sales', lifecycle_state: 'active' });
    expect(enrich(at_('2025-04-01T00:00:00Z'), store, NOW).person).toMatchObject({ department: 'Finance', lifecycle_state: 'active' });
    expect(enrich(at_('2025-08-01T00:00:00Z'), store, NOW).person).toMatchObject({ department: 'Finance', lifecycle_state: 'inactive' });
  });

  it('treats a redelivered version as a no-op and a tombstone as removing just that version', () => {
    const store = storeWith(left, joined, moved);
    const generation = store.generation;
    const redelivered = structuredClone(moved);
    expect(store.apply('identityUsers', keyOf(redelivered), redelivered)).toBe('unchanged');
    expect(store.generation).toBe(generation);
    expect(store.counts()).toMatchObject({ people: 1, versions: 3 });

    expect(store.apply('identityUsers', keyOf(left), null)).toBe('removed');
    expect(store.counts()).toMatchObject({ people: 1, versions: 2 });
    expect(enrich(at_('2025-08-01T00:00:00Z'), store, NOW).person).toMatchObject({ department: 'Finance', lifecycle_state: 'active', version_valid_from: moved.valid_from });
    expect(store.apply('identityUsers', keyOf(left), null)).toBe('absent');
    // A tombstone for a version that never was removes nothing else.
    expect(store.apply('identityUsers', `00uOoo@${at('2025-02-01T00:00:00Z')}`, null)).toBe('absent');
    expect(store.counts().versions).toBe(2);
  });

  it('forgets an address once the tombstone removed the only version that carried it', () => {
    const renamed = named('00uOoo', at('2025-04-01T00:00:00Z'), 'ooo.new@example.com');
    const store = storeWith(joined, renamed);
    expect(enrich(login('oo-1', at('2025-05-01T00:00:00Z'), 'ooo.new@example.com'), store, NOW).person?.person_id).toBe('00uOoo');
    store.apply('identityUsers', keyOf(renamed), null);
    const e = resolveEvent(login('oo-2', at('2025-05-01T00:00:00Z'), 'ooo.new@example.com'), store);
    expect(e.person).toBeUndefined();
    expect(e.reasons).toContain('email_unknown: ooo.new@example.com');
    expect(enrich(login('oo-3', at('2025-05-01T00:00:00Z'), 'ooo@example.com'), store, NOW).attribution).toMatchObject({ confidence: 0.9 });
  });

  it('treats a corrected version at the same valid_from as a replacement', () => {
    const store = storeWith(joined, moved);
    const corrected = directoryPerson('00uOoo', moved.valid_from, { email: 'ooo@example.com', department: 'Legal' });
    expect(store.apply('identityUsers', keyOf(corrected), corrected)).toBe('replaced');
    expect(store.counts().versions).toBe(2);
    expect(enrich(at_('2025-04-01T00:00:00Z'), store, NOW).person?.department).toBe('Legal');
  });
});

describe('key and service-account owner chain across changes', () => {
  const dana = directoryPerson('00uDana', at('2025-01-06T00:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Ruiz' });
  const danaLeft = directoryPerson('00uDana', at('2025-06-30T17:00:00Z'), { email: 'dana@example.com', display_name: 'Dana Ruiz', active: false, lifecycle_state: 'inactive' });
  const lee = directoryPerson('00uLee', at('2025-01-06T00:00:00Z'), { email: 'lee@example.com', display_name: 'Lee Kim' });
  const project = nonHuman('openai', 'project', 'proj_Chain', at('2025-01-02T00:00:00Z'), { name: 'chain' });
  const keyFields = { name: 'etl-key', parent_nhi_id: project.nhi_id, created_at: at('2025-01-11T00:00:00Z') };
  const keyDana = nonHuman('openai', 'api_key', 'key_Chain', at('2025-01-12T00:00:00Z'), { ...keyFields, owner_email: 'dana@example.com' });
  const keyLee = nonHuman('openai', 'api_key', 'key_Chain', at('2025-08-01T00:00:00Z'), { ...keyFields, owner_email: 'lee@example.com' });
  const use = (id: string, iso_: string) => openaiKeyEvent({ id, time: at(iso_), type: 'project.updated', keyId: 'key_Chain' });
  const keyLink = { kind: 'api_key', id: 'openai:api_key:key_Chain', name: 'etl-key', status: 'active' };

  it('names the owner of each period, inactive (and orphaned) once the owner left, then the new owner', () => {
    const s = storeWith(keyLee, danaLeft, keyDana, lee, project, dana);
    const early = enrich(use('ch-1', '2025-03-01T00:00:00Z'), s, NOW);
    expect(early.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'active' });
    expect(early.nhi_chain).toEqual([keyLink, { kind: 'person', id: '00uDana', name: 'Dana Ruiz', status: 'active' }]);
    expect(early.attribution).toMatchObject({ method: 'api_key_owner', confidence: 0.81, reasons: ['device_no_hint'] });

    const orphaned = enrich(use('ch-2', '2025-07-15T00:00:00Z'), s, NOW);
    expect(orphaned.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(orphaned.nhi_chain).toEqual([keyLink, { kind: 'person', id: '00uDana', name: 'Dana Ruiz', status: 'inactive' }]);
    expect(orphaned.attribution).toMatchObject({ method: 'api_key_owner', confidence: 0.81 });
    expect(orphaned.attribution.reasons).toEqual(['nhi_owner_inactive: openai:api_key:key_Chain owner 00uDana is inactive', 'device_no_hint']);

    const reassigned = enrich(use('ch-3', '2025-09-01T00:00:00Z'), s, NOW);
    expect(reassigned.person).toMatchObject({ person_id: '00uLee', lifecycle_state: 'active' });
    expect(reassigned.nhi_chain).toEqual([keyLink, { kind: 'person', id: '00uLee', name: 'Lee Kim', status: 'active' }]);
    expect(reassigned.attribution.reasons).toEqual(['device_no_hint']);
  });

  it('flags a connector grant used after its grantor left as orphaned', () => {
    const client = '77-chatgpt.apps.googleusercontent.com';
    const grant = connectorGrant('google', client, 'dana@example.com', at('2025-02-01T00:00:00Z'), { app_name: 'ChatGPT', granted_by_email: 'dana@example.com' });
    const e = enrich(googleTokenEvent({ id: 'ch-0', time: at('2025-08-01T00:00:00Z'), clientId: client, appName: 'ChatGPT' }), storeWith(dana, danaLeft, grant), NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(e.attribution.method).toBe('connector_grant');
    expect(e.nhi_chain.at(-1)).toEqual({ kind: 'person', id: '00uDana', name: 'Dana Ruiz', status: 'inactive' });
    expect(e.attribution.reasons).toContain(`nhi_owner_inactive: ${grant.connector_id} owner 00uDana is inactive`);
  });

  it('keeps the key with the owner it named when the owner\'s address is reused', () => {
    const newDana = directoryPerson('00uDana2', at('2025-09-01T00:00:00Z'), { email: 'dana@example.com' });
    const e = enrich(use('ch-4', '2025-10-01T00:00:00Z'), storeWith(dana, danaLeft, newDana, project, keyDana), NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', lifecycle_state: 'inactive' });
    expect(e.attribution.reasons).toContain('nhi_owner_inactive: openai:api_key:key_Chain owner 00uDana is inactive');
  });

  it('walks a service account to its project\'s owner of the time as the project changes hands', () => {
    const sa = nonHuman('openai', 'service_account', 'svc_Chain', at('2025-01-02T00:00:00Z'), { name: 'etl', parent_nhi_id: 'openai:project:proj_Owned' });
    const saKey = nonHuman('openai', 'api_key', 'key_Svc', at('2025-01-02T00:00:00Z'), { parent_nhi_id: sa.nhi_id });
    const ownedByDana = nonHuman('openai', 'project', 'proj_Owned', at('2025-01-02T00:00:00Z'), { name: 'etl-prod', owner_email: 'dana@example.com' });
    const ownedByLee = nonHuman('openai', 'project', 'proj_Owned', at('2025-07-01T00:00:00Z'), { name: 'etl-prod', owner_email: 'lee@example.com' });
    const s = storeWith(sa, saKey, ownedByLee, ownedByDana, dana, danaLeft, lee);
    const ev = (id: string, iso_: string) => openaiKeyEvent({ id, time: at(iso_), type: 'x', keyId: 'key_Svc', serviceAccountId: 'svc_Chain' });
    const before = enrich(ev('ch-5', '2025-03-01T00:00:00Z'), s, NOW);
    const after = enrich(ev('ch-6', '2025-08-01T00:00:00Z'), s, NOW);
    expect(before.nhi_chain.map((l) => `${l.kind}:${l.id}:${l.status}`)).toEqual([
      'api_key:openai:api_key:key_Svc:active', 'service_account:openai:service_account:svc_Chain:active', 'project:openai:project:proj_Owned:active', 'person:00uDana:active',
    ]);
    expect(before.attribution).toMatchObject({ method: 'api_key_owner', confidence: 0.656 });
    expect(after.person?.person_id).toBe('00uLee');
    expect(after.nhi_chain.at(-1)).toMatchObject({ id: '00uLee', status: 'active' });
  });
});

describe('hostile identity records', () => {
  const refusal = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      return TetherError.is(err) ? err.code : 'other';
    }
    return 'accepted';
  };

  it('refuses empty ids and valid_from outside epoch-ms range, so they reach the dead-letter topic', () => {
    const store = new IdentityStore();
    const p = (id: string, validFrom: number) => directoryPerson(id, validFrom, { email: 'x@example.com' });
    expect(refusal(() => store.apply('identityUsers', null, p('', 1000)))).toBe('TETHER_IDENTITY_INVALID');
    expect(refusal(() => store.apply('identityUsers', null, p('   ', 1000)))).toBe('TETHER_IDENTITY_INVALID');
    expect(refusal(() => store.apply('identityUsers', null, p('00uNeg', -1)))).toBe('TETHER_IDENTITY_INVALID');
    // Microseconds where milliseconds were meant: year 55,000.
    expect(refusal(() => store.apply('identityUsers', null, p('00uMicros', 1_735_689_600_000_000)))).toBe('TETHER_IDENTITY_INVALID');
    expect(refusal(() => store.apply('identityNhi', null, nonHuman('openai', 'api_key', 'k', 1000, { nhi_id: ' ' })))).toBe('TETHER_IDENTITY_INVALID');
    expect(store.counts()).toMatchObject({ people: 0, nhi: 0, versions: 0 });
    // A scheduled change (a pre-hire) is real: a version valid next year is kept and only holds from then.
    const preHire = directoryPerson('00uFuture', at('2026-09-01T00:00:00Z'), { email: 'future@example.com' });
    expect(store.apply('identityUsers', keyOf(preHire), preHire)).toBe('added');
    const e = resolveEvent(login('h-0', at('2025-12-01T00:00:00Z'), 'future@example.com'), store);
    expect(e.person).toBeUndefined();
    expect(e.reasons).toContain('email_not_held_at_event_time: future@example.com');
  });

  it('never treats an empty or whitespace email as an address, on a record or on an event', () => {
    const blank = directoryPerson('00uBlank', 1000, { email: '   ', aliases: [{ kind: 'email', value: '' }, { kind: 'upn', value: ' ' }] });
    const empty = directoryPerson('00uEmpty', 1000, { email: '' });
    const store = storeWith(blank, empty);
    expect(store.personIdsByAlias('email', '')).toEqual([]);
    expect(store.personIdsByAlias('email', '   ')).toEqual([]);
    const e = resolveEvent(login('h-1', 5000, '   '), store);
    expect(e.person).toBeUndefined();
    expect(e.reasons).toEqual(['no_actor_identifiers', 'device_no_hint']);
    expect(e.unknownRefs).toEqual([]);
    // Blank owner and platform ids name nobody either.
    const project = nonHuman('openai', 'project', 'proj_B', 1000);
    const key = nonHuman('openai', 'api_key', 'key_B', 1000, { parent_nhi_id: project.nhi_id, owner_email: ' ', owner_platform_user_id: '' });
    const keyed = resolveEvent(openaiKeyEvent({ id: 'h-2', time: 5000, type: 'x', keyId: 'key_B', userId: '  ', email: ' ' }), storeWith(blank, empty, project, key));
    expect(keyed.person).toBeUndefined();
    expect(keyed.chain.map((l) => l.kind)).toEqual(['api_key', 'project']);
    expect(keyed.reasons).toEqual(['project_has_no_owner: openai:project:proj_B', 'device_no_hint']);
    // A device assigned to a blank address is assigned to nobody.
    const laptop = device('dev-blank', 1000, { serial: 'BL1', assigned_email: '  ' });
    const onLaptop = enrich(login('h-3', 5000, 'x@example.com', { serial: 'BL1' }), storeWith(blank, empty, laptop), NOW);
    expect(onLaptop.device).toMatchObject({ device_id: 'dev-blank', assigned_person_id: null });
  });

  it('handles very long values without matching a prefix and keeps reasons short', () => {
    const long = `${'a'.repeat(100_000)}@example.com`;
    const owner = directoryPerson('00uLong', 1000, { email: long });
    const store = storeWith(owner);
    expect(enrich(login('h-4', 5000, long.toUpperCase()), store, NOW).person?.person_id).toBe('00uLong');
    const other = enrich(login('h-5', 5000, `${'a'.repeat(100_000)}b@example.com`), store, NOW);
    expect(other.person).toBeNull();
    expect(other.attribution.reasons[0]!.startsWith('email_unknown: aaaa')).toBe(true);
    for (const r of other.attribution.reasons) expect(r.length).toBeLessThanOrEqual(300);
  });

  it('compares addresses as Unicode text (NFC) but never folds lookalikes or compatibility forms', () => {
    const jose = directoryPerson('00uJose', 1000, { email: 'jos\u00e9@example.com' });
    const alice = directoryPerson('00uAlice', 1000, { email: 'alice@example.com' });
    const store = storeWith(jose, alice);
    // Decomposed é (e + combining acute) is the same text as the precomposed one.
    expect(enrich(login('h-6', 5000, 'JOSE\u0301@example.com'), store, NOW).person?.person_id).toBe('00uJose');
    // Cyrillic а, fullwidth ａ, a zero-width space: other addresses, not alice's.
    for (const [n, lookalike] of ['\u0430lice@example.com', '\uff41lice@example.com', 'al\u200bice@example.com'].entries()) {
      const e = resolveEvent(login(`h-7-${n}`, 5000, lookalike), store);
      expect(e.person).toBeUndefined();
      expect(e.reasons[0]).toMatch(/^email_unknown: /);
    }
    // Case folding is Unicode lower-casing without a locale: Turkish dotted capital İ lower-cases to i + U+0307, not i.
    const ilker = directoryPerson('00uIlker', 1000, { email: 'ilker@example.com' });
    expect(resolveEvent(login('h-8', 5000, 'İLKER@example.com'), storeWith(ilker)).person).toBeUndefined();
    expect(resolveEvent(login('h-9', 5000, 'ILKER@example.com'), storeWith(ilker)).person?.person_id).toBe('00uIlker');
  });

  it('never silently picks between two active people holding one address: the incumbent, discounted, with both named', () => {
    const a = directoryPerson('00uAlice', at('2025-01-06T00:00:00Z'), { email: 'alice@example.com', department: 'Sales' });
    // A second active record claims the address (a duplicate import, or a hostile record).
    const b = directoryPerson('00uImpostor', at('2025-06-01T00:00:00Z'), { email: 'ALICE@example.com' });
    const store = storeWith(b, a);
    const beforeClash = enrich(login('h-10', at('2025-05-01T00:00:00Z'), 'alice@example.com'), store, NOW);
    expect(beforeClash.person?.person_id).toBe('00uAlice');
    expect(beforeClash.attribution).toMatchObject({ confidence: 0.9, reasons: ['device_no_hint'] });
    const clash = enrich(login('h-11', at('2025-07-01T00:00:00Z'), 'alice@example.com'), store, NOW);
    expect(clash.person?.person_id).toBe('00uAlice');
    expect(clash.attribution.method).toBe('direct_email');
    expect(clash.attribution.confidence).toBe(0.54);
    expect(clash.attribution.reasons).toEqual([
      `ambiguous_person_match: alice@example.com held by 2 active people (00uAlice, 00uImpostor); chose 00uAlice, its holder since ${iso(a.valid_from)}`,
      'device_no_hint',
    ]);
    // A reference made before the clash (an account that claimed the address in February) is not ambiguous.
    const account = platformAccount('openai', 'user-Al1ce', at('2025-02-01T00:00:00Z'), { email: 'alice@example.com' });
    const session = enrich(openaiSessionEvent({ id: 'h-12', time: at('2025-07-01T00:00:00Z'), type: 'login.succeeded', userId: 'user-Al1ce', email: 'alice@example.com' }), storeWith(a, b, account), NOW);
    expect(session.person?.person_id).toBe('00uAlice');
    expect(session.attribution).toMatchObject({ method: 'platform_user_alias', confidence: 0.9, reasons: ['device_no_hint'] });
  });

  it('ranks two records that started holding an address together by id, deterministically, whatever the arrival order', () => {
    const p = directoryPerson('00uP', 1000, { email: 'twin@example.com' });
    const q = directoryPerson('00uQ', 1000, { email: 'twin@example.com' });
    for (const store of [storeWith(p, q), storeWith(q, p)]) {
      const e = enrich(login('h-13', 5000, 'twin@example.com'), store, NOW);
      expect(e.person?.person_id).toBe('00uP');
      expect(e.attribution.confidence).toBe(0.54);
      expect(e.attribution.reasons[0]).toBe(`ambiguous_person_match: twin@example.com held by 2 active people (00uP, 00uQ); chose 00uP, its holder since ${iso(1000)}`);
    }
  });

  it('stops at a chain that loops or names itself as its parent', () => {
    const self = nonHuman('openai', 'service_account', 'svc_Self', 1000, { parent_nhi_id: 'openai:service_account:svc_Self' });
    const e = resolveEvent(openaiKeyEvent({ id: 'h-14', time: 5000, type: 'x', keyId: 'key_none', serviceAccountId: 'svc_Self' }), storeWith(self));
    expect(e.chain.map((l) => l.id)).toEqual(['openai:service_account:svc_Self']);
    expect(e.reasons).toContain('nhi_chain_cycle: openai:service_account:svc_Self');
  });

  it('does not let a connector grant by a blank address stand for anyone', () => {
    const client = '99-hostile.apps.googleusercontent.com';
    const grant = connectorGrant('google', client, 'blank', 1000, { app_name: 'ChatGPT', granted_by_email: '  ' });
    const event = googleTokenEvent({ id: 'h-15', time: 5000, clientId: client, appName: 'ChatGPT' });
    const e = enrich(event, storeWith(grant), NOW);
    expect(e.person).toBeNull();
    expect(e.nhi_chain).toEqual([{ kind: 'connector', id: grant.connector_id, name: 'ChatGPT', status: 'granted' }]);
    expect(e.attribution.reasons).toEqual([`connector_grantor_unresolved: ${grant.connector_id}`, 'device_no_hint']);
    // A blank address is not a reference that may still arrive: the event does not wait for it.
    expect(resolveEvent(event, storeWith(grant)).unknownRefs).toEqual([]);
  });

  it('indexes no blank platform id, client id or IP', () => {
    const key = nonHuman('openai', 'api_key', ' ', 1000);
    const grant = connectorGrant('google', '', 'x', 1000);
    const laptop = device('dev-ip', 1000, { serial: 'IP1', ip_addresses: [' ', ''] });
    const store = storeWith(key, grant, laptop);
    expect(store.counts()).toMatchObject({ nhi: 1, connectors: 1, devices: 1 });
    expect(store.nhiIdsByPlatformId('openai', ' ')).toEqual([]);
    expect(store.connectorIdsByClient('google', '')).toEqual([]);
    expect(store.deviceIdsByIp(' ')).toEqual([]);
    const e = resolveEvent(openaiKeyEvent({ id: 'h-16', time: 5000, type: 'x', keyId: ' ', ip: ' ' }), store);
    expect(e.reasons).toEqual(['no_actor_identifiers', 'device_no_hint']);
  });
});
