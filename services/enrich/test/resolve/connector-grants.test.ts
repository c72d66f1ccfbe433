// Connector attribution on the inventory the grant sources really write:
// Google token activities in their real shape, through the Google normaliser
// and the connector fold (services/ingest-grants), into the identity store.
// A person grants an AI app, its token is used from the vendor's servers,
// revoked, granted again, and used after the person left (and after the
// person's address went to someone else): every use is the granting
// person's as of its time, the connector is in the chain, the late use is
// flagged orphaned, no use has a device.
import { describe, expect, it } from 'vitest';
import { parseCatalogue } from '#catalogue';
import type { AccessEvent, ConnectorVersion } from '#schemas';
import { applyGrantEvent, emptyLedger } from '../../../ingest-grants/src/inventory/connector-versions.ts';
import { grantContext } from '../../../ingest-grants/src/normalise/grant-event.ts';
import { GOOGLE_TOKEN_FEED, normaliseGoogleToken } from '../../../ingest-grants/src/sources/google/token-activity.ts';
import { enrich } from '../../src/resolve/enrich.ts';
import { at, directoryPerson } from '../fixtures/identities.ts';
import { storeWith } from './helpers.ts';

const NOW = at('2026-01-01T00:00:00Z');
const CLIENT = '123456789012-chatgpt.apps.googleusercontent.com';
const PROFILE = '114477889900112233445';
const catalogue = parseCatalogue('version: 1\ntools:\n  - {id: chatgpt, name: ChatGPT, name_patterns: [chatgpt]}\n', 'test');

let n = 0;
function token(name: 'authorize' | 'revoke' | 'activity', time: string, actor = { email: 'dana.ruiz@example.com', profileId: PROFILE }): AccessEvent[] {
  const params: unknown[] = [{ name: 'client_id', value: CLIENT }, { name: 'app_name', value: 'ChatGPT' }];
  params.push(name === 'activity' ? { name: 'api_name', value: 'drive' } : { name: 'scope', multiValue: ['https://www.googleapis.com/auth/drive.readonly'] });
  const record = {
    id: { time, uniqueQualifier: String(++n), applicationName: 'token', customerId: 'C01' },
    actor: { callerType: 'USER', ...actor },
    ipAddress: name === 'activity' ? '20.171.206.9' : '203.0.113.24',
    events: [{ type: 'auth', name, parameters: params }],
  };
  const result = normaliseGoogleToken(record, grantContext('google', GOOGLE_TOKEN_FEED, NOW, Buffer.from(JSON.stringify(record))));
  if (!result.ok) throw result.error;
  return result.events;
}

const events = [
  ...token('authorize', '2025-03-04T09:00:00Z'),
  ...token('activity', '2025-03-04T10:00:00Z'),
  ...token('revoke', '2025-03-05T09:00:00Z'),
  ...token('authorize', '2025-03-06T09:00:00Z'),
  ...token('activity', '2025-03-07T10:00:00Z'),
  // After Dana left (2025-06-01), and after her address went to another Dana (2025-09-01).
  ...token('activity', '2025-07-01T10:00:00Z'),
  ...token('activity', '2025-10-01T10:00:00Z'),
];

/** The versions as the topic ends up holding them (last write per key). */
function inventory(): ConnectorVersion[] {
  const ledger = emptyLedger();
  const topic = new Map<string, ConnectorVersion>();
  for (const e of events) for (const v of applyGrantEvent(ledger, e, { catalogue, useResolutionMs: 3_600_000 })) topic.set(`${v.connector_id}@${v.valid_from}`, v);
  return [...topic.values()];
}

const dana = directoryPerson('00uDana', at('2024-01-01T00:00:00Z'), { email: 'dana.ruiz@example.com', display_name: 'Dana Ruiz' });
const danaLeft = { ...dana, valid_from: at('2025-06-01T00:00:00Z'), active: false, lifecycle_state: 'inactive' };
const newDana = directoryPerson('00uDana2', at('2025-09-01T00:00:00Z'), { email: 'dana.ruiz@example.com', display_name: 'Dana Ruiz (2)' });
const connectorId = `google:${CLIENT}:${PROFILE}`;

describe('connector token use on the inventory the grant sources write', () => {
  const store = storeWith(dana, danaLeft, newDana, ...inventory());
  const uses = events.filter((e) => e.action === 'oauth.use').map((e) => enrich(e, store, NOW));

  it('attributes every use to the granting person as of its time, with the connector in force in the chain and no device', () => {
    expect(uses.map((u) => [u.event.time_raw, u.person?.person_id, u.person?.lifecycle_state, u.attribution.method])).toEqual([
      ['2025-03-04T10:00:00Z', '00uDana', 'active', 'connector_grant'],
      ['2025-03-07T10:00:00Z', '00uDana', 'active', 'connector_grant'],
      ['2025-07-01T10:00:00Z', '00uDana', 'inactive', 'connector_grant'],
      // The address is someone else's by now; the token is still the grant Dana made.
      ['2025-10-01T10:00:00Z', '00uDana', 'inactive', 'connector_grant'],
    ]);
    for (const u of uses) {
      expect(u.nhi_chain[0]).toMatchObject({ kind: 'connector', id: connectorId, name: 'ChatGPT', status: 'granted' });
      expect(u.nhi_chain[1]).toMatchObject({ kind: 'person', id: '00uDana' });
      expect(u.device).toBeNull();
    }
  });

  it('flags a use after the grantor left as an orphaned grant, like an orphaned key', () => {
    const reason = `nhi_owner_inactive: ${connectorId} owner 00uDana is inactive`;
    expect(uses.map((u) => u.attribution.reasons.includes(reason))).toEqual([false, false, true, true]);
    expect(uses[2]!.nhi_chain[1]).toMatchObject({ status: 'inactive' });
  });

  it('a use while the grant stood revoked names the revoked grant', () => {
    const [lateUse] = token('activity', '2025-03-05T12:00:00Z');
    const e = enrich(lateUse!, store, NOW);
    expect(e.nhi_chain[0]).toMatchObject({ kind: 'connector', id: connectorId, status: 'revoked' });
    expect(e.person?.person_id).toBe('00uDana');
  });

  it('a use by another account of the same app is not put on Dana\'s grant', () => {
    const [other] = token('activity', '2025-03-07T11:00:00Z', { email: 'sam@example.com', profileId: '999' });
    const sam = directoryPerson('00uSam', at('2024-01-01T00:00:00Z'), { email: 'sam@example.com' });
    const e = enrich(other!, storeWith(dana, sam, ...inventory()), NOW);
    expect(e.person?.person_id).toBe('00uSam');
    expect(e.nhi_chain).toEqual([]);
    expect(e.attribution.reasons).toContain(`connector_not_granted_by_actor: google:${CLIENT}`);
  });
});
