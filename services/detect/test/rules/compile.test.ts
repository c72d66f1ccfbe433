// Conditions compile to closures with the documented semantics.
import { describe, expect, it } from 'vitest';
import { compileCondition } from '../../src/rules/compile.ts';
import { ipNetwork } from '../../src/rules/fields.ts';
import { fixtureEvent } from '../../src/rules/fixtures.ts';
import { backtrackingRisk } from '../../src/rules/regex.ts';
import type { Condition } from '../../src/rules/schema.ts';

const event = fixtureEvent({
  event: {
    action: 'API_KEY.created', time: '2025-03-03T10:00:00Z', src: { ip: '::ffff:10.0.4.17' },
    connector: { client_id: 'c1', scopes: ['openid', 'https://www.googleapis.com/auth/drive.readonly'] },
  },
  person: { person_id: 'p1', lifecycle_state: 'inactive' },
  device: { device_id: 'd1', managed: false },
  nhi_chain: [{ kind: 'api_key', id: 'k1', status: 'active' }, { kind: 'person', id: 'p1', status: 'inactive' }],
  attribution: { method: 'api_key_owner', confidence: 0.81, reasons: ['nhi_owner_inactive: openai:api_key:k1', 'device_ip_ambiguous'] },
}, 0, []);

const run = (c: Condition) => compileCondition(c, [])(event);

describe('conditions', () => {
  it.each<[string, Condition, boolean]>([
    ['eq is exact', { field: 'event.action', eq: 'api_key.created' }, false],
    ['eq nocase', { field: 'event.action', eq: 'api_key.created', nocase: true }, true],
    ['ne', { field: 'person.lifecycle_state', ne: 'active' }, true],
    ['in', { field: 'attribution.method', in: ['api_key_owner', 'service_account_owner'] }, true],
    ['not_in', { field: 'attribution.method', not_in: ['api_key_owner'] }, false],
    ['prefix of any', { field: 'event.action', prefix: ['x', 'API_'] }, true],
    ['suffix', { field: 'event.action', suffix: '.created' }, true],
    ['contains nocase', { field: 'event.action', contains: 'key', nocase: true }, true],
    ['regex', { field: 'event.action', regex: '^api_key[.]creat', nocase: true }, true],
    ['numeric gt', { field: 'attribution.confidence', gt: 0.8 }, true],
    ['numeric lte', { field: 'attribution.confidence', lte: 0.5 }, false],
    ['time after', { field: 'event.time', after: '2025-03-03T09:59:59Z' }, true],
    ['time before', { field: 'event.time', before: '2025-03-03T10:00:00Z' }, false],
    ['time eq as text', { field: 'event.time', eq: '2025-03-03T10:00:00Z' }, true],
    ['boolean eq', { field: 'device.managed', eq: false }, true],
    ['null check on a record', { field: 'event.connector', is_null: false }, true],
    ['null check on a field of a null record', { field: 'event.actor.email', is_null: true }, true],
    ['list any', { field: 'event.connector.scopes', prefix: 'https://www.googleapis.com/auth/drive' }, true],
    ['list all', { field: 'event.connector.scopes', quantifier: 'all', prefix: 'https://' }, false],
    ['list none', { field: 'nhi_chain.status', quantifier: 'none', eq: 'revoked' }, true],
    ['list empty', { field: 'event.targets.id', is_empty: true }, true],
    ['derived owner status', { field: 'derived.owner_status', eq: 'inactive' }, true],
    ['derived reason codes drop details', { field: 'derived.reason_codes', eq: 'nhi_owner_inactive' }, true],
    ['derived network of a mapped IPv4', { field: 'derived.ip_network', eq: '10.0.4.0/24' }, true],
    ['and', { and: [{ field: 'device.managed', eq: false }, { field: 'person.person_id', eq: 'p1' }] }, true],
    ['or', { or: [{ field: 'device.managed', eq: true }, { field: 'person.person_id', eq: 'p2' }] }, false],
    ['not', { not: { field: 'device.managed', eq: true } }, true],
  ])('%s', (_name, condition, expected) => {
    expect(run(condition)).toBe(expected);
  });

  it('treats a null field as matching nothing but is_null', () => {
    expect(run({ field: 'event.src.hostname', eq: 'x' })).toBe(false);
    expect(run({ field: 'event.src.hostname', ne: 'x' })).toBe(false);
    expect(run({ not: { field: 'event.src.hostname', eq: 'x' } })).toBe(true);
  });

  it('all on an empty list is false (a rule never means "all of nothing")', () => {
    expect(run({ field: 'event.targets.id', quantifier: 'all', eq: 'x' })).toBe(false);
  });
});

describe('ip networks', () => {
  it.each([
    ['10.0.4.17', '10.0.4.0/24'],
    ['::ffff:198.51.100.24', '198.51.100.0/24'],
    ['2001:db8:0:1::10', '2001:db8:0:1::/64'],
    ['2001:DB8::1', '2001:db8:0:0::/64'],
    ['not an ip', null],
  ])('%s -> %s', (ip, network) => {
    expect(ipNetwork(ip)).toBe(network);
  });
});

describe('regex guard', () => {
  it.each(['(a+)+$', '(a*)*b', '(x+x+)+y', '(a|aa)+', '(.*a){12}', '((a+))+', '(\\w+\\s?)*$', '(a)\\1', '(?<=a)b'])('refuses %s', (p) => {
    expect(backtrackingRisk(p)).not.toBeNull();
  });
  it.each(['^api_key[.]creat(e|ed)$', 'invite(d|\\.sent)?$', 'chatgpt|claude', '[a+]+', '^(https://x/)?(mail|files)\\.(read|write)', 'a{2,5}b'])('accepts %s', (p) => {
    expect(backtrackingRisk(p)).toBeNull();
  });
});
