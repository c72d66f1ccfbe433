import { describe, expect, it } from 'vitest';
import { deriveEventId, type AccessEvent } from '#schemas';
import { INGEST_VERSION } from '../src/normalise/common.ts';
import { normaliseAnthropicActivity } from '../src/platforms/anthropic/activities.ts';
import { ANTHROPIC_ACTIVITY_TYPES, mappingFor } from '../src/platforms/anthropic/activity-types.ts';
import { INGESTED_AT, ctx, fixture, fixtureLines } from './fixtures.ts';

const lines = fixtureLines('anthropic', 'activities.jsonl');

function normalise(record: unknown, raw: Buffer | string = JSON.stringify(record)): AccessEvent {
  const result = normaliseAnthropicActivity(record, ctx('anthropic', 'compliance_activities', raw));
  if (!result.ok) throw result.error;
  return result.event;
}

/** The first fixture line of a type (some types appear twice, with different actors). */
function eventOf(type: string, nth = 0): AccessEvent {
  const line = lines.filter((l) => l.record.type === type)[nth];
  if (!line) throw new Error(`no fixture for ${type}`);
  return normalise(line.record, line.raw);
}

describe('Anthropic activity normaliser', () => {
  it('maps the documented API example to a whole AccessEvent', () => {
    const page = fixture<{ data: unknown[] }>('anthropic', 'activities-page.json');
    const raw = JSON.stringify(page.data[0]);
    expect(normalise(page.data[0], raw)).toEqual({
      event_id: deriveEventId('anthropic', 'compliance_activities', 'activity_01FakeA1b2C3d4'),
      source: { platform: 'anthropic', feed: 'compliance_activities', source_event_id: 'activity_01FakeA1b2C3d4', ingested_at: INGESTED_AT, ingest_version: INGEST_VERSION },
      time: Date.parse('2026-03-02T09:15:42Z'),
      time_raw: '2026-03-02T09:15:42Z',
      action: 'api_key.updated',
      source_type: 'platform_api_key_updated',
      outcome: 'success',
      ocsf: { category_uid: 6, class_uid: 6003, activity_id: 3, type_uid: 600303, severity_id: 1 },
      actor: { kind: 'human', platform_user_id: 'user_01FakeU7', email: 'ops@example.com', name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
      targets: [{ type: 'api_key', id: 'apikey_01FakeK5', name: null }],
      scope: { organization_id: 'org_01FakeOrg9x', project_id: null, workspace_id: null },
      src: { ip: '192.0.2.40', user_agent: 'Mozilla/5.0', hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw: Buffer.from(raw),
      unmapped: JSON.stringify({
        organization_uuid: '0f0e0d0c-1111-2222-3333-444455556666',
        api_key_id: 'apikey_01FakeK5',
        updates: [{ type: 'status', previous_value: 'active', current_value: 'inactive' }],
        'actor.type': 'user_actor',
      }),
    });
  });

  it('normalises every fixture line, keeping the exact bytes and the source time', () => {
    for (const { record, raw } of lines) {
      const event = normalise(record, raw);
      expect(event.raw.equals(raw)).toBe(true);
      expect(event.time).toBe(Date.parse(record.created_at as string));
      expect(event.source_type).toBe(record.type);
      expect(event.event_id).toBe(deriveEventId('anthropic', 'compliance_activities', record.id as string));
    }
  });

  it('gives every documented type a dotted action and a consistent OCSF class', () => {
    expect(ANTHROPIC_ACTIVITY_TYPES.length).toBeGreaterThanOrEqual(295);
    const template = lines[0]!.record;
    for (const type of ANTHROPIC_ACTIVITY_TYPES) {
      const event = normalise({ ...template, id: `activity_${type}`, type });
      const { action } = mappingFor(type);
      expect(event.action, type).toBe(action);
      // Types that end in no known verb keep their name; all others become object.verb.
      if (action !== type) expect(action).toMatch(/^[a-z0-9_]+\.[a-z0-9_]+$/);
      expect([3002, 3005, 6003]).toContain(event.ocsf.class_uid);
    }
  });

  it('maps sign-ins across methods to one login action, keeping the method in source_type', () => {
    expect(eventOf('sso_login_succeeded')).toMatchObject({ action: 'login.succeeded', source_type: 'sso_login_succeeded', ocsf: { type_uid: 300201 }, outcome: 'success' });
    expect(eventOf('magic_link_login_succeeded').action).toBe('login.succeeded');
    expect(eventOf('user_logged_out')).toMatchObject({ action: 'logout.succeeded', ocsf: { type_uid: 300202 } });
    // Before sign-in completes the email is only claimed: kept, but not as a known person.
    expect(eventOf('sso_login_failed')).toMatchObject({
      action: 'login.failed',
      outcome: 'failure',
      actor: { kind: 'unknown', email: 'kim@example.com', platform_user_id: null },
      src: { ip: '198.51.100.5' },
    });
  });

  it('puts each kind of actor in its own fields', () => {
    expect(eventOf('compliance_api_accessed').actor).toMatchObject({ kind: 'api_key', api_key_id: 'apikey_01FakeSiem' });
    expect(eventOf('platform_api_key_created').actor).toMatchObject({ kind: 'api_key', api_key_id: 'apikey_01FakeAdm' });
    expect(eventOf('scoped_api_key_updated').actor).toMatchObject({ kind: 'service_account', service_account_id: 'svcacct_01FakeS1' });
    expect(eventOf('platform_file_deleted').actor).toMatchObject({ kind: 'oauth_client', oauth_client_id: 'repo:acme/app:ref:refs/heads/main', name: 'https://token.actions.githubusercontent.com' });
    expect(eventOf('anonymous_mobile_login_attempted')).toMatchObject({ actor: { kind: 'device' }, src: { device_id: 'ios-client-77' } });
    expect(eventOf('org_user_deleted').actor).toMatchObject({ kind: 'unknown', name: 'scim:directory_01FakeD' });
    expect(eventOf('abuse_decision_received').actor).toMatchObject({ kind: 'unknown', name: 'data-retention' });
    expect(eventOf('claude_chat_viewed').actor).toMatchObject({ kind: 'human', platform_user_id: 'user_01FakeK2', email: 'kim@example.com' });
  });

  it('derives outcome from the type, the decision and the status code', () => {
    expect(eventOf('abuse_decision_received').outcome).toBe('failure');
    expect(eventOf('claude_chat_access_failed')).toMatchObject({ outcome: 'failure', action: 'claude_chat.access_failed', ocsf: { activity_id: 2 } });
    expect(eventOf('ghe_webhook_signature_invalid').outcome).toBe('failure');
    expect(eventOf('compliance_api_accessed', 0).outcome).toBe('success');
    expect(eventOf('compliance_api_accessed', 1).outcome).toBe('failure');
  });

  it('names targets from the type-specific id fields and the URL, and grants as User Access Management', () => {
    expect(eventOf('platform_workspace_member_added')).toMatchObject({
      action: 'workspace_member.added',
      ocsf: { class_uid: 3005, activity_id: 1 },
      scope: { workspace_id: 'wrkspc_01FakeW1', organization_id: 'org_01FakeOrg9x' },
      targets: [{ type: 'workspace', id: 'wrkspc_01FakeW1', name: null }, { type: 'user', id: 'user_01FakeK2', name: null }],
    });
    expect(eventOf('role_assignment_revoked').ocsf.type_uid).toBe(300502);
    expect(eventOf('compliance_api_accessed').targets).toEqual([{ type: 'api_endpoint', id: '/v1/compliance/activities?limit=500', name: null }]);
    expect(eventOf('claude_chat_created').targets).toEqual([{ type: 'claude_chat', id: 'chat_01FakeC1', name: null }]);
  });

  it('keeps an undocumented type as an event: action is the type, fields in unmapped', () => {
    const event = eventOf('assistant_memory_wiped');
    expect(event).toMatchObject({ action: 'assistant_memory_wiped', ocsf: { class_uid: 6003, activity_id: 99 } });
    expect(JSON.parse(event.unmapped).memory_id).toBe('mem_01Fake');
  });

  it('returns a typed error for a malformed record instead of throwing', () => {
    const good = lines[0]!.record;
    for (const record of [null, { ...good, id: undefined }, { ...good, type: 7 }, { ...good, created_at: 'yesterday' }, { ...good, actor: 'ops' }]) {
      const result = normaliseAnthropicActivity(record, ctx('anthropic', 'compliance_activities'));
      expect(result).toMatchObject({ ok: false, error: { code: 'TETHER_NORMALISE_INVALID' } });
    }
  });
});
