// Records as the enrichment stream and identity sources produce them, built
// around source payloads in their real formats. The enriched events live in
// #testkit (the benchmarks use them too).
import type { ConnectorVersion, DeadLetter, DeviceVersion, NonHumanIdentityVersion, PersonVersion } from '#schemas';

export {
  connectorAuthorize, humanKeyCreated, numberedEvent, sampleEvents, serviceAccountArchive, unattributedCsvLine,
} from '#testkit';

const T0 = Date.UTC(2026, 0, 2, 0, 0, 0); // 1767312000 s, as in the OpenAI docs examples

export function personVersion(): PersonVersion {
  return {
    person_id: '00u1dana', record_kind: 'directory', valid_from: T0 + 1_000,
    source: { platform: 'okta', feed: 'system_log', source_time: '2026-01-02T00:00:01.000Z', observed_at: T0 + 60_000 },
    active: false, lifecycle_state: 'inactive', email: 'dana@example.com', display_name: 'Dana Núñez', department: 'Finance',
    title: null, manager_person_id: '00u1boss',
    aliases: [{ kind: 'email', value: 'dana.nunez@example.com' }, { kind: 'platform_user_id', value: 'openai:user-K9p3Lm' }],
    platform_role: null,
    groups: null,
    directory_record: null,
  };
}

export function deviceVersion(): DeviceVersion {
  return {
    device_id: 'dev-C02XK1ABJGH5', valid_from: T0 - 86_400_000,
    source: { platform: 'fleet', feed: 'hosts', source_time: null, observed_at: T0 - 86_000_000 },
    active: true, serial: 'C02XK1ABJGH5', hostname: 'dana-mbp', os: 'macOS 15.2', managed: true, compliant: null,
    assigned_person_id: '00u1dana', assigned_email: 'dana@example.com', ip_addresses: ['10.0.4.17', '198.51.100.24'],
  };
}

export function nhiVersion(): NonHumanIdentityVersion {
  return {
    nhi_id: 'openai:api_key:key_Sv55Hk', kind: 'api_key', platform: 'openai', platform_id: 'key_Sv55Hk', valid_from: T0 - 3_600_000,
    source: { platform: 'openai', feed: 'project_api_keys', source_time: '1767308400', observed_at: T0 },
    active: true, status: 'active', name: 'deploy key', parent_nhi_id: 'openai:service_account:svc_acct_Pq7Yt',
    owner_email: null, owner_platform_user_id: null, created_at: T0 - 3_600_000, last_used_at: null, redacted_value: 'sk-...QwEr',
  };
}

export function connectorVersion(active = true, validFrom = T0 + 7_200_412): ConnectorVersion {
  return {
    connector_id: 'google:1009874253871-chatgpt.apps.googleusercontent.com:00u2lee', provider: 'google',
    client_id: '1009874253871-chatgpt.apps.googleusercontent.com', app_name: 'ChatGPT', valid_from: validFrom,
    source: { platform: 'google', feed: 'token', source_time: '2026-01-02T02:00:00.412Z', observed_at: validFrom + 90_000 },
    active, status: active ? 'granted' : 'revoked', granted_by_email: 'lee@example.com', granted_by_platform_user_id: 'google:114511148195445455645',
    scopes: ['https://www.googleapis.com/auth/drive.readonly', 'openid', 'email'], ai_classification: 'ai_tool', sanctioned: false,
    granted_at: null, revoked_at: null, last_used_at: null, ai_tool_id: null, catalogue_version: null, grant_subject: null,
  };
}

export function deadLetter(): DeadLetter {
  return {
    stage: 'normalising', service: 'ingest-ai', source: 'openai/audit_logs', reason_code: 'TETHER_NORMALISE_INVALID',
    message: 'effective_at is not a number', original: Buffer.from('{"id":"audit_log-x","effective_at":"soon"}'),
    original_topic: null, original_partition: null, original_offset: null, time: T0 + 5_000,
  };
}
