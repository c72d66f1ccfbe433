// Provisioning lag: a joiner's directory record often arrives after their
// first AI events. An event by an address nobody had held yet at its time is
// attributed to the address's first holder when their record starts within
// the bound after the event, with a reason and less confidence; beyond the
// bound, with the rule off, or when the address had a holder before, it is not.
import { describe, expect, it } from 'vitest';
import { createReattributionWindow } from '../../src/reattribution.ts';
import { enrich, resolveEvent, type Resolution } from '../../src/resolve/enrich.ts';
import { DEFAULT_RESOLVE_RULES } from '../../src/resolve/policy.ts';
import { IdentityStore } from '../../src/store/identity-store.ts';
import { cursorAuditEvent, openaiSessionEvent } from '../fixtures/events.ts';
import { at, directoryPerson, keyOf, platformAccount } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T = at('2026-02-02T09:00:00Z');
const joiner = (validFrom: number, id = '00uJade', email = 'jade.nguyen@example.com') =>
  directoryPerson(id, validFrom, { email, display_name: 'Jade Nguyen' });
const login = (id: string, time: number, email = 'jade.nguyen@example.com') => cursorAuditEvent({ id, time, email });

describe('provisioning lag', () => {
  it('names the first holder whose record starts within the bound after the event, with why and less confidence', () => {
    const jade = joiner(T + 2 * DAY + 3 * HOUR);
    const e = enrich(login('pl-1', T), storeWith(jade), NOW);
    expect(e.person).toMatchObject({ person_id: '00uJade', display_name: 'Jade Nguyen', lifecycle_state: 'active', version_valid_from: jade.valid_from });
    expect(e.attribution.method).toBe('direct_email');
    expect(e.attribution.confidence).toBe(0.7);
    expect(e.attribution.reasons).toEqual([
      `address_first_held_after_event: jade.nguyen@example.com first held by 00uJade from ${new Date(jade.valid_from).toISOString()}, 51 h after the event`,
      'device_no_hint',
    ]);
  });

  it('a holder since before the event is matched as usual (no lag reason, full confidence)', () => {
    const e = enrich(login('pl-2', T), storeWith(joiner(T - HOUR)), NOW);
    expect(e.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9, reasons: ['device_no_hint'] });
  });

  it('does not reach past the bound, and the bound is the configured one', () => {
    const store = storeWith(joiner(T + 8 * DAY));
    expect(enrich(login('pl-3', T), store, NOW).attribution).toMatchObject({ method: 'unresolved', confidence: 0 });
    const wider = enrich(login('pl-3', T), store, NOW, { rules: { provisioningLagMs: 10 * DAY } });
    expect(wider.person?.person_id).toBe('00uJade');
    const off = enrich(login('pl-4', T), storeWith(joiner(T + HOUR)), NOW, { rules: { provisioningLagMs: 0 } });
    expect(off.attribution.method).toBe('unresolved');
    expect(off.attribution.reasons[0]).toBe('email_not_held_at_event_time: jade.nguyen@example.com');
    expect(DEFAULT_RESOLVE_RULES.provisioningLagMs).toBe(7 * DAY);
  });

  it('is only for an address nobody held before: a reused address released earlier names its former holder, not the next one', () => {
    const leaver = directoryPerson('00uOld', T - 90 * DAY, { email: 'sam@example.com' });
    const gone = directoryPerson('00uOld', T - 10 * DAY, { email: 'sam.old@example.com', aliases: [{ kind: 'email', value: 'sam.old@example.com' }] });
    const newSam = directoryPerson('00uNewSam', T + DAY, { email: 'sam@example.com' });
    const e = enrich(login('pl-5', T, 'sam@example.com'), storeWith(leaver, gone, newSam), NOW);
    expect(e.person?.person_id).toBe('00uOld');
    expect(e.attribution.reasons[0]).toMatch(/^email_formerly_held: sam@example\.com last held by 00uOld/);
    // After the new holder's record starts, the address is theirs, with full confidence.
    const later = enrich(login('pl-6', T + 2 * DAY, 'sam@example.com'), storeWith(leaver, gone, newSam), NOW);
    expect(later.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9 });
    expect(later.person?.person_id).toBe('00uNewSam');
  });

  it('picks the earliest of several later holders (the first holder), whatever order the records came in', () => {
    const first = joiner(T + DAY, '00uFirst');
    const second = joiner(T + 3 * DAY, '00uSecond');
    for (const store of [storeWith(first, second), storeWith(second, first)]) {
      expect(resolveEvent(login('pl-7', T), store).person?.person_id).toBe('00uFirst');
    }
  });

  it('follows a platform account whose email nobody held yet to the joiner', () => {
    const account = platformAccount('openai', 'user-jade', T - DAY, { email: 'jade.nguyen@example.com' });
    const event = openaiSessionEvent({ id: 'pl-8', time: T, type: 'login.succeeded', userId: 'user-jade', email: 'jade.nguyen@example.com' });
    const before = resolveEvent(event, storeWith(account));
    expect(before.method).toBe('platform_account_only');
    const after = resolveEvent(event, storeWith(account, joiner(T + 4 * HOUR)));
    expect(after).toMatchObject({ method: 'platform_user_alias', confidence: 0.7 });
    expect(after.person?.person_id).toBe('00uJade');
    expect(after.reasons[0]).toMatch(/^address_first_held_after_event: jade\.nguyen@example\.com first held by 00uJade/);
  });

  it('a late directory record re-attributes events already emitted unresolved', async () => {
    const store = new IdentityStore();
    const events = [login('pl-9', T), login('pl-10', T + DAY)];
    const emitted: Array<{ id: string; person: string | undefined; method: string }> = [];
    const window = createReattributionWindow({
      maxEvents: 10, maxAgeMs: 30 * DAY, now: () => NOW, minIntervalMs: 1,
      resolve: (e: (typeof events)[number]) => resolveEvent(e, store),
      emit: async (items) => { emitted.push(...items.map(({ item, resolution }) => ({ id: item.source.source_event_id, person: resolution.person?.person_id, method: resolution.method }))); },
    });
    for (const e of events) {
      const first: Resolution = resolveEvent(e, store);
      expect(first.method).toBe('unresolved');
      window.remember(e.event_id, e, first);
    }
    const jade = joiner(T + 2 * DAY);
    store.apply('identityUsers', keyOf(jade), jade);
    window.identityChanged();
    await window.idle();
    expect(emitted).toEqual([
      { id: 'pl-9', person: '00uJade', method: 'direct_email' },
      { id: 'pl-10', person: '00uJade', method: 'direct_email' },
    ]);
  });
});
