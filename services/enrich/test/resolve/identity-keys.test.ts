// Events and identity records written by different sources meet through the
// one normalisation of join keys (#schemas identity-keys), both when the
// store indexes a record and when an event looks it up.
import { describe, expect, it } from 'vitest';
import { enrich, resolveEvent } from '../../src/resolve/enrich.ts';
import { cursorAuditEvent, openaiKeyEvent } from '../fixtures/events.ts';
import { at, device, directoryPerson, nonHuman } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-01-01T00:00:00Z');
const T = at('2025-11-20T10:00:00Z');
const dana = directoryPerson('00uDana', at('2025-01-06T00:00:00Z'), { email: 'dana.lee@example.com', display_name: 'Dana Lee' });
const login = (id: string, email: string, ip?: string) => cursorAuditEvent({ id, time: T, email, ...(ip === undefined ? {} : { ip }) });

describe('plus addresses', () => {
  it('a tagged address names the person whose mailbox it is, and the event keeps what the platform wrote', () => {
    const e = enrich(login('k-1', 'dana.lee+cursor@example.com'), storeWith(dana), NOW);
    expect(e.person).toMatchObject({ person_id: '00uDana', email: 'dana.lee@example.com' });
    expect(e.attribution).toMatchObject({ method: 'direct_email', confidence: 0.9 });
    expect(e.event.actor.email).toBe('dana.lee+cursor@example.com');
  });

  it('a directory record with a tagged address answers the plain one, and a key owner written with a tag resolves', () => {
    const tagged = directoryPerson('00uDana', at('2025-01-06T00:00:00Z'), { email: 'Dana.Lee+HR@example.com' });
    expect(enrich(login('k-2', 'dana.lee@example.com'), storeWith(tagged), NOW).person?.person_id).toBe('00uDana');
    const key = nonHuman('openai', 'api_key', 'key_plus', at('2025-02-01T00:00:00Z'), { owner_email: 'dana.lee+openai@example.com' });
    const e = enrich(openaiKeyEvent({ id: 'k-3', time: T, type: 'api_key.updated', keyId: 'key_plus', serviceAccountId: 'svc_x' }), storeWith(dana, key), NOW);
    expect(e.person?.person_id).toBe('00uDana');
    expect(e.attribution.method).toBe('api_key_owner');
  });

  it('never folds homoglyphs, zero-width characters or a fullwidth at-sign onto the address', () => {
    const store = storeWith(dana);
    for (const [n, lookalike] of [
      'd\u0430na.lee+cursor@example.com', // Cyrillic а
      'dana.lee\u200b+cursor@example.com', // zero-width space
      '\ufeffdana.lee@example.com', // zero-width no-break space
      'dana.lee+cursor\uff20example.com', // fullwidth ＠
      'dana.lee\uff20example.com',
    ].entries()) {
      const r = resolveEvent(login(`k-4-${n}`, lookalike), store);
      expect([lookalike, r.person?.person_id ?? null, r.method]).toEqual([lookalike, null, 'unresolved']);
      expect(r.reasons[0]).toMatch(/^email_unknown: /);
    }
  });
});

describe('IP addresses', () => {
  const laptop = device('serial:C02DANA', T - 3_600_000, { serial: 'C02DANA', assigned_email: 'dana.lee@example.com', ip_addresses: ['203.0.113.9'] });

  it('an IPv4-mapped IPv6 source address meets the device recorded with the IPv4 address', () => {
    const e = enrich(login('k-5', 'dana.lee@example.com', '::ffff:203.0.113.9'), storeWith(dana, laptop), NOW);
    expect(e.device?.device_id).toBe('serial:C02DANA');
    expect(e.attribution).toMatchObject({ device_method: 'ip_observation', device_confidence: 0.8 });
    expect(e.event.src.ip).toBe('::ffff:203.0.113.9');
  });

  it('meets it the other way round, and in any IPv6 spelling', () => {
    const mapped = device('serial:C02DANA', T - 3_600_000, { serial: 'C02DANA', ip_addresses: ['::FFFF:CB00:7109'] });
    expect(enrich(login('k-6', 'nobody@example.com', '203.0.113.9'), storeWith(mapped), NOW).device?.device_id).toBe('serial:C02DANA');
    const v6 = device('serial:C02V6', T - 3_600_000, { serial: 'C02V6', ip_addresses: ['2001:DB8:0:0:0:0:0:1'] });
    for (const ip of ['2001:db8::1', '[2001:db8::1]', ' 2001:0db8::0001 ']) {
      expect([ip, enrich(login('k-7', 'nobody@example.com', ip), storeWith(v6), NOW).device?.device_id]).toEqual([ip, 'serial:C02V6']);
    }
  });

  it('text that is no IP address meets no device and says so', () => {
    const r = resolveEvent(login('k-8', 'dana.lee@example.com', '203.0.113.9:443'), storeWith(dana, laptop));
    expect(r.device).toBeNull();
    expect(r.reasons).toContain('device_ip_invalid: 203.0.113.9:443');
  });
});
