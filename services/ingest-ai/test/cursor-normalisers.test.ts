import { describe, expect, it } from 'vitest';
import { deriveEventId, type AccessEvent } from '#schemas';
import { INGEST_VERSION } from '../src/normalise/common.ts';
import { normaliseCursorAudit } from '../src/platforms/cursor/audit.ts';
import { CURSOR_AUDIT_EVENT_TYPES, CURSOR_SECONDARY_EVENT_TYPES } from '../src/platforms/cursor/event-types.ts';
import { normaliseCursorUsage, usageEventId } from '../src/platforms/cursor/usage.ts';
import { INGESTED_AT, ctx, fixture, fixtureLines } from './fixtures.ts';

const lines = fixtureLines('cursor', 'audit-logs.jsonl');

function audit(record: unknown, raw: Buffer | string = JSON.stringify(record), team: string | null = '424242'): AccessEvent {
  const result = normaliseCursorAudit(record, ctx('cursor', 'audit_logs', raw, team));
  if (!result.ok) throw result.error;
  return result.event;
}

function eventOf(type: string, nth = 0): AccessEvent {
  const line = lines.filter((l) => l.record.event_type === type)[nth];
  if (!line) throw new Error(`no fixture for ${type}`);
  return audit(line.record, line.raw);
}

describe('Cursor audit normaliser', () => {
  it('maps the documented API example to a whole AccessEvent, team id from the page', () => {
    const page = fixture<{ events: unknown[] }>('cursor', 'audit-logs-page.json');
    const raw = JSON.stringify(page.events[0]);
    expect(audit(page.events[0], raw)).toEqual({
      event_id: deriveEventId('cursor', 'audit_logs', 'evt_f4k3a1'),
      source: { platform: 'cursor', feed: 'audit_logs', source_event_id: 'evt_f4k3a1', ingested_at: INGESTED_AT, ingest_version: INGEST_VERSION },
      time: Date.parse('2026-02-10T14:03:11.000Z'),
      time_raw: '2026-02-10T14:03:11.000Z',
      action: 'team_api_key.created',
      source_type: 'team_api_key',
      outcome: 'success',
      ocsf: { category_uid: 6, class_uid: 6003, activity_id: 1, type_uid: 600301, severity_id: 1 },
      actor: { kind: 'human', platform_user_id: null, email: 'admin@example.com', name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
      targets: [{ type: 'api_key', id: 'ci-ingest', name: 'ci-ingest' }],
      scope: { organization_id: '424242', project_id: null, workspace_id: null },
      src: { ip: '203.0.113.18', user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw: Buffer.from(raw),
      unmapped: JSON.stringify({ event_data: { action: 'create', api_key_name: 'ci-ingest' } }),
    });
  });

  it('normalises a fixture of every documented and secondary type, each to object.verb', () => {
    for (const type of [...CURSOR_AUDIT_EVENT_TYPES, ...CURSOR_SECONDARY_EVENT_TYPES]) {
      const event = eventOf(type);
      expect(event.source_type).toBe(type);
      expect(event.action, type).toMatch(/^[a-z_]+\.[a-z_]+$/);
    }
    for (const { record, raw } of lines) expect(audit(record, raw).raw.equals(raw)).toBe(true);
  });

  it('reads sign-in outcome and user agent from event_data', () => {
    expect(eventOf('login', 0)).toMatchObject({ action: 'login.succeeded', outcome: 'success', ocsf: { type_uid: 300201 }, src: { user_agent: 'Cursor/1.9.0', ip: '198.51.100.61' } });
    expect(eventOf('login', 1)).toMatchObject({ action: 'login.failed', outcome: 'failure', ocsf: { severity_id: 2 } });
    expect(eventOf('logout').ocsf.type_uid).toBe(300202);
  });

  it('refines the verb with the sub-action and names the target', () => {
    expect(eventOf('team_api_key', 1)).toMatchObject({ action: 'team_api_key.deleted', ocsf: { activity_id: 4 }, targets: [{ type: 'api_key', id: 'old-ci' }] });
    expect(eventOf('user_api_key')).toMatchObject({ action: 'user_api_key.created', targets: [{ type: 'user_api_key', id: 'sam-cli' }] });
    expect(eventOf('add_user')).toMatchObject({ action: 'user.added', targets: [{ type: 'user', id: 'new.dev@example.com' }] });
    expect(eventOf('add_user_to_directory_group')).toMatchObject({
      action: 'directory_group.member_added',
      ocsf: { class_uid: 3005, activity_id: 1 },
      targets: [{ type: 'user', id: 'sam@example.com' }, { type: 'directory_group', id: 'platform-eng' }],
    });
    expect(eventOf('team_repo')).toMatchObject({ action: 'team_repo.created', targets: [{ type: 'repo', id: 'https://github.com/acme/app' }] });
    expect(eventOf('service_account').targets).toEqual([{ type: 'service_account', id: 'sa_f4k3b7', name: 'Nightly CI Agent' }]);
    expect(eventOf('team_settings').action).toBe('team_settings.updated');
  });

  it('treats "unknown" email and IP as absent, and a blocked git scope check as a failure', () => {
    expect(eventOf('protected_git_scope_access_check')).toMatchObject({
      outcome: 'failure',
      action: 'protected_git_scope.access_checked',
      actor: { kind: 'unknown', email: null },
      src: { ip: null },
    });
  });

  it('keeps an unknown type as an event: action is the type, fields in unmapped', () => {
    const event = eventOf('agent_review_requested');
    expect(event).toMatchObject({ action: 'agent_review_requested', ocsf: { activity_id: 99 }, actor: { email: 'sam@example.com' } });
    expect(JSON.parse(event.unmapped)).toEqual({ event_data: { pr: 42 } });
  });

  it('returns a typed error for a malformed record', () => {
    const good = lines[0]!.record;
    for (const record of ['x', { ...good, event_id: '' }, { ...good, event_type: null }, { ...good, timestamp: 'soon' }]) {
      expect(normaliseCursorAudit(record, ctx('cursor', 'audit_logs'))).toMatchObject({ ok: false, error: { code: 'TETHER_NORMALISE_INVALID' } });
    }
  });
});

describe('Cursor usage event normaliser', () => {
  const events = fixture<{ usageEvents: Record<string, unknown>[] }>('cursor', 'usage-events-page.json').usageEvents;

  function usage(record: Record<string, unknown>): AccessEvent {
    const result = normaliseCursorUsage(record, ctx('cursor', 'usage_events', JSON.stringify(record), '424242'));
    if (!result.ok) throw result.error;
    return result.event;
  }

  it('a service account / cloud agent request: the account acts, its mailbox is not a person', () => {
    const event = usage(events[0]!);
    expect(event).toMatchObject({
      time: 1770732000123,
      time_raw: '1770732000123',
      action: 'model.invoked',
      source_type: 'usage_event',
      actor: { kind: 'service_account', service_account_id: 'sa_f4k3b7', name: 'Nightly CI Agent', email: null },
      targets: [{ type: 'model', id: 'claude-4.5-sonnet' }, { type: 'cloud_agent', id: 'bc_f4k3c9' }],
      scope: { organization_id: '424242' },
    });
    expect(JSON.parse(event.unmapped)).toMatchObject({ userEmail: 'ci-bot@example.com', isHeadless: true, chargedCents: 1.55 });
  });

  it('a person’s request is attributed by email', () => {
    expect(usage(events[1]!).actor).toMatchObject({ kind: 'human', email: 'sam@example.com', service_account_id: null });
  });

  it('has no source id, so a content hash is the dedup key: stable, and different for different requests', () => {
    expect(usage(events[0]!).source.source_event_id).toBe(usageEventId(events[0]!));
    expect(usageEventId({ ...events[0]! })).toBe(usageEventId(events[0]!));
    expect(usageEventId({ ...events[0]!, chargedCents: 1.56 })).not.toBe(usageEventId(events[0]!));
  });

  it('returns a typed error for a bad timestamp or a record with no actor', () => {
    expect(normaliseCursorUsage({ ...events[1]!, timestamp: '2026-02-10' }, ctx('cursor', 'usage_events'))).toMatchObject({ ok: false, error: { code: 'TETHER_NORMALISE_INVALID' } });
    expect(normaliseCursorUsage({ timestamp: '1770731000456', model: 'gpt-5' }, ctx('cursor', 'usage_events'))).toMatchObject({ ok: false });
  });
});
