// A deterministic identity population and the raw AccessEvents its people
// make, for the end-to-end bench: N persons (directory record + OpenAI
// account), one managed device each, one API key each; events are OpenAI
// audit-log records of about 400 B on the wire (dashboard sessions from the
// person's device IP, and API key uses), spread over a time window. Every
// event resolves to a person, so nothing waits for late identity data.
import {
  deriveEventId, versionKey,
  type AccessEvent, type Codec, type DeviceVersion, type NonHumanIdentityVersion, type PersonVersion,
} from '#schemas';
import type { ProduceRecord } from '#kafka';
import type { TopicRole } from '#config';

const IDENTITIES_FROM = Date.UTC(2025, 0, 1);

export const personId = (i: number) => `00u${i.toString(36).padStart(6, '0')}`;
const email = (i: number) => `person${i}@example.com`;
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

function person(i: number): PersonVersion {
  return {
    person_id: personId(i), record_kind: 'directory', valid_from: IDENTITIES_FROM + i,
    source: { platform: 'okta', feed: 'users', source_time: null, observed_at: IDENTITIES_FROM + i },
    active: true, lifecycle_state: 'active', email: email(i), display_name: `Person ${i}`, department: 'Engineering', title: 'Staff',
    manager_person_id: null, platform_role: null, groups: null, directory_record: null,
    aliases: [{ kind: 'email', value: email(i) }],
  };
}

function account(i: number): PersonVersion {
  const id = `openai:user-${i}`;
  return {
    person_id: id, record_kind: 'platform_account', valid_from: IDENTITIES_FROM + i,
    source: { platform: 'openai', feed: 'users', source_time: null, observed_at: IDENTITIES_FROM + i },
    active: true, lifecycle_state: 'active', email: email(i), display_name: null, department: null, title: null,
    manager_person_id: null, platform_role: 'member', groups: null, directory_record: null,
    aliases: [{ kind: 'email', value: email(i) }, { kind: 'platform_user_id', value: id }],
  };
}

function device(i: number): DeviceVersion {
  return {
    device_id: `dev-${i}`, valid_from: IDENTITIES_FROM + i,
    source: { platform: 'fleet', feed: 'hosts', source_time: null, observed_at: IDENTITIES_FROM + i },
    active: true, serial: `SER${i}`, hostname: `host-${i}`, os: 'macOS 15.2', managed: true, compliant: true,
    assigned_person_id: personId(i), assigned_email: email(i), ip_addresses: [ip(i)],
  };
}

function apiKey(i: number): NonHumanIdentityVersion {
  return {
    nhi_id: `openai:api_key:key_${i}`, kind: 'api_key', platform: 'openai', platform_id: `key_${i}`, valid_from: IDENTITIES_FROM + i,
    source: { platform: 'openai', feed: 'project_api_keys', source_time: null, observed_at: IDENTITIES_FROM + i },
    active: true, status: 'active', name: `key ${i}`, parent_nhi_id: null, owner_email: email(i), owner_platform_user_id: `openai:user-${i}`,
    created_at: IDENTITIES_FROM + i, last_used_at: null, redacted_value: 'sk-...abcd',
  };
}

/** Identity records for n people, ready to produce (key = entity id @ valid_from, as the importers write them). */
export function* identityRecords(n: number, codec: Codec, topics: Readonly<Record<TopicRole, string>>): Generator<ProduceRecord> {
  const rec = <R extends 'identityUsers' | 'identityDevices' | 'identityNhi'>(role: R, id: string, value: PersonVersion | DeviceVersion | NonHumanIdentityVersion) =>
    ({ topic: topics[role], key: versionKey(id, value.valid_from), value: codec.encode(role, value as never) });
  for (let i = 0; i < n; i++) {
    yield rec('identityUsers', personId(i), person(i));
    yield rec('identityUsers', `openai:user-${i}`, account(i));
    yield rec('identityDevices', `dev-${i}`, device(i));
    yield rec('identityNhi', `openai:api_key:key_${i}`, apiKey(i));
  }
}

/** Event `n` (of a run tagged `run`) by person `who` at `time`: a dashboard session or an API key use, alternately. */
export function rawEvent(run: string, n: number, who: number, time: number): AccessEvent {
  const sourceId = `audit_log-${run}-${n}`;
  const session = n % 2 === 0;
  const type = session ? 'login.succeeded' : 'project.updated';
  const raw = session
    ? { id: sourceId, type, effective_at: Math.floor(time / 1000), actor: { type: 'session', session: { user: { id: `user-${who}`, email: email(who) }, ip_address: ip(who) } } }
    : { id: sourceId, type, effective_at: Math.floor(time / 1000), actor: { type: 'api_key', api_key: { id: `key_${who}`, type: 'user', user: { id: `user-${who}` } } }, project: { id: 'proj_1' } };
  return {
    event_id: deriveEventId('openai', 'audit_logs', sourceId),
    source: { platform: 'openai', feed: 'audit_logs', source_event_id: sourceId, ingested_at: time + 60_000, ingest_version: 'bench/e2e' },
    time,
    time_raw: String(Math.floor(time / 1000)),
    action: type,
    source_type: type,
    outcome: 'success',
    ocsf: session
      ? { category_uid: 3, class_uid: 3002, activity_id: 1, type_uid: 300201, severity_id: 1 }
      : { category_uid: 6, class_uid: 6003, activity_id: 3, type_uid: 600303, severity_id: 1 },
    actor: {
      kind: session ? 'human' : 'api_key', platform_user_id: `user-${who}`, email: session ? email(who) : null, name: null,
      api_key_id: session ? null : `key_${who}`, service_account_id: null, oauth_client_id: null, session_id: null,
    },
    targets: session ? [] : [{ type: 'project', id: 'proj_1', name: null }],
    scope: { organization_id: 'org-bench', project_id: session ? null : 'proj_1', workspace_id: null },
    src: { ip: session ? ip(who) : null, user_agent: session ? 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)' : null, hostname: null, device_serial: null, device_id: null, country: null },
    connector: null,
    raw: Buffer.from(JSON.stringify(raw)),
    unmapped: '{}',
  };
}

/** A small deterministic PRNG (mulberry32): the same arguments build the same run. */
export function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
