// EnrichedAccessEvent -> one access_events row in RowBinary, written straight
// from the decoded record (no row object, no JSON). Column for column the
// same values as accessEventRow (rows.ts), which stays the readable
// definition and the reference the tests compare this encoder against.
import { isUtf8 } from 'node:buffer';
import type { EnrichedAccessEvent } from '#schemas';
import { dateTimeSeconds, personKey } from './rows.ts';
import type { RowBinaryWriter } from './row-binary.ts';

/**
 * The INSERT's column list and each column's type, in the order the encoder
 * writes them: the Avro record's field order (so the transcoder in
 * access-event-transcode.ts can write as it reads), derived columns last.
 */
export const ACCESS_EVENT_COLUMNS = [
  ['event_id', 'String'],
  ['source_platform', 'String'], ['source_feed', 'String'], ['source_event_id', 'String'],
  ['ingested_at', 'DateTime'], ['ingested_at_ms', 'UInt64'], ['source_ingest_version', 'String'],
  ['event_time', 'DateTime'], ['event_time_ms', 'UInt64'], ['time_raw', 'String'],
  ['action', 'String'], ['source_type', 'String'], ['outcome', 'String'],
  ['category_uid', 'Int32'], ['class_uid', 'Int32'], ['activity_id', 'Int32'], ['type_uid', 'Int64'], ['severity_id', 'Int32'],
  ['actor_kind', 'String'], ['actor_platform_user_id', 'Nullable(String)'], ['actor_email', 'Nullable(String)'],
  ['actor_name', 'Nullable(String)'], ['actor_api_key_id', 'Nullable(String)'], ['actor_service_account_id', 'Nullable(String)'],
  ['actor_oauth_client_id', 'Nullable(String)'], ['actor_session_id', 'Nullable(String)'],
  ['target_types', 'Array(String)'], ['target_ids', 'Array(String)'], ['target_names', 'Array(Nullable(String))'],
  ['scope_organization_id', 'Nullable(String)'], ['scope_project_id', 'Nullable(String)'], ['scope_workspace_id', 'Nullable(String)'],
  ['src_ip', 'Nullable(String)'], ['src_user_agent', 'Nullable(String)'], ['src_hostname', 'Nullable(String)'],
  ['src_device_serial', 'Nullable(String)'], ['src_device_id', 'Nullable(String)'], ['src_country', 'Nullable(String)'],
  ['connector_provider', 'Nullable(String)'], ['connector_client_id', 'Nullable(String)'], ['connector_app_name', 'Nullable(String)'],
  ['connector_scopes', 'Array(String)'],
  ['raw', 'String'], ['raw_encoding', 'String'], ['unmapped', 'String'],
  ['person_id', 'Nullable(String)'], ['person_email', 'Nullable(String)'], ['person_display_name', 'Nullable(String)'],
  ['person_department', 'Nullable(String)'], ['person_title', 'Nullable(String)'], ['person_manager_person_id', 'Nullable(String)'],
  ['person_lifecycle_state', 'Nullable(String)'], ['person_version_valid_from_ms', 'Nullable(UInt64)'],
  ['person_version_source', 'Nullable(String)'],
  ['device_id', 'Nullable(String)'], ['device_serial', 'Nullable(String)'], ['device_hostname', 'Nullable(String)'],
  ['device_os', 'Nullable(String)'], ['device_managed', 'Nullable(UInt8)'], ['device_compliant', 'Nullable(UInt8)'],
  ['device_assigned_person_id', 'Nullable(String)'], ['device_version_valid_from_ms', 'Nullable(UInt64)'],
  ['chain_kinds', 'Array(String)'], ['chain_ids', 'Array(String)'], ['chain_names', 'Array(Nullable(String))'],
  ['chain_statuses', 'Array(Nullable(String))'],
  ['attribution_method', 'String'], ['confidence', 'Float32'], ['device_method', 'String'], ['device_confidence', 'Float32'],
  ['reasons', 'Array(String)'],
  ['enrichment_version', 'String'], ['enriched_at', 'DateTime'], ['enriched_at_ms', 'UInt64'], ['enrichment_waited_ms', 'UInt64'],
  ['person_key', 'String'],
] as const satisfies readonly (readonly [string, string])[];

const UTF8 = Buffer.from('utf8');
const BASE64 = Buffer.from('base64');

/**
 * Writes the row and returns its bytes (a view into the writer's slab).
 * Throws TETHER_SINK_ROW_REJECTED, leaving the writer as it was, when a
 * value does not fit its column.
 */
export function writeAccessEventRow(w: RowBinaryWriter, enriched: EnrichedAccessEvent): Buffer {
  try {
    encode(w, enriched);
  } catch (err) {
    w.abortRow();
    throw err;
  }
  return w.endRow();
}

function encode(w: RowBinaryWriter, enriched: EnrichedAccessEvent): void {
  const { event: e, person: p, device: d, attribution: a, enrichment: x } = enriched;
  const { source, ocsf, actor, scope, src, connector: c } = e;
  w.string(e.event_id);
  w.string(source.platform);
  w.string(source.feed);
  w.string(source.source_event_id);
  w.dateTime(dateTimeSeconds(source.ingested_at, 'ingested_at'), 'ingested_at');
  w.uint64(source.ingested_at, 'ingested_at_ms');
  w.string(source.ingest_version);
  w.dateTime(dateTimeSeconds(e.time, 'event time'), 'event_time');
  w.uint64(e.time, 'event_time_ms');
  w.string(e.time_raw);
  w.string(e.action);
  w.string(e.source_type);
  w.string(e.outcome);
  w.int32(ocsf.category_uid, 'category_uid');
  w.int32(ocsf.class_uid, 'class_uid');
  w.int32(ocsf.activity_id, 'activity_id');
  w.int64(ocsf.type_uid, 'type_uid');
  w.int32(ocsf.severity_id, 'severity_id');
  w.string(actor.kind);
  w.nullableString(actor.platform_user_id);
  w.nullableString(actor.email);
  w.nullableString(actor.name);
  w.nullableString(actor.api_key_id);
  w.nullableString(actor.service_account_id);
  w.nullableString(actor.oauth_client_id);
  w.nullableString(actor.session_id);
  const targets = e.targets;
  w.strings(targets.map((t) => t.type));
  w.strings(targets.map((t) => t.id));
  w.nullableStrings(targets.map((t) => t.name));
  w.nullableString(scope.organization_id);
  w.nullableString(scope.project_id);
  w.nullableString(scope.workspace_id);
  w.nullableString(src.ip);
  w.nullableString(src.user_agent);
  w.nullableString(src.hostname);
  w.nullableString(src.device_serial);
  w.nullableString(src.device_id);
  w.nullableString(src.country);
  w.nullableString(c?.provider ?? null);
  w.nullableString(c?.client_id ?? null);
  w.nullableString(c?.app_name ?? null);
  w.strings(c?.scopes ?? []);
  // raw as encodeRaw stores it: UTF-8 bytes as they are (a String is bytes), anything else as base64.
  if (isUtf8(e.raw)) {
    w.bytes(e.raw);
    w.bytes(UTF8);
  } else {
    w.string(e.raw.toString('base64'));
    w.bytes(BASE64);
  }
  w.string(e.unmapped);
  w.nullableString(p?.person_id ?? null);
  w.nullableString(p?.email ?? null);
  w.nullableString(p?.display_name ?? null);
  w.nullableString(p?.department ?? null);
  w.nullableString(p?.title ?? null);
  w.nullableString(p?.manager_person_id ?? null);
  w.nullableString(p?.lifecycle_state ?? null);
  w.nullableUint64(p?.version_valid_from ?? null, 'person_version_valid_from_ms');
  w.nullableString(p?.version_source ?? null);
  w.nullableString(d?.device_id ?? null);
  w.nullableString(d?.serial ?? null);
  w.nullableString(d?.hostname ?? null);
  w.nullableString(d?.os ?? null);
  w.nullableUint8(d ? (d.managed ? 1 : 0) : null, 'device_managed');
  w.nullableUint8(d && d.compliant !== null ? (d.compliant ? 1 : 0) : null, 'device_compliant');
  w.nullableString(d?.assigned_person_id ?? null);
  w.nullableUint64(d?.version_valid_from ?? null, 'device_version_valid_from_ms');
  const chain = enriched.nhi_chain;
  w.strings(chain.map((l) => l.kind));
  w.strings(chain.map((l) => l.id));
  w.nullableStrings(chain.map((l) => l.name));
  w.nullableStrings(chain.map((l) => l.status));
  w.string(a.method);
  w.float32(a.confidence, 'confidence');
  w.string(a.device_method);
  w.float32(a.device_confidence, 'device_confidence');
  w.strings(a.reasons);
  w.string(x.version);
  w.dateTime(dateTimeSeconds(x.enriched_at, 'enriched_at'), 'enriched_at');
  w.uint64(x.enriched_at, 'enriched_at_ms');
  w.uint64(x.waited_ms, 'enrichment_waited_ms');
  w.string(personKey(enriched));
}
