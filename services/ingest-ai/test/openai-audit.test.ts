import { describe, expect, it } from 'vitest';
import { deriveEventId, type AccessEvent } from '#schemas';
import { INGEST_VERSION } from '../src/normalise/common.ts';
import { normaliseOpenAiAudit } from '../src/platforms/openai/audit.ts';
import { OPENAI_AUDIT_EVENT_TYPES } from '../src/platforms/openai/event-types.ts';
import { INGESTED_AT, ctx, fixture, fixtureLines } from './fixtures.ts';

const lines = fixtureLines('openai', 'audit-logs.jsonl');
const byType = new Map(lines.map((l) => [l.record.type as string, l]));

function normalise(record: unknown, raw: Buffer | string = JSON.stringify(record)): AccessEvent {
  const result = normaliseOpenAiAudit(record, ctx('openai', 'audit_logs', raw));
  if (!result.ok) throw result.error;
  return result.event;
}

function eventOf(type: string): AccessEvent {
  const line = byType.get(type);
  if (!line) throw new Error(`no fixture for ${type}`);
  return normalise(line.record, line.raw);
}

describe('OpenAI audit log normaliser', () => {
  it('maps the documented API example to a whole AccessEvent', () => {
    const page = fixture<{ data: unknown[] }>('openai', 'audit-logs-page.json');
    const raw = JSON.stringify(page.data[0]);
    expect(normalise(page.data[0], raw)).toEqual({
      event_id: deriveEventId('openai', 'audit_logs', 'audit_log-7Qm2xZ'),
      source: { platform: 'openai', feed: 'audit_logs', source_event_id: 'audit_log-7Qm2xZ', ingested_at: INGESTED_AT, ingest_version: INGEST_VERSION },
      time: 1767312000000,
      time_raw: '1767312000',
      action: 'api_key.created',
      source_type: 'api_key.created',
      outcome: 'success',
      ocsf: { category_uid: 6, class_uid: 6003, activity_id: 1, type_uid: 600301, severity_id: 1 },
      actor: { kind: 'human', platform_user_id: 'user-K9p3Lm', email: 'dana@example.com', name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
      targets: [{ type: 'api_key', id: 'key_Zx81Qw', name: null }],
      scope: { organization_id: null, project_id: 'proj_Ab12Cd34', workspace_id: null },
      src: { ip: '198.51.100.24', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw: Buffer.from(raw),
      unmapped: JSON.stringify({ 'api_key.created': { id: 'key_Zx81Qw', data: { scopes: ['api.model.request'] } }, 'project.name': 'billing-bot' }),
    });
  });

  it('has a fixture for every documented non-tenant type, and each normalises with its own type as action', () => {
    const documented = OPENAI_AUDIT_EVENT_TYPES.filter((t) => !t.startsWith('tenant.'));
    expect(documented).toHaveLength(59);
    for (const type of documented) {
      const event = eventOf(type);
      expect(event.action, type).toBe(type);
      expect(event.source_type).toBe(type);
      expect(event.raw.equals(byType.get(type)!.raw)).toBe(true);
      expect(event.time).toBe((byType.get(type)!.record.effective_at as number) * 1000);
      expect(event.ocsf.type_uid).toBe(event.ocsf.class_uid * 100 + event.ocsf.activity_id);
    }
  });

  it('normalises all 86 tenant types, whose details have no published schema', () => {
    const tenant = OPENAI_AUDIT_EVENT_TYPES.filter((t) => t.startsWith('tenant.'));
    expect(tenant).toHaveLength(86);
    const template = byType.get('tenant.admin_api_key.created')!.record;
    for (const type of tenant) {
      const event = normalise({ id: `audit_log-${type}`, type, effective_at: 1767320000, actor: template.actor, [type]: { id: 'obj_1', anything: true } });
      expect(event.action).toBe(type);
      expect(event.actor.email).toBe('dana@example.com');
      expect(JSON.parse(event.unmapped)[type]).toEqual({ id: 'obj_1', anything: true });
    }
  });

  it('puts each kind of actor in its own fields', () => {
    expect(eventOf('api_key.created').actor).toMatchObject({ kind: 'human', platform_user_id: 'user-K9p3Lm', email: 'dana@example.com' });
    expect(eventOf('api_key.created').src).toMatchObject({ country: 'US', ip: '198.51.100.24' });
    // A person acting through their own key: the key and the person both.
    expect(eventOf('api_key.updated').actor).toMatchObject({ kind: 'api_key', api_key_id: 'key_Ua71Lp', platform_user_id: 'user-K9p3Lm', email: 'dana@example.com', service_account_id: null });
    expect(eventOf('api_key.deleted').actor).toMatchObject({ kind: 'service_account', api_key_id: 'key_Sv55Hk', service_account_id: 'svc_acct_Pq7Yt', platform_user_id: null, email: null });
    expect(eventOf('api_key.deleted').src.ip).toBeNull();
    expect(eventOf('tenant.workload_identity.access_token.issued').actor.kind).toBe('unknown');
  });

  it('aligns to OCSF: sign-in to Authentication, grants to User Access Management, the rest to API Activity by verb', () => {
    expect(eventOf('login.succeeded')).toMatchObject({ outcome: 'success', ocsf: { class_uid: 3002, activity_id: 1, type_uid: 300201 } });
    expect(eventOf('login.failed')).toMatchObject({ outcome: 'failure', ocsf: { class_uid: 3002, activity_id: 1, severity_id: 2 }, targets: [] });
    expect(eventOf('logout.succeeded').ocsf.type_uid).toBe(300202);
    expect(eventOf('role.assignment.created')).toMatchObject({
      ocsf: { class_uid: 3005, activity_id: 1 },
      targets: [{ type: 'role', id: 'role_R1' }, { type: 'user', id: 'user-M2n8Ws' }, { type: 'api.project', id: 'proj_Ab12Cd34' }],
    });
    expect(eventOf('role.assignment.deleted').ocsf.type_uid).toBe(300502);
    expect(eventOf('project.updated').ocsf.type_uid).toBe(600303);
    expect(eventOf('project.deleted').ocsf.type_uid).toBe(600304);
    expect(eventOf('resource.deleted').ocsf.type_uid).toBe(600304);
  });

  it('names what each event acted on', () => {
    expect(eventOf('project.created').targets).toEqual([{ type: 'project', id: 'proj_Nw77', name: 'support-bot' }]);
    expect(eventOf('invite.sent').targets).toEqual([{ type: 'invite', id: 'invite-Rt5', name: 'new.hire@example.com' }]);
    expect(eventOf('certificates.activated').targets.map((t) => t.id)).toEqual(['cert_Fk01', 'cert_Fk02']);
    expect(eventOf('ip_allowlist.config.activated').targets).toEqual([{ type: 'ip_allowlist', id: 'ipal_1', name: 'office' }]);
    expect(eventOf('service_account.updated').targets).toEqual([{ type: 'service_account', id: 'svc_acct_Pq7Yt', name: null }]);
    expect(eventOf('workload_identity_provider_mapping.deleted').targets.map((t) => t.type)).toEqual([
      'workload_identity_provider_mapping', 'workload_identity_provider', 'project', 'service_account',
    ]);
    expect(eventOf('role.bound_to_resource').targets).toContainEqual({ type: 'connector', id: 'conn_gdrive', name: 'Google Drive' });
    expect(eventOf('tenant.admin_api_key.created').targets).toEqual([{ type: 'admin_api_key', id: 'key_AdmN1', name: 'siem-reader' }]);
  });

  it('keeps an unknown type as an event: action is the type, fields in unmapped', () => {
    const event = eventOf('agent.deployed');
    expect(event).toMatchObject({ action: 'agent.deployed', source_type: 'agent.deployed', ocsf: { class_uid: 6003, activity_id: 99 }, targets: [] });
    expect(JSON.parse(event.unmapped)['agent.deployed']).toEqual({ id: 'agt_1', model: 'gpt-5' });
  });

  it('returns a typed error for a malformed record instead of throwing', () => {
    const cases: [unknown, RegExp][] = [
      ['not an object', /not a JSON object/],
      [[1, 2], /not a JSON object/],
      [{ type: 'login.succeeded', effective_at: 1 }, /"id"/],
      [{ id: 'a', effective_at: 1 }, /"type"/],
      [{ id: 'a', type: 'login.succeeded', effective_at: '2026-01-01' }, /Unix seconds/],
      [{ id: 'a', type: 'login.succeeded', effective_at: 1767312000, actor: 'dana' }, /actor is not an object/],
    ];
    for (const [record, message] of cases) {
      const result = normaliseOpenAiAudit(record, ctx('openai', 'audit_logs'));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('TETHER_NORMALISE_INVALID');
        expect(result.error.message).toMatch(message);
      }
    }
  });
});
