import { describe, expect, it } from 'vitest';
import { parseCatalogue } from '#catalogue';
import type { AccessEvent, ConnectorVersion } from '#schemas';
import { applyGrantEvent, emptyLedger, fold, type ConnectorLedger, type LedgerOptions } from '../src/inventory/connector-versions.ts';
import { normaliseEntraAudit } from '../src/sources/entra/directory-audit.ts';
import { normaliseGitHubAudit } from '../src/sources/github/audit-log.ts';
import { normaliseGoogleToken } from '../src/sources/google/token-activity.ts';
import type { GrantNormaliser } from '../src/normalise/grant-event.ts';
import { ctxFor, fixture } from './fixtures.ts';

const catalogue = parseCatalogue(`
version: 3
tools:
  - id: chatgpt
    name: ChatGPT
    name_patterns: [chatgpt]
    oauth_clients: [{provider: google, client_id: gpt.apps.googleusercontent.com}]
sanctioned:
  - {tool: chatgpt, sanctioned: true, valid_from: 2025-03-07}
`, 'test');
const OPTIONS: LedgerOptions = { catalogue, useResolutionMs: 3_600_000 };
const CLIENT = 'gpt.apps.googleusercontent.com';

let seq = 0;
/** A Google token activity in the real shape. */
function google(name: 'authorize' | 'revoke' | 'activity', time: string, scopes: string[] = [], user = { email: 'dana.ruiz@example.com', profileId: '1144' }) {
  seq++;
  const params: unknown[] = [{ name: 'client_id', value: CLIENT }, { name: 'app_name', value: 'ChatGPT' }];
  if (name !== 'activity') params.push({ name: 'scope', multiValue: scopes });
  else params.push({ name: 'api_name', value: 'drive' }, { name: 'method_name', value: 'drive.files.get' });
  return {
    id: { time, uniqueQualifier: String(1000 + seq), applicationName: 'token', customerId: 'C01' },
    actor: { callerType: 'USER', ...user },
    ipAddress: name === 'activity' ? '20.171.206.9' : '203.0.113.24',
    events: [{ type: 'auth', name, parameters: params }],
  };
}

function eventsOf(normalise: GrantNormaliser, provider: 'google' | 'entra' | 'github', records: unknown[], org: string | null = null): AccessEvent[] {
  return records.flatMap((r) => {
    const result = normalise(r, ctxFor(provider, 'feed', r, org));
    if (!result.ok) throw result.error;
    return result.events;
  });
}

/** Applies events in order; the last emitted value per version key wins (as on a compacted topic). */
function apply(events: AccessEvent[], ledger: ConnectorLedger = emptyLedger()) {
  const topic = new Map<string, ConnectorVersion>();
  const emitted: ConnectorVersion[] = [];
  for (const e of events) {
    for (const v of applyGrantEvent(ledger, e, OPTIONS)) {
      emitted.push(v);
      topic.set(`${v.connector_id}@${v.valid_from}`, v);
    }
  }
  const versions = [...topic.values()].sort((a, b) => (a.connector_id < b.connector_id ? -1 : a.connector_id > b.connector_id ? 1 : a.valid_from - b.valid_from));
  return { ledger, emitted, versions };
}

const T = (iso: string) => Date.parse(iso);
const lifecycle = [
  google('authorize', '2025-03-04T09:00:00Z', ['https://www.googleapis.com/auth/drive.readonly', 'openid']),
  google('activity', '2025-03-04T10:00:00Z'),
  google('activity', '2025-03-04T10:20:00Z'),
  google('activity', '2025-03-05T08:00:00Z'),
  google('revoke', '2025-03-06T12:00:00Z', ['https://www.googleapis.com/auth/drive.readonly', 'openid']),
  google('authorize', '2025-03-08T09:00:00Z', ['https://www.googleapis.com/auth/drive.readonly']),
  google('activity', '2025-03-09T09:00:00Z'),
];

describe('connector versions from grant events', () => {
  it('grant, uses from the vendor, revoke, regrant: one connector, three versions with times and classification as of each', () => {
    const { versions } = apply(eventsOf(normaliseGoogleToken, 'google', lifecycle));
    const id = `google:${CLIENT}:1144`;
    expect(versions.map((v) => [v.connector_id, new Date(v.valid_from).toISOString(), v.status, v.active])).toEqual([
      [id, '2025-03-04T09:00:00.000Z', 'granted', true],
      [id, '2025-03-06T12:00:00.000Z', 'revoked', false],
      [id, '2025-03-08T09:00:00.000Z', 'granted', true],
    ]);
    const [first, revoked, regrant] = versions as [ConnectorVersion, ConnectorVersion, ConnectorVersion];
    expect(first).toMatchObject({
      provider: 'google', client_id: CLIENT, app_name: 'ChatGPT', granted_by_email: 'dana.ruiz@example.com', granted_by_platform_user_id: 'google:1144',
      scopes: ['https://www.googleapis.com/auth/drive.readonly', 'openid'], granted_at: T('2025-03-04T09:00:00Z'), revoked_at: null,
      last_used_at: T('2025-03-05T08:00:00Z'), ai_classification: 'ai_tool', ai_tool_id: 'chatgpt', sanctioned: false, catalogue_version: 3, grant_subject: '1144',
    });
    expect(revoked).toMatchObject({ granted_at: T('2025-03-04T09:00:00Z'), revoked_at: T('2025-03-06T12:00:00Z'), sanctioned: false });
    // Sanctioned from 2025-03-07: the regrant is, the first grant stays as it was.
    expect(regrant).toMatchObject({ granted_at: T('2025-03-08T09:00:00Z'), revoked_at: null, scopes: ['https://www.googleapis.com/auth/drive.readonly'], sanctioned: true, last_used_at: T('2025-03-09T09:00:00Z') });
  });

  it('re-emits a version for a use only once per resolution', () => {
    const { emitted } = apply(eventsOf(normaliseGoogleToken, 'google', lifecycle.slice(0, 4)));
    // grant, the first use (10:00), not 10:20 (within the hour), then 08:00 next day.
    expect(emitted.map((v) => v.last_used_at && new Date(v.last_used_at).toISOString())).toEqual([null, '2025-03-04T10:00:00.000Z', '2025-03-05T08:00:00.000Z']);
  });

  it('any arrival order (Google pages newest first) answers every as-of question the same; a re-read re-emits only keys already out, in the same state', () => {
    const events = eventsOf(normaliseGoogleToken, 'google', lifecycle);
    const inOrder = apply(events);
    const orders = [[...events].reverse(), [events[4]!, events[1]!, events[6]!, events[0]!, events[3]!, events[5]!, events[2]!]];
    /** What a temporal join sees at t (a re-cut history may split a version in two: same state, two keys). */
    const asOf = (versions: ConnectorVersion[], t: number) => {
      const v = versions.findLast((x) => x.valid_from <= t);
      if (!v) return null;
      const { valid_from: _f, last_used_at: _u, source: _s, ...state } = v;
      return state;
    };
    const times = [...events.map((e) => e.time), T('2025-03-04T08:59:59Z'), T('2025-03-07T00:00:00Z'), T('2025-03-20T00:00:00Z')];
    for (const order of orders) {
      const other = apply(order);
      for (const t of times) expect(asOf(other.versions, t)).toEqual(asOf(inOrder.versions, t));
      const lastUse = (vs: ConnectorVersion[]) => Math.max(...vs.map((v) => v.last_used_at ?? 0));
      expect(lastUse(other.versions)).toBe(lastUse(inOrder.versions));
    }
    const again = events.flatMap((e) => applyGrantEvent(inOrder.ledger, e, OPTIONS));
    expect(again.length).toBeGreaterThan(0);
    const byKey = new Map(inOrder.versions.map((v) => [`${v.connector_id}@${v.valid_from}`, v]));
    const state = ({ source: _s, last_used_at: _u, ...rest }: ConnectorVersion) => rest;
    for (const v of again) expect(state(v)).toEqual(state(byKey.get(`${v.connector_id}@${v.valid_from}`)!));
  });

  it('a revoke seen with no grant before it records a revoked grant of unknown start; a use alone opens one', () => {
    const { versions } = apply(eventsOf(normaliseGoogleToken, 'google', [
      google('activity', '2025-03-01T00:00:00Z', [], { email: 'lee@example.com', profileId: '77' }),
      google('revoke', '2025-03-02T00:00:00Z', ['openid'], { email: 'kim@example.com', profileId: '88' }),
    ]));
    expect(versions.map((v) => [v.grant_subject, v.status, v.granted_at, v.last_used_at])).toEqual([
      ['77', 'granted', null, T('2025-03-01T00:00:00Z')],
      ['88', 'revoked', null, null],
    ]);
  });

  it('one Entra consent (service principal, delegated grant, consent) is one version; a failed consent none', () => {
    const page = fixture<{ value: unknown[] }>('entra', 'directory-audits-page.json');
    const events = eventsOf(normaliseEntraAudit, 'entra', page.value, 'tenant-1');
    const { versions } = apply(events);
    const chatgpt = versions.filter((v) => v.client_id === 'e0476654-c1d5-430b-ab80-70cbd947616a');
    expect(chatgpt.map((v) => [v.valid_from, v.status, v.scopes])).toEqual([
      [T('2025-03-04T09:14:02.553Z'), 'granted', ['Files.Read', 'Mail.Read', 'offline_access', 'User.Read']],
      [T('2025-03-08T10:00:00Z'), 'revoked', ['Files.Read', 'Mail.Read', 'offline_access', 'User.Read']],
    ]);
    // The delegated grant named only the object id: a connector of its own (flagged on the event), as the source left it.
    expect(versions.map((v) => v.connector_id)).toEqual(expect.arrayContaining([
      'entra:4c1d9b0e-5f11-4a8e-9c41-0c1a0de00365:all:tenant-1',
      'entra:7d1e9a3f-2b88-4c10-9f55-c0aa41e2b6d1:all:tenant-1',
    ]));
    const admin = versions.find((v) => v.connector_id.startsWith('entra:4c1d9b0e'))!;
    expect(admin).toMatchObject({ granted_by_email: 'it.admin@example.com', grant_subject: 'all:tenant-1', scopes: ['Sites.Read.All', 'Files.Read.All', 'AllSites.Read'] });
    expect(versions.some((v) => v.app_name === 'Free AI Notes')).toBe(false);
  });

  it("a grant adding scopes makes a version that keeps the first grant's time and grantor", () => {
    const { versions } = apply(eventsOf(normaliseGoogleToken, 'google', [
      google('authorize', '2025-03-04T09:00:00Z', ['openid']),
      google('authorize', '2025-03-05T09:00:00Z', ['openid']),
      google('authorize', '2025-03-06T09:00:00Z', ['https://mail.google.com/']),
    ]));
    expect(versions.map((v) => [new Date(v.valid_from).toISOString(), v.scopes, v.granted_at])).toEqual([
      ['2025-03-04T09:00:00.000Z', ['openid'], T('2025-03-04T09:00:00Z')],
      ['2025-03-06T09:00:00.000Z', ['openid', 'https://mail.google.com/'], T('2025-03-04T09:00:00Z')],
    ]);
  });

  it("an org-wide revoke ends every connector of the app, users' own ones and ones met later", () => {
    const base = { org: 'example-co', org_id: 88, actor: 'owner', actor_id: 1, oauth_application: 'Cursor', client_id: 'cur-1' };
    const records = [
      { ...base, _document_id: 'a', action: 'oauth_authorization.create', '@timestamp': T('2025-03-01T00:00:00Z'), actor: 'dana', actor_id: 5 },
      { ...base, _document_id: 'b', action: 'oauth_application.revoke_all_tokens', '@timestamp': T('2025-03-03T00:00:00Z') },
      // Read after the revoke, happened before it.
      { ...base, _document_id: 'c', action: 'oauth_authorization.create', '@timestamp': T('2025-03-02T00:00:00Z'), actor: 'lee', actor_id: 6 },
    ];
    const { versions } = apply(eventsOf(normaliseGitHubAudit, 'github', records));
    expect(versions.map((v) => [v.connector_id, v.status, new Date(v.valid_from).toISOString().slice(0, 10)])).toEqual([
      ['github:cur-1:5', 'granted', '2025-03-01'],
      ['github:cur-1:5', 'revoked', '2025-03-03'],
      ['github:cur-1:6', 'granted', '2025-03-02'],
      ['github:cur-1:6', 'revoked', '2025-03-03'],
    ]);
  });

  it('fold is what the ledger holds: recomputing from the state gives the emitted versions', () => {
    const { ledger, versions } = apply(eventsOf(normaliseGoogleToken, 'google', lifecycle));
    const [id, state] = Object.entries(ledger.connectors)[0]!;
    expect(fold(id, state, OPTIONS).map((v) => v.valid_from)).toEqual(versions.map((v) => v.valid_from));
    // The ledger survives JSON (it rides in a checkpoint).
    const copy = JSON.parse(JSON.stringify(ledger)) as ConnectorLedger;
    const keys = (vs: ConnectorVersion[]) => [...new Set(vs.map((v) => v.valid_from))].sort();
    expect(keys(eventsOf(normaliseGoogleToken, 'google', lifecycle).flatMap((e) => applyGrantEvent(copy, e, OPTIONS)))).toEqual(keys(versions));
  });
});
