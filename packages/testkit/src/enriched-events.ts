// Enriched access events as the enrichment stream produces them, built
// around source payloads in their real formats (OpenAI audit log records,
// Google Workspace token activities, a Cursor CSV export line). Shared by the
// sink's tests and the benchmarks (which must not import test folders).
import { deriveEventId, type EnrichedAccessEvent } from '#schemas';

const T0 = Date.UTC(2026, 0, 2, 0, 0, 0); // 1767312000 s, as in the OpenAI docs examples

/** OpenAI api_key.created by a dashboard session: person and device resolved, no chain. */
export function humanKeyCreated(): EnrichedAccessEvent {
  const record = {
    id: 'audit_log-7Qm2xZ', type: 'api_key.created', effective_at: 1767312000,
    project: { id: 'proj_Ab12Cd34', name: 'billing-bot' },
    actor: { type: 'session', session: { user: { id: 'user-K9p3Lm', email: 'Dana@Example.com' }, ip_address: '198.51.100.24', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', ja3: 'a0e9f5d64349fb13191bc781f81f42e1' } },
    'api_key.created': { id: 'key_Zx81Qw', data: { scopes: ['api.model.request'] } },
  };
  return {
    event: {
      event_id: deriveEventId('openai', 'audit_logs', record.id),
      source: { platform: 'openai', feed: 'audit_logs', source_event_id: record.id, ingested_at: T0 + 65_123, ingest_version: 'ingest-ai/0.1.0' },
      time: T0,
      time_raw: '1767312000',
      action: 'api_key.created',
      source_type: 'api_key.created',
      outcome: 'success',
      ocsf: { category_uid: 3, class_uid: 3005, activity_id: 1, type_uid: 300501, severity_id: 1 },
      actor: {
        kind: 'human', platform_user_id: 'user-K9p3Lm', email: 'Dana@Example.com', name: null,
        api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null,
      },
      targets: [
        { type: 'api_key', id: 'key_Zx81Qw', name: null },
        { type: 'project', id: 'proj_Ab12Cd34', name: 'billing-bot' },
      ],
      scope: { organization_id: 'org-Tq4Yv', project_id: 'proj_Ab12Cd34', workspace_id: null },
      src: { ip: '198.51.100.24', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw: Buffer.from(JSON.stringify(record)),
      unmapped: JSON.stringify({ 'actor.session.ja3': 'a0e9f5d64349fb13191bc781f81f42e1' }),
    },
    person: {
      person_id: '00u1dana', email: 'dana@example.com', display_name: 'Dana Núñez', department: 'Finance', title: 'Analyst',
      manager_person_id: '00u1boss', lifecycle_state: 'active', version_valid_from: T0 - 86_400_000 * 30, version_source: 'okta/users',
    },
    device: {
      device_id: 'dev-C02XK1ABJGH5', serial: 'C02XK1ABJGH5', hostname: 'dana-mbp', os: 'macOS 15.2', managed: true,
      compliant: null, assigned_person_id: '00u1dana', version_valid_from: T0 - 86_400_000,
    },
    nhi_chain: [],
    attribution: { method: 'direct_email', confidence: 0.9, device_method: 'ip_observation', device_confidence: 0.6, reasons: [] },
    enrichment: { version: 'enrich/0.1.0', enriched_at: T0 + 66_001, waited_ms: 0 },
  };
}

/** A project archived by a service account's key: person resolved through the owner chain. */
export function serviceAccountArchive(): EnrichedAccessEvent {
  const record = {
    id: 'audit_log-4Rt9Vb', type: 'project.archived', effective_at: 1767315600,
    actor: { type: 'api_key', api_key: { id: 'key_Sv55Hk', type: 'service_account', service_account: { id: 'svc_acct_Pq7Yt' } } },
    'project.archived': { id: 'proj_Ab12Cd34' },
  };
  return {
    event: {
      event_id: deriveEventId('openai', 'audit_logs', record.id),
      source: { platform: 'openai', feed: 'audit_logs', source_event_id: record.id, ingested_at: T0 + 3_600_000 + 40_000, ingest_version: 'ingest-ai/0.1.0' },
      time: T0 + 3_600_000,
      time_raw: '1767315600',
      action: 'project.archived',
      source_type: 'project.archived',
      outcome: 'success',
      ocsf: { category_uid: 6, class_uid: 6003, activity_id: 4, type_uid: 600304, severity_id: 3 },
      actor: {
        kind: 'service_account', platform_user_id: null, email: null, name: null,
        api_key_id: 'key_Sv55Hk', service_account_id: 'svc_acct_Pq7Yt', oauth_client_id: null, session_id: null,
      },
      targets: [{ type: 'project', id: 'proj_Ab12Cd34', name: null }],
      scope: { organization_id: 'org-Tq4Yv', project_id: 'proj_Ab12Cd34', workspace_id: null },
      src: { ip: null, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw: Buffer.from(JSON.stringify(record)),
      unmapped: '{}',
    },
    person: {
      person_id: '00u1dana', email: 'dana@example.com', display_name: 'Dana Núñez', department: 'Finance', title: null,
      manager_person_id: null, lifecycle_state: 'inactive', version_valid_from: T0 + 1_000, version_source: 'okta/system_log',
    },
    device: null,
    nhi_chain: [
      { kind: 'api_key', id: 'openai:api_key:key_Sv55Hk', name: 'deploy key', status: 'active' },
      { kind: 'service_account', id: 'openai:service_account:svc_acct_Pq7Yt', name: 'billing-deployer', status: 'active' },
      { kind: 'project', id: 'openai:project:proj_Ab12Cd34', name: null, status: 'archived' },
      { kind: 'person', id: '00u1dana', name: 'Dana Núñez', status: 'inactive' },
    ],
    attribution: { method: 'service_account_owner', confidence: 0.75, device_method: 'unresolved', device_confidence: 0, reasons: ['api key actors carry no IP'] },
    enrichment: { version: 'enrich/0.1.0', enriched_at: T0 + 3_700_000, waited_ms: 1_250 },
  };
}

/** A Google Workspace token activity: ChatGPT connector authorised by a user; chain holds the connector. */
export function connectorAuthorize(): EnrichedAccessEvent {
  const record = {
    kind: 'admin#reports#activity',
    id: { time: '2026-01-02T02:00:00.412Z', uniqueQualifier: '-3958011736488591377', applicationName: 'token', customerId: 'C03az79cb' },
    actor: { email: 'lee@example.com', profileId: '114511148195445455645' },
    ipAddress: '203.0.113.9',
    events: [{ type: 'auth', name: 'authorize', parameters: [
      { name: 'client_id', value: '1009874253871-chatgpt.apps.googleusercontent.com' },
      { name: 'app_name', value: 'ChatGPT' },
      { name: 'client_type', value: 'WEB' },
      { name: 'scope', multiValue: ['https://www.googleapis.com/auth/drive.readonly', 'openid', 'email'] },
    ] }],
  };
  const connectorId = 'google:1009874253871-chatgpt.apps.googleusercontent.com:00u2lee';
  return {
    event: {
      event_id: deriveEventId('google', 'token', record.id.uniqueQualifier),
      source: { platform: 'google', feed: 'token', source_event_id: record.id.uniqueQualifier, ingested_at: T0 + 7_300_000, ingest_version: 'ingest-grants/0.1.0' },
      time: T0 + 7_200_412,
      time_raw: record.id.time,
      action: 'oauth.grant',
      source_type: 'authorize',
      outcome: 'success',
      ocsf: { category_uid: 3, class_uid: 3005, activity_id: 99, type_uid: 300599, severity_id: 2 },
      actor: {
        kind: 'human', platform_user_id: 'google:114511148195445455645', email: 'lee@example.com', name: null,
        api_key_id: null, service_account_id: null, oauth_client_id: '1009874253871-chatgpt.apps.googleusercontent.com', session_id: null,
      },
      targets: [{ type: 'connector', id: connectorId, name: 'ChatGPT' }],
      scope: { organization_id: 'C03az79cb', project_id: null, workspace_id: null },
      src: { ip: '203.0.113.9', user_agent: null, hostname: null, device_serial: null, device_id: null, country: 'NL' },
      connector: {
        provider: 'google', client_id: '1009874253871-chatgpt.apps.googleusercontent.com', app_name: 'ChatGPT',
        scopes: ['https://www.googleapis.com/auth/drive.readonly', 'openid', 'email'],
      },
      raw: Buffer.from(JSON.stringify(record)),
      unmapped: JSON.stringify({ client_type: 'WEB' }),
    },
    person: {
      person_id: '00u2lee', email: 'lee@example.com', display_name: 'Lee 李', department: null, title: null,
      manager_person_id: null, lifecycle_state: 'active', version_valid_from: T0 - 1, version_source: 'google/users',
    },
    device: {
      device_id: 'dev-PF3ABC12', serial: 'PF3ABC12', hostname: 'LEE-THINKPAD', os: 'Windows 11', managed: false,
      compliant: false, assigned_person_id: null, version_valid_from: T0 - 5_000,
    },
    nhi_chain: [
      { kind: 'connector', id: connectorId, name: 'ChatGPT', status: 'granted' },
      { kind: 'person', id: '00u2lee', name: null, status: null },
    ],
    attribution: { method: 'connector_grant', confidence: 1, device_method: 'ip_observation', device_confidence: 0.3, reasons: [] },
    enrichment: { version: 'enrich/0.1.0', enriched_at: T0 + 7_300_500, waited_ms: 0 },
  };
}

/** A Cursor usage line from a Windows-1252 CSV export (not UTF-8) whose key no one owns: unattributed. */
export function unattributedCsvLine(): EnrichedAccessEvent {
  const raw = Buffer.concat([Buffer.from('2026-01-02T03:00:00Z,key_9Jf2,Caf'), Buffer.from([0xe9]), Buffer.from(' build,chat,412\r\n')]);
  return {
    event: {
      event_id: deriveEventId('cursor', 'usage_csv', 'row-17'),
      source: { platform: 'cursor', feed: 'usage_csv', source_event_id: 'row-17', ingested_at: T0 + 11_000_000, ingest_version: 'ingest-ai/0.1.0' },
      time: T0 + 10_800_000,
      time_raw: '2026-01-02T03:00:00Z',
      action: 'model.request',
      source_type: 'chat',
      outcome: 'unknown',
      ocsf: { category_uid: 6, class_uid: 6003, activity_id: 0, type_uid: 600300, severity_id: 1 },
      actor: {
        kind: 'api_key', platform_user_id: null, email: null, name: null,
        api_key_id: 'key_9Jf2', service_account_id: null, oauth_client_id: null, session_id: null,
      },
      targets: [],
      scope: { organization_id: null, project_id: null, workspace_id: null },
      src: { ip: null, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw,
      unmapped: JSON.stringify({ tokens: 412 }),
    },
    person: null,
    device: null,
    nhi_chain: [{ kind: 'api_key', id: 'cursor:api_key:key_9Jf2', name: null, status: null }],
    attribution: { method: 'unresolved', confidence: 0, device_method: 'unresolved', device_confidence: 0, reasons: ['api key has no known owner', 'no device hint'] },
    enrichment: { version: 'enrich/0.1.0', enriched_at: T0 + 11_000_100, waited_ms: 30_000 },
  };
}

export function sampleEvents(): EnrichedAccessEvent[] {
  return [humanKeyCreated(), serviceAccountArchive(), connectorAuthorize(), unattributedCsvLine()];
}

/**
 * The n-th of many distinct events (for load and crash tests): the sample
 * shapes in turn, each with its own source id, time and people.
 */
export function numberedEvent(n: number, base: EnrichedAccessEvent[] = sampleEvents()): EnrichedAccessEvent {
  const template = base[n % base.length]!;
  const sourceEventId = `${template.event.source.source_event_id}#${n}`;
  const person = template.person && { ...template.person, person_id: `${template.person.person_id}-${n % 500}` };
  return {
    ...template,
    event: {
      ...template.event,
      event_id: deriveEventId(template.event.source.platform, template.event.source.feed, sourceEventId),
      source: { ...template.event.source, source_event_id: sourceEventId },
      time: template.event.time + n * 1_000,
    },
    person,
  };
}
