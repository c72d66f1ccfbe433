// One fully populated sample per record, in the shapes the services produce.
// Every nullable field is set so a round trip exercises every branch.
import type {
  AccessEvent, ConnectorVersion, DeadLetter, DetectState, DeviceVersion, EnrichedAccessEvent, Finding, GroupVersion, IngestCheckpoint,
  NonHumanIdentityVersion, PersonVersion,
} from '#schemas';

const T = Date.UTC(2026, 10, 20, 9, 30, 0);
const rawOpenAi = Buffer.from(
  '{"id":"audit_log-abc","type":"api_key.created","effective_at":1763631000,"actor":{"type":"session","session":{"user":{"id":"user-abc","email":"ana@example.com"},"ip_address":"203.0.113.7","user_agent":"Mozilla/5.0"}},"api_key.created":{"id":"key_abc","data":{"scopes":["/v1/*"]}}}',
);

export const accessEvent: AccessEvent = {
  event_id: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  source: { platform: 'openai', feed: 'audit_logs', source_event_id: 'audit_log-abc', ingested_at: T + 60_000, ingest_version: '1' },
  time: T,
  time_raw: '1763631000',
  action: 'api_key.created',
  source_type: 'api_key.created',
  outcome: 'success',
  ocsf: { category_uid: 3, class_uid: 3005, activity_id: 1, type_uid: 300501, severity_id: 1 },
  actor: {
    kind: 'human', platform_user_id: 'user-abc', email: 'Ana@Example.com', name: 'Ana Lima',
    api_key_id: 'key_parent', service_account_id: 'svc_1', oauth_client_id: 'client-9', session_id: 'sess_1',
  },
  targets: [{ type: 'api_key', id: 'key_abc', name: 'ci key' }, { type: 'project', id: 'proj_1', name: null }],
  scope: { organization_id: 'org-1', project_id: 'proj_1', workspace_id: 'wrkspc_1' },
  src: { ip: '203.0.113.7', user_agent: 'Mozilla/5.0', hostname: 'ana-mbp', device_serial: 'C02XYZ', device_id: 'dev-1', country: 'PT' },
  connector: { provider: 'google', client_id: 'client-9', app_name: 'ChatGPT', scopes: ['drive.readonly', 'gmail.readonly'] },
  raw: rawOpenAi,
  unmapped: '{"api_key.created":{"data":{"scopes":["/v1/*"]}}}',
};

export const enrichedAccessEvent: EnrichedAccessEvent = {
  event: accessEvent,
  person: {
    person_id: 'okta:00u1', email: 'ana@example.com', display_name: 'Ana Lima', department: 'Research', title: 'Engineer',
    manager_person_id: 'okta:00u0', lifecycle_state: 'active', version_valid_from: T - 86_400_000, version_source: 'okta/users',
  },
  device: {
    device_id: 'serial:C02XYZ', serial: 'C02XYZ', hostname: 'ana-mbp', os: 'macOS 15.1', managed: true, compliant: false,
    assigned_person_id: 'okta:00u1', version_valid_from: T - 3_600_000,
  },
  nhi_chain: [
    { kind: 'api_key', id: 'openai:api_key:key_parent', name: 'ci key', status: 'active' },
    { kind: 'project', id: 'openai:project:proj_1', name: 'Research', status: 'active' },
    { kind: 'person', id: 'okta:00u1', name: 'Ana Lima', status: 'active' },
  ],
  attribution: { method: 'api_key_owner', confidence: 0.75, device_method: 'serial', device_confidence: 1, reasons: ['project has no owner'] },
  enrichment: { version: '1', enriched_at: T + 61_000, waited_ms: 12 },
};

const identitySource = { platform: 'okta', feed: 'users', source_time: '2026-11-19T09:30:00.000Z', observed_at: T - 86_000_000 };

export const personVersion: PersonVersion = {
  person_id: 'okta:00u1', record_kind: 'directory', valid_from: T - 86_400_000, source: identitySource, active: true,
  lifecycle_state: 'active', email: 'ana@example.com', display_name: 'Ana Lima', department: 'Research', title: 'Engineer',
  manager_person_id: 'okta:00u0',
  aliases: [{ kind: 'upn', value: 'ana@corp.example.com' }, { kind: 'employee_number', value: '1042' }],
  platform_role: null,
  groups: [{ group_id: '6c5bb468-14b2-4183-baf2-06d523e03bd3', display_name: 'Research' }],
  directory_record: '{"resource":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"2819c223","userName":"ana@example.com"},"deleted":false}',
};

export const groupVersion: GroupVersion = {
  group_id: '6c5bb468-14b2-4183-baf2-06d523e03bd3', valid_from: T - 86_400_000, source: { ...identitySource, platform: 'scim', feed: 'scim' },
  active: true, display_name: 'Research', external_id: '00g1', member_person_ids: ['okta:00u1'],
  directory_record: '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"id":"6c5bb468-14b2-4183-baf2-06d523e03bd3","displayName":"Research"}',
};

export const deviceVersion: DeviceVersion = {
  device_id: 'serial:C02XYZ', valid_from: T - 3_600_000, source: { ...identitySource, platform: 'fleet', feed: 'hosts' }, active: true,
  serial: 'C02XYZ', hostname: 'ana-mbp', os: 'macOS 15.1', managed: true, compliant: null, assigned_person_id: 'okta:00u1',
  assigned_email: 'ana@example.com', ip_addresses: ['10.0.0.5', '203.0.113.7'],
};

export const nhiVersion: NonHumanIdentityVersion = {
  nhi_id: 'openai:api_key:key_abc', kind: 'api_key', platform: 'openai', platform_id: 'key_abc', valid_from: T,
  source: { ...identitySource, platform: 'openai', feed: 'project_api_keys' }, active: true, status: 'active', name: 'ci key',
  parent_nhi_id: 'openai:project:proj_1', owner_email: 'ana@example.com', owner_platform_user_id: 'openai:user-abc',
  created_at: T, last_used_at: T + 1_000, redacted_value: 'sk-abc...xyz',
};

export const connectorVersion: ConnectorVersion = {
  connector_id: 'google:client-9:okta:00u2', provider: 'google', client_id: 'client-9', app_name: 'ChatGPT', valid_from: T - 1_000,
  source: { ...identitySource, platform: 'google', feed: 'token' }, active: true, status: 'granted',
  granted_by_email: 'bo@example.com', granted_by_platform_user_id: 'google:1077', scopes: ['drive.readonly'],
  ai_classification: 'ai_tool', sanctioned: false,
  granted_at: null, revoked_at: null, last_used_at: null, ai_tool_id: null, catalogue_version: null, grant_subject: null,
};

export const deadLetter: DeadLetter = {
  stage: 'normalising', service: 'ingest-ai', source: 'openai/audit_logs', reason_code: 'TETHER_NORMALISE_INVALID',
  message: 'effective_at is not a number', original: Buffer.from('{"id":"audit_log-bad","effective_at":"x"}'),
  original_topic: 'tether.access.raw', original_partition: 2, original_offset: 991, time: T,
};

export const checkpoint: IngestCheckpoint = {
  checkpoint_id: 'openai/audit_logs/poll', cursor: '{"after":"audit_log-abc"}', updated_at: T, records_total: 1200,
};

export const finding: Finding = {
  finding_id: '4f0c2a9e1b7d3c5a8e6f0b2d4a6c8e0f', rule_id: 'tether.key-used-after-owner-left', rule_version: 1,
  rule_title: 'Key used after its owner left', severity: 'high', tags: ['attack.t1078.004', 'owasp.nhi.nhi1'], kind: 'match',
  event_ids: ['6b3f0d2c9a8e7f61c5d4b3a291807f6e'], platform: 'openai', person_id: 'okta:00u_ana', person_email: 'ana@example.com',
  nhi_id: 'openai:api_key:key_abc', nhi_kind: 'api_key', device_id: 'fleet:42', connector_client_id: 'chatgpt.apps.googleusercontent.com',
  connector_app_name: 'ChatGPT', summary: 'api_key openai:api_key:key_abc used after its owner ana@example.com left',
  group_key: '["okta:00u_ana"]', dedup_key: 'tether.key-used-after-owner-left|6b3f0d2c9a8e7f61c5d4b3a291807f6e',
  first_event_time: T, last_event_time: T + 1_000, emitted_at: T + 5_000, detector_version: 'detect-1',
};

export const detectState: DetectState = {
  state_key: 'tether.api-key-burst|threshold|9a8e7f61c5d4b3a2', rule_id: 'tether.api-key-burst', rule_version: 1, kind: 'threshold',
  group_key: '["okta:00u_ana"]',
  entries: [{ event_ids: ['6b3f0d2c9a8e7f61c5d4b3a291807f6e'], time: T, last_time: T, step: 0, value: '203.0.113.0/24' }],
  applied: [{ topic: 'tether.access.enriched', partition: 1, offset: 4711 }],
  updated_at: T + 5_000,
};
