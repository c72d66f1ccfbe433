// A small world for the query layer's tests, built as the pipeline's own
// records (PersonVersion, NonHumanIdentityVersion, ConnectorVersion,
// EnrichedAccessEvent) and mapped to rows with the sink's row functions, so
// the seeded tables hold exactly what the sink would write.
//
// Cast: alice (renamed alice@ -> alice.smith@ on Jan 10), bob (left Jan 15),
// old carol (left Jan 5) whose email the new carol got on Jan 20, erin (out
// Jan 8-12, back since), dave. Keys, a service account and connectors owned
// by them; events around those dates.
import {
  accessEventRow, connectorVersionRow, createClickHouse, deviceVersionRow, migrate, nhiVersionRow, personVersionRow, TABLES,
  type ClickHouse,
} from '#clickhouse';
import { createLogger } from '#log';
import type {
  ChainLink, ConnectorVersion, DeviceAtTime, DeviceVersion, EnrichedAccessEvent, NonHumanIdentityVersion, PersonAtTime,
  PersonVersion,
} from '#schemas';
import { testConfig, uniqueName } from '#testkit';

export const t = (iso: string): number => Date.parse(iso);
const SRC = (platform: string, feed: string, at: number) => ({ platform, feed, source_time: null, observed_at: at });

export function person(id: string, at: string, fields: Partial<PersonVersion> & { email: string | null }): PersonVersion {
  const active = fields.active ?? true;
  return {
    person_id: id, record_kind: 'directory', valid_from: t(at), source: SRC('okta', 'users', t(at) + 60_000),
    active, lifecycle_state: active ? 'active' : 'inactive', display_name: null, department: 'Engineering', title: null,
    manager_person_id: null, aliases: [], platform_role: null, groups: null, directory_record: null, ...fields,
  };
}

export const PERSONS: PersonVersion[] = [
  person('okta:00u_alice', '2026-01-01T00:00:00Z', { email: 'alice@acme.test', display_name: 'Alice Jones', aliases: [{ kind: 'platform_user_id', value: 'openai:user-alice' }] }),
  person('okta:00u_alice', '2026-01-10T00:00:00Z', { email: 'alice.smith@acme.test', display_name: 'Alice Smith', aliases: [{ kind: 'platform_user_id', value: 'openai:user-alice' }] }),
  person('okta:00u_bob', '2026-01-01T00:00:00Z', { email: 'bob@acme.test', display_name: 'Bob', aliases: [{ kind: 'platform_user_id', value: 'openai:user-bob' }] }),
  person('okta:00u_bob', '2026-01-15T00:00:00Z', { email: 'bob@acme.test', display_name: 'Bob', active: false }),
  // A later edit while gone: he still left on Jan 15.
  person('okta:00u_bob', '2026-01-20T00:00:00Z', { email: 'bob@acme.test', display_name: 'Bob', active: false, title: 'Former' }),
  person('okta:00u_carol1', '2026-01-01T00:00:00Z', { email: 'carol@acme.test', display_name: 'Carol One' }),
  person('okta:00u_carol1', '2026-01-05T00:00:00Z', { email: 'carol@acme.test', display_name: 'Carol One', active: false }),
  person('okta:00u_carol2', '2026-01-20T00:00:00Z', { email: 'carol@acme.test', display_name: 'Carol Two' }),
  person('okta:00u_erin', '2026-01-01T00:00:00Z', { email: 'erin@acme.test', display_name: 'Erin' }),
  person('okta:00u_erin', '2026-01-08T00:00:00Z', { email: 'erin@acme.test', display_name: 'Erin', active: false }),
  person('okta:00u_erin', '2026-01-12T00:00:00Z', { email: 'erin@acme.test', display_name: 'Erin' }),
  person('okta:00u_dave', '2026-01-01T00:00:00Z', { email: 'dave@acme.test', display_name: 'Dave' }),
  // Bob's OpenAI account: a platform account, not a directory person.
  { ...person('openai:user-bob', '2026-01-02T00:00:00Z', { email: 'bob@acme.test' }), record_kind: 'platform_account', source: SRC('openai', 'users', t('2026-01-02T00:00:00Z')) },
];

function device(id: string, managed: boolean, assigned: string | null): DeviceVersion {
  return {
    device_id: id, valid_from: t('2026-01-01T00:00:00Z'), source: SRC('fleet', 'hosts', t('2026-01-01T00:00:00Z')), active: true,
    serial: `SN-${id}`, hostname: `${id}.acme.test`, os: managed ? 'macOS 15.5' : 'Windows 11', managed, compliant: managed ? true : null,
    assigned_person_id: assigned, assigned_email: null, ip_addresses: [],
  };
}

export const DEVICES: DeviceVersion[] = [device('dev-mac-1', true, 'okta:00u_alice'), device('dev-mac-2', true, 'okta:00u_bob'), device('dev-byod-9', false, null)];

export function nhi(id: string, at: string, fields: Partial<NonHumanIdentityVersion>): NonHumanIdentityVersion {
  const [platform = '', kind = '', ...rest] = id.split(':');
  const active = fields.active ?? true;
  return {
    nhi_id: id, kind, platform, platform_id: rest.join(':'), valid_from: t(at), source: SRC(platform, 'inventory', t(at)), active,
    status: active ? 'active' : 'revoked', name: rest.join(':'), parent_nhi_id: null, owner_email: null, owner_platform_user_id: null,
    created_at: t(at), last_used_at: null, redacted_value: null, ...fields,
  };
}

export const NHIS: NonHumanIdentityVersion[] = [
  nhi('openai:project:proj_1', '2026-01-01T00:00:00Z', {}),
  nhi('openai:api_key:key_bob', '2026-01-02T09:00:00Z', { parent_nhi_id: 'openai:project:proj_1', owner_email: 'Bob@acme.test', owner_platform_user_id: 'openai:user-bob' }),
  nhi('openai:service_account:svc_bob', '2026-01-02T10:00:00Z', { parent_nhi_id: 'openai:project:proj_1', owner_email: 'bob@acme.test' }),
  // Owned through its service account.
  nhi('openai:api_key:key_sa', '2026-01-02T11:00:00Z', { parent_nhi_id: 'openai:service_account:svc_bob', last_used_at: t('2026-01-19T00:00:00Z') }),
  // Created by the first carol: her leaving orphans it although carol@ is active again.
  nhi('openai:api_key:key_carol_old', '2026-01-03T00:00:00Z', { parent_nhi_id: 'openai:project:proj_1', owner_email: 'carol@acme.test' }),
  // Created under alice's old email: she is still here.
  nhi('anthropic:api_key:key_alice', '2026-01-04T00:00:00Z', { owner_email: 'alice@acme.test' }),
  nhi('openai:api_key:key_bob_old', '2026-01-02T00:00:00Z', { owner_email: 'bob@acme.test' }),
  nhi('openai:api_key:key_bob_old', '2026-01-14T00:00:00Z', { owner_email: 'bob@acme.test', active: false, created_at: t('2026-01-02T00:00:00Z') }),
  nhi('openai:api_key:key_erin', '2026-01-02T00:00:00Z', { owner_email: 'erin@acme.test' }),
];

export function connector(id: string, at: string, fields: Partial<ConnectorVersion>): ConnectorVersion {
  const [provider = '', client = ''] = id.split(':');
  const active = fields.active ?? true;
  return {
    connector_id: id, provider, client_id: client, app_name: client, valid_from: t(at), source: SRC(provider, 'token_audit', t(at)), active,
    status: active ? 'granted' : 'revoked', granted_by_email: null, granted_by_platform_user_id: null, scopes: [],
    ai_classification: 'unknown', sanctioned: null,
    granted_at: null, revoked_at: null, last_used_at: null, ai_tool_id: null, catalogue_version: null, grant_subject: null, ...fields,
  };
}

const CHATGPT_GRANT = { granted_by_email: 'bob@acme.test', app_name: 'ChatGPT', scopes: ['https://www.googleapis.com/auth/drive.readonly', 'https://www.googleapis.com/auth/gmail.readonly'], ai_classification: 'ai_tool', sanctioned: false };
const CLAUDE_GRANT = { granted_by_email: 'alice@acme.test', app_name: 'Claude', scopes: ['https://www.googleapis.com/auth/drive.readonly'], ai_classification: 'ai_tool', sanctioned: true };

export const CONNECTORS: ConnectorVersion[] = [
  connector('google:chatgpt-client:bob@acme.test', '2026-01-03T00:00:00Z', CHATGPT_GRANT),
  connector('google:claude-client:alice@acme.test', '2026-01-04T00:00:00Z', CLAUDE_GRANT),
  connector('google:claude-client:alice@acme.test', '2026-01-12T00:00:00Z', { ...CLAUDE_GRANT, active: false }),
  connector('google:calendly-client:alice.smith@acme.test', '2026-01-11T00:00:00Z', { granted_by_email: 'alice.smith@acme.test', app_name: 'Calendly', scopes: ['calendar'], ai_classification: 'other' }),
];

// ---------------------------------------------------------------- events ---

export const personAt = (id: string, email: string, state: string, since: string): PersonAtTime => ({
  person_id: id, email, display_name: null, department: 'Engineering', title: null, manager_person_id: null, lifecycle_state: state,
  version_valid_from: t(since), version_source: 'okta/users',
});
const ALICE_OLD = personAt('okta:00u_alice', 'alice@acme.test', 'active', '2026-01-01T00:00:00Z');
const ALICE = personAt('okta:00u_alice', 'alice.smith@acme.test', 'active', '2026-01-10T00:00:00Z');
const BOB = personAt('okta:00u_bob', 'bob@acme.test', 'active', '2026-01-01T00:00:00Z');
const BOB_GONE = personAt('okta:00u_bob', 'bob@acme.test', 'inactive', '2026-01-15T00:00:00Z');
const ERIN_OUT = personAt('okta:00u_erin', 'erin@acme.test', 'inactive', '2026-01-08T00:00:00Z');
const CAROL1 = personAt('okta:00u_carol1', 'carol@acme.test', 'active', '2026-01-01T00:00:00Z');
const CAROL2 = personAt('okta:00u_carol2', 'carol@acme.test', 'active', '2026-01-20T00:00:00Z');
const DAVE = personAt('okta:00u_dave', 'dave@acme.test', 'active', '2026-01-01T00:00:00Z');

const deviceAt = (d: DeviceVersion): DeviceAtTime => ({
  device_id: d.device_id, serial: d.serial, hostname: d.hostname, os: d.os, managed: d.managed, compliant: d.compliant,
  assigned_person_id: d.assigned_person_id, version_valid_from: d.valid_from,
});
const MAC1 = deviceAt(DEVICES[0]!);
const MAC2 = deviceAt(DEVICES[1]!);
const BYOD = deviceAt(DEVICES[2]!);

export const link = (kind: string, id: string, status: string | null = 'active'): ChainLink => ({ kind, id, name: null, status });

interface EventSpec {
  id: string;
  at: string;
  platform?: string;
  action: string;
  cls?: [number, number];
  actor?: Partial<EnrichedAccessEvent['event']['actor']>;
  targets?: Array<[string, string]>;
  person?: PersonAtTime | null;
  method?: string;
  device?: DeviceAtTime | null;
  chain?: ChainLink[];
  connector?: EnrichedAccessEvent['event']['connector'];
  enrichedAt?: string;
  userAgent?: string;
}

export function enriched(spec: EventSpec): EnrichedAccessEvent {
  const [classUid, activity] = spec.cls ?? [6003, 1];
  const time = t(spec.at);
  const platform = spec.platform ?? 'openai';
  const person = spec.person ?? null;
  return {
    event: {
      event_id: spec.id,
      source: { platform, feed: 'audit_logs', source_event_id: `src-${spec.id}`, ingested_at: time + 120_000, ingest_version: 'test' },
      time,
      time_raw: spec.at,
      action: spec.action,
      source_type: spec.action,
      outcome: 'success',
      ocsf: { category_uid: Math.floor(classUid / 1000), class_uid: classUid, activity_id: activity, type_uid: classUid * 100 + activity, severity_id: 1 },
      actor: {
        kind: 'human', platform_user_id: null, email: person?.email ?? null, name: null, api_key_id: null, service_account_id: null,
        oauth_client_id: null, session_id: null, ...spec.actor,
      },
      targets: (spec.targets ?? []).map(([type, id]) => ({ type, id, name: null })),
      scope: { organization_id: 'org-acme', project_id: platform === 'openai' ? 'proj_1' : null, workspace_id: null },
      src: { ip: '198.51.100.7', user_agent: spec.userAgent ?? 'Mozilla/5.0', hostname: null, device_serial: null, device_id: null, country: null },
      connector: spec.connector ?? null,
      raw: Buffer.from(JSON.stringify({ id: `src-${spec.id}`, type: spec.action })),
      unmapped: '{}',
    },
    person,
    device: spec.device ?? null,
    nhi_chain: spec.chain ?? [],
    attribution: {
      method: spec.method ?? (person ? 'direct_email' : 'unresolved'),
      confidence: person ? 0.9 : 0,
      device_method: spec.device ? 'device_id' : 'unresolved',
      device_confidence: spec.device ? 1 : 0,
      reasons: person ? [] : ['no person matched the actor'],
    },
    enrichment: { version: 'test', enriched_at: t(spec.enrichedAt ?? spec.at) + 300_000, waited_ms: 0 },
  };
}

const keyActor = (id: string) => ({ kind: 'api_key', api_key_id: id, email: null });
const BOB_KEY_CHAIN = (bob: PersonAtTime) => [link('api_key', 'openai:api_key:key_bob'), link('project', 'openai:project:proj_1'), link('person', bob.person_id, bob.lifecycle_state)];
const CHATGPT = { provider: 'google', client_id: 'chatgpt-client', app_name: 'ChatGPT', scopes: CHATGPT_GRANT.scopes };

/** First delivery of every event. */
export const EVENTS: EnrichedAccessEvent[] = [
  enriched({ id: 'e00', at: '2026-01-02T09:00:00Z', action: 'api_key.created', person: BOB, device: MAC2, targets: [['api_key', 'key_bob']] }),
  enriched({ id: 'e01', at: '2026-01-06T10:00:00Z', action: 'api_key.created', person: ALICE_OLD, device: BYOD, targets: [['api_key', 'key_new1']], userAgent: "curl/8 ' OR 1=1 --" }),
  enriched({ id: 'e02', at: '2026-01-11T09:00:00Z', action: 'project.created', person: ALICE, device: MAC1, targets: [['project', 'proj_2']] }),
  enriched({ id: 'e03', at: '2026-01-11T09:30:00Z', action: 'api_key.created', person: ALICE, device: MAC1, targets: [['api_key', 'key_new2']] }),
  enriched({ id: 'e04', at: '2026-01-12T08:00:00Z', action: 'login.succeeded', cls: [3002, 1], person: ALICE, device: BYOD }),
  enriched({ id: 'e05', at: '2026-01-13T08:00:00Z', action: 'user.updated', cls: [6003, 3], person: ALICE, targets: [['user', 'user-x']] }),
  enriched({ id: 'e06', at: '2026-01-16T12:00:00Z', action: 'project.updated', cls: [6003, 3], actor: keyActor('key_bob'), person: BOB_GONE, method: 'api_key_owner', chain: BOB_KEY_CHAIN(BOB_GONE), targets: [['project', 'proj_1']] }),
  enriched({
    id: 'e07', at: '2026-01-17T12:00:00Z', action: 'files.list', cls: [6003, 2], actor: { kind: 'service_account', api_key_id: 'key_sa', service_account_id: 'svc_bob', email: null },
    person: BOB_GONE, method: 'service_account_owner',
    chain: [link('api_key', 'openai:api_key:key_sa'), link('service_account', 'openai:service_account:svc_bob'), link('project', 'openai:project:proj_1'), link('person', 'okta:00u_bob', 'inactive')],
  }),
  enriched({ id: 'e08', at: '2026-01-14T12:00:00Z', action: 'files.list', cls: [6003, 2], actor: keyActor('key_bob'), person: BOB, method: 'api_key_owner', chain: BOB_KEY_CHAIN(BOB) }),
  enriched({
    id: 'e09', at: '2026-01-16T13:00:00Z', platform: 'google', action: 'drive.files.read', cls: [6003, 2], actor: { kind: 'oauth_client', oauth_client_id: 'chatgpt-client' },
    person: BOB_GONE, method: 'connector_grant', connector: CHATGPT, chain: [link('connector', 'google:chatgpt-client:bob@acme.test', 'granted'), link('person', 'okta:00u_bob', 'inactive')],
  }),
  enriched({ id: 'e10', at: '2026-01-18T10:00:00Z', action: 'models.list', cls: [6003, 2], actor: keyActor('key_unknown') }),
  enriched({ id: 'e11', at: '2026-01-18T11:00:00Z', platform: 'anthropic', action: 'sso_login_failed', cls: [3002, 1], actor: { kind: 'human', email: 'mallory@external.test' } }),
  enriched({ id: 'e12', at: '2026-01-09T12:00:00Z', action: 'files.list', cls: [6003, 2], actor: keyActor('key_erin'), person: ERIN_OUT, method: 'api_key_owner', chain: [link('api_key', 'openai:api_key:key_erin'), link('person', 'okta:00u_erin', 'inactive')] }),
  enriched({ id: 'e14', at: '2026-01-19T10:00:00Z', platform: 'anthropic', action: 'platform_file_uploaded', cls: [6003, 1], actor: { kind: 'service_account', service_account_id: 'svc_x', email: null } }),
  enriched({ id: 'e15', at: '2026-01-04T09:00:00Z', action: 'login.succeeded', cls: [3002, 1], person: CAROL1, device: MAC1 }),
  enriched({ id: 'e16', at: '2026-01-21T09:00:00Z', action: 'login.succeeded', cls: [3002, 1], person: CAROL2, device: MAC1 }),
  // Enriched before the first carol's leaver record arrived: the chain still says active.
  enriched({
    id: 'e17', at: '2026-01-06T15:00:00Z', action: 'files.list', cls: [6003, 2], actor: keyActor('key_carol_old'), person: CAROL1, method: 'api_key_owner',
    chain: [link('api_key', 'openai:api_key:key_carol_old'), link('person', 'okta:00u_carol1', 'active')],
  }),
];

/**
 * Later deliveries: an exact redelivery of e01 and e06 (same enrichment),
 * and e10 enriched again after late identity data resolved key_unknown to
 * dave (a newer enriched_at: that version wins).
 */
export const REDELIVERIES: EnrichedAccessEvent[] = [
  EVENTS[1]!,
  EVENTS[6]!,
  enriched({ id: 'e10', at: '2026-01-18T10:00:00Z', action: 'models.list', cls: [6003, 2], actor: keyActor('key_unknown'), person: DAVE, method: 'api_key_owner', chain: [link('api_key', 'openai:api_key:key_unknown'), link('person', 'okta:00u_dave')], enrichedAt: '2026-01-19T00:00:00Z' }),
];

/** Inserts the world in several inserts, so duplicates sit in different parts until FINAL merges them. */
export async function seed(ch: ClickHouse): Promise<void> {
  await ch.insertRows(TABLES.personsHistory, PERSONS.map(personVersionRow));
  await ch.insertRows(TABLES.devicesHistory, DEVICES.map(deviceVersionRow));
  await ch.insertRows(TABLES.nhiHistory, NHIS.map(nhiVersionRow));
  await ch.insertRows(TABLES.connectorsHistory, CONNECTORS.map(connectorVersionRow));
  await ch.insertRows(TABLES.accessEvents, EVENTS.map(accessEventRow));
  await ch.insertRows(TABLES.accessEvents, REDELIVERIES.map(accessEventRow));
}

/** A fresh database with the migrations applied by the #clickhouse runner and the world seeded. */
export async function seededDatabase(): Promise<{ ch: ClickHouse; database: string; drop(): Promise<void> }> {
  const config = testConfig();
  const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
  const database = uniqueName('tether_query');
  await migrate({ clickhouse: server, database, log: createLogger({ service: 'test', level: 'warn' }) });
  const ch = createClickHouse({ ...server, database });
  await seed(ch);
  return {
    ch,
    database,
    async drop() {
      await ch.command(`DROP DATABASE IF EXISTS ${database}`);
      await ch.close();
    },
  };
}
