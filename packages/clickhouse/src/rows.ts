// Avro records <-> ClickHouse rows (JSONEachRow objects), column for column
// with infra/clickhouse/migrations. Pure: the sink maps records to rows, the
// query layer maps rows back to records.
//
// Times are written twice: `x` DateTime('UTC') in whole seconds for filtering
// and partitioning, `x_ms` UInt64 exact. DateTime is a UInt32 on both old and
// new servers and silently wraps out-of-range values, so those are refused
// here instead of being stored wrong.
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { tetherError } from '#errors';
import type {
  ChainLink, ConnectorVersion, DeadLetter, DeviceVersion, EnrichedAccessEvent, Finding, NonHumanIdentityVersion,
  PersonVersion, Target,
} from '#schemas';

const MAX_DATETIME_MS = 2 ** 32 * 1000;

/** Whole seconds for a DateTime column; throws a row error outside 1970-01-01 .. 2106-02-07. */
export function dateTimeSeconds(ms: number, field: string): number {
  if (!Number.isFinite(ms) || ms < 0 || ms >= MAX_DATETIME_MS) {
    throw tetherError('TETHER_SINK_ROW_REJECTED', `${field} ${ms} ms is outside the DateTime range (1970-01-01 to 2106-02-07)`, {
      context: { field },
    });
  }
  return Math.floor(ms / 1000);
}

const bool = (value: boolean): number => (value ? 1 : 0);
const nullableBool = (value: boolean | null): number | null => (value === null ? null : bool(value));

export type RawEncoding = 'utf8' | 'base64';

/** Text when the bytes are UTF-8 (nearly always: sources send JSON or CSV), else base64. */
export function encodeRaw(bytes: Buffer): { raw: string; raw_encoding: RawEncoding } {
  return isUtf8(bytes) ? { raw: bytes.toString('utf8'), raw_encoding: 'utf8' } : { raw: bytes.toString('base64'), raw_encoding: 'base64' };
}

export function decodeRaw(raw: string, encoding: string): Buffer {
  return Buffer.from(raw, encoding === 'base64' ? 'base64' : 'utf8');
}

/** The person-first sort key: person id, else the acting NHI (first chain link), else ''. */
export function personKey(event: EnrichedAccessEvent): string {
  return event.person?.person_id ?? event.nhi_chain[0]?.id ?? '';
}

export type AccessEventRow = ReturnType<typeof accessEventRow>;

export function accessEventRow(enriched: EnrichedAccessEvent) {
  const { event: e, person: p, device: d, attribution: a, enrichment: x } = enriched;
  const c = e.connector;
  return {
    event_id: e.event_id,
    person_key: personKey(enriched),
    event_time: dateTimeSeconds(e.time, 'event time'),
    event_time_ms: e.time,
    time_raw: e.time_raw,
    source_platform: e.source.platform,
    source_feed: e.source.feed,
    source_event_id: e.source.source_event_id,
    source_ingest_version: e.source.ingest_version,
    ingested_at: dateTimeSeconds(e.source.ingested_at, 'ingested_at'),
    ingested_at_ms: e.source.ingested_at,
    action: e.action,
    source_type: e.source_type,
    outcome: e.outcome,
    category_uid: e.ocsf.category_uid,
    class_uid: e.ocsf.class_uid,
    activity_id: e.ocsf.activity_id,
    type_uid: e.ocsf.type_uid,
    severity_id: e.ocsf.severity_id,
    actor_kind: e.actor.kind,
    actor_platform_user_id: e.actor.platform_user_id,
    actor_email: e.actor.email,
    actor_name: e.actor.name,
    actor_api_key_id: e.actor.api_key_id,
    actor_service_account_id: e.actor.service_account_id,
    actor_oauth_client_id: e.actor.oauth_client_id,
    actor_session_id: e.actor.session_id,
    target_types: e.targets.map((t) => t.type),
    target_ids: e.targets.map((t) => t.id),
    target_names: e.targets.map((t) => t.name),
    scope_organization_id: e.scope.organization_id,
    scope_project_id: e.scope.project_id,
    scope_workspace_id: e.scope.workspace_id,
    src_ip: e.src.ip,
    src_user_agent: e.src.user_agent,
    src_hostname: e.src.hostname,
    src_device_serial: e.src.device_serial,
    src_device_id: e.src.device_id,
    src_country: e.src.country,
    connector_provider: c?.provider ?? null,
    connector_client_id: c?.client_id ?? null,
    connector_app_name: c?.app_name ?? null,
    connector_scopes: c?.scopes ?? [],
    ...encodeRaw(e.raw),
    unmapped: e.unmapped,
    person_id: p?.person_id ?? null,
    person_email: p?.email ?? null,
    person_display_name: p?.display_name ?? null,
    person_department: p?.department ?? null,
    person_title: p?.title ?? null,
    person_manager_person_id: p?.manager_person_id ?? null,
    person_lifecycle_state: p?.lifecycle_state ?? null,
    person_version_valid_from_ms: p?.version_valid_from ?? null,
    person_version_source: p?.version_source ?? null,
    device_id: d?.device_id ?? null,
    device_serial: d?.serial ?? null,
    device_hostname: d?.hostname ?? null,
    device_os: d?.os ?? null,
    device_managed: d ? bool(d.managed) : null,
    device_compliant: d ? nullableBool(d.compliant) : null,
    device_assigned_person_id: d?.assigned_person_id ?? null,
    device_version_valid_from_ms: d?.version_valid_from ?? null,
    chain_kinds: enriched.nhi_chain.map((l) => l.kind),
    chain_ids: enriched.nhi_chain.map((l) => l.id),
    chain_names: enriched.nhi_chain.map((l) => l.name),
    chain_statuses: enriched.nhi_chain.map((l) => l.status),
    attribution_method: a.method,
    confidence: a.confidence,
    device_method: a.device_method,
    device_confidence: a.device_confidence,
    reasons: a.reasons,
    enrichment_version: x.version,
    enriched_at: dateTimeSeconds(x.enriched_at, 'enriched_at'),
    enriched_at_ms: x.enriched_at,
    enrichment_waited_ms: x.waited_ms,
  };
}

// ---------------------------------------------------------------- read back

/** A row as ClickHouse returns it in JSON formats (64-bit integers quoted, booleans as 0/1). */
export type ClickHouseJsonRow = Record<string, unknown>;

const str = (row: ClickHouseJsonRow, key: string): string => String(row[key]);
const optStr = (row: ClickHouseJsonRow, key: string): string | null => (row[key] === null ? null : String(row[key]));
const num = (row: ClickHouseJsonRow, key: string): number => Number(row[key]);
const optNum = (row: ClickHouseJsonRow, key: string): number | null => (row[key] === null ? null : Number(row[key]));
const optBool = (row: ClickHouseJsonRow, key: string): boolean | null => (row[key] === null ? null : Number(row[key]) === 1);
const arr = (row: ClickHouseJsonRow, key: string): unknown[] => (row[key] as unknown[] | undefined) ?? [];
const strArr = (row: ClickHouseJsonRow, key: string): string[] => arr(row, key).map(String);
const optStrArr = (row: ClickHouseJsonRow, key: string): (string | null)[] => arr(row, key).map((v) => (v === null ? null : String(v)));
/** Float32 columns come back in their shortest decimal form; Avro floats are float32 too. */
const float32 = (row: ClickHouseJsonRow, key: string): number => Math.fround(Number(row[key]));

/** Rebuilds the EnrichedAccessEvent an access_events row was written from. */
export function accessEventFromRow(row: ClickHouseJsonRow): EnrichedAccessEvent {
  const targetIds = strArr(row, 'target_ids');
  const targetTypes = strArr(row, 'target_types');
  const targetNames = optStrArr(row, 'target_names');
  const targets: Target[] = targetIds.map((id, i) => ({ type: targetTypes[i] ?? '', id, name: targetNames[i] ?? null }));
  const chainIds = strArr(row, 'chain_ids');
  const chainKinds = strArr(row, 'chain_kinds');
  const chainNames = optStrArr(row, 'chain_names');
  const chainStatuses = optStrArr(row, 'chain_statuses');
  const chain: ChainLink[] = chainIds.map((id, i) => ({
    kind: chainKinds[i] ?? '', id, name: chainNames[i] ?? null, status: chainStatuses[i] ?? null,
  }));
  return {
    event: {
      event_id: str(row, 'event_id'),
      source: {
        platform: str(row, 'source_platform'),
        feed: str(row, 'source_feed'),
        source_event_id: str(row, 'source_event_id'),
        ingested_at: num(row, 'ingested_at_ms'),
        ingest_version: str(row, 'source_ingest_version'),
      },
      time: num(row, 'event_time_ms'),
      time_raw: str(row, 'time_raw'),
      action: str(row, 'action'),
      source_type: str(row, 'source_type'),
      outcome: str(row, 'outcome'),
      ocsf: {
        category_uid: num(row, 'category_uid'),
        class_uid: num(row, 'class_uid'),
        activity_id: num(row, 'activity_id'),
        type_uid: num(row, 'type_uid'),
        severity_id: num(row, 'severity_id'),
      },
      actor: {
        kind: str(row, 'actor_kind'),
        platform_user_id: optStr(row, 'actor_platform_user_id'),
        email: optStr(row, 'actor_email'),
        name: optStr(row, 'actor_name'),
        api_key_id: optStr(row, 'actor_api_key_id'),
        service_account_id: optStr(row, 'actor_service_account_id'),
        oauth_client_id: optStr(row, 'actor_oauth_client_id'),
        session_id: optStr(row, 'actor_session_id'),
      },
      targets,
      scope: {
        organization_id: optStr(row, 'scope_organization_id'),
        project_id: optStr(row, 'scope_project_id'),
        workspace_id: optStr(row, 'scope_workspace_id'),
      },
      src: {
        ip: optStr(row, 'src_ip'),
        user_agent: optStr(row, 'src_user_agent'),
        hostname: optStr(row, 'src_hostname'),
        device_serial: optStr(row, 'src_device_serial'),
        device_id: optStr(row, 'src_device_id'),
        country: optStr(row, 'src_country'),
      },
      connector: row.connector_client_id === null
        ? null
        : {
            provider: str(row, 'connector_provider'),
            client_id: str(row, 'connector_client_id'),
            app_name: optStr(row, 'connector_app_name'),
            scopes: strArr(row, 'connector_scopes'),
          },
      raw: decodeRaw(str(row, 'raw'), str(row, 'raw_encoding')),
      unmapped: str(row, 'unmapped'),
    },
    person: row.person_id === null
      ? null
      : {
          person_id: str(row, 'person_id'),
          email: optStr(row, 'person_email'),
          display_name: optStr(row, 'person_display_name'),
          department: optStr(row, 'person_department'),
          title: optStr(row, 'person_title'),
          manager_person_id: optStr(row, 'person_manager_person_id'),
          lifecycle_state: str(row, 'person_lifecycle_state'),
          version_valid_from: num(row, 'person_version_valid_from_ms'),
          version_source: str(row, 'person_version_source'),
        },
    device: row.device_id === null
      ? null
      : {
          device_id: str(row, 'device_id'),
          serial: optStr(row, 'device_serial'),
          hostname: optStr(row, 'device_hostname'),
          os: optStr(row, 'device_os'),
          managed: Number(row.device_managed) === 1,
          compliant: optBool(row, 'device_compliant'),
          assigned_person_id: optStr(row, 'device_assigned_person_id'),
          version_valid_from: num(row, 'device_version_valid_from_ms'),
        },
    nhi_chain: chain,
    attribution: {
      method: str(row, 'attribution_method'),
      confidence: float32(row, 'confidence'),
      device_method: str(row, 'device_method'),
      device_confidence: float32(row, 'device_confidence'),
      reasons: strArr(row, 'reasons'),
    },
    enrichment: {
      version: str(row, 'enrichment_version'),
      enriched_at: num(row, 'enriched_at_ms'),
      waited_ms: num(row, 'enrichment_waited_ms'),
    },
  };
}

// ------------------------------------------------------- identity history

function versionColumns(validFrom: number, source: PersonVersion['source']) {
  return {
    valid_from: dateTimeSeconds(validFrom, 'valid_from'),
    valid_from_ms: validFrom,
    source_platform: source.platform,
    source_feed: source.feed,
    source_time: source.source_time,
    observed_at: dateTimeSeconds(source.observed_at, 'observed_at'),
    observed_at_ms: source.observed_at,
  };
}

export function personVersionRow(v: PersonVersion) {
  return {
    person_id: v.person_id,
    ...versionColumns(v.valid_from, v.source),
    record_kind: v.record_kind,
    active: bool(v.active),
    lifecycle_state: v.lifecycle_state,
    email: v.email,
    display_name: v.display_name,
    department: v.department,
    title: v.title,
    manager_person_id: v.manager_person_id,
    alias_kinds: v.aliases.map((a) => a.kind),
    alias_values: v.aliases.map((a) => a.value),
    platform_role: v.platform_role,
  };
}

export function deviceVersionRow(v: DeviceVersion) {
  return {
    device_id: v.device_id,
    ...versionColumns(v.valid_from, v.source),
    active: bool(v.active),
    serial: v.serial,
    hostname: v.hostname,
    os: v.os,
    managed: bool(v.managed),
    compliant: nullableBool(v.compliant),
    assigned_person_id: v.assigned_person_id,
    assigned_email: v.assigned_email,
    ip_addresses: v.ip_addresses,
  };
}

export function nhiVersionRow(v: NonHumanIdentityVersion) {
  return {
    nhi_id: v.nhi_id,
    ...versionColumns(v.valid_from, v.source),
    kind: v.kind,
    platform: v.platform,
    platform_id: v.platform_id,
    active: bool(v.active),
    status: v.status,
    name: v.name,
    parent_nhi_id: v.parent_nhi_id,
    owner_email: v.owner_email,
    owner_platform_user_id: v.owner_platform_user_id,
    created_at_ms: v.created_at,
    last_used_at_ms: v.last_used_at,
    redacted_value: v.redacted_value,
  };
}

export function connectorVersionRow(v: ConnectorVersion) {
  return {
    connector_id: v.connector_id,
    ...versionColumns(v.valid_from, v.source),
    provider: v.provider,
    client_id: v.client_id,
    app_name: v.app_name,
    active: bool(v.active),
    status: v.status,
    granted_by_email: v.granted_by_email,
    granted_by_platform_user_id: v.granted_by_platform_user_id,
    scopes: v.scopes,
    ai_classification: v.ai_classification,
    sanctioned: nullableBool(v.sanctioned),
    granted_at_ms: v.granted_at,
    revoked_at_ms: v.revoked_at,
    last_used_at_ms: v.last_used_at,
    ai_tool_id: v.ai_tool_id,
    catalogue_version: v.catalogue_version,
    grant_subject: v.grant_subject,
  };
}

// ------------------------------------------------------------ dead letters

/** Where on tether.dlq a dead letter was read (its provenance in the table). */
export interface DlqPosition {
  topic: string;
  partition: number;
  offset: bigint;
}

/**
 * Identity of a failure, without its time: the same record dead-lettered
 * again after a redelivery gets the same id and collapses into one row.
 */
export function deadLetterId(letter: DeadLetter): string {
  const hash = createHash('sha256');
  for (const part of [letter.stage, letter.service, letter.source, letter.reason_code, letter.original_topic ?? '',
    String(letter.original_partition ?? ''), String(letter.original_offset ?? '')]) {
    hash.update(part).update('\u0000');
  }
  return hash.update(letter.original).digest('hex').slice(0, 32);
}

export function deadLetterRow(letter: DeadLetter, at: DlqPosition) {
  return {
    dead_letter_id: deadLetterId(letter),
    dead_lettered_at: dateTimeSeconds(letter.time, 'dead letter time'),
    dead_lettered_at_ms: letter.time,
    stage: letter.stage,
    service: letter.service,
    source: letter.source,
    reason_code: letter.reason_code,
    message: letter.message,
    original_base64: letter.original.toString('base64'),
    original_size: letter.original.length,
    original_topic: letter.original_topic,
    original_partition: letter.original_partition,
    original_offset: letter.original_offset,
    dlq_topic: at.topic,
    dlq_partition: at.partition,
    dlq_offset: Number(at.offset),
  };
}

// ---------------------------------------------------------------- findings

export function findingRow(f: Finding) {
  return {
    finding_id: f.finding_id,
    rule_id: f.rule_id,
    rule_version: f.rule_version,
    rule_title: f.rule_title,
    severity: f.severity,
    tags: f.tags,
    kind: f.kind,
    event_ids: f.event_ids,
    platform: f.platform,
    person_id: f.person_id,
    person_email: f.person_email,
    nhi_id: f.nhi_id,
    nhi_kind: f.nhi_kind,
    device_id: f.device_id,
    connector_client_id: f.connector_client_id,
    connector_app_name: f.connector_app_name,
    summary: f.summary,
    group_key: f.group_key,
    dedup_key: f.dedup_key,
    first_event_time: dateTimeSeconds(f.first_event_time, 'first_event_time'),
    first_event_time_ms: f.first_event_time,
    last_event_time: dateTimeSeconds(f.last_event_time, 'last_event_time'),
    last_event_time_ms: f.last_event_time,
    emitted_at: dateTimeSeconds(f.emitted_at, 'emitted_at'),
    emitted_at_ms: f.emitted_at,
    detector_version: f.detector_version,
  };
}
