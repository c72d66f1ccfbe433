// The attributed audit trail: every deduplicated event of one subject (a
// person by id or email, a non-human identity, a connector) in a time range,
// with the person, device and owner chain as they were at the event's time,
// exported with a manifest whose hash chain shows it was not edited.
import { tetherError } from '#errors';
import { bindQuery, toEpochMs, type Params } from './bind.ts';
import { buildManifest, chainHeader, HashChain, normaliseRow, type Column, type Manifest, type ManifestHeader, type VerifyResult } from './chain.ts';
import type { QueryRunner } from './executor.ts';
import { exportWriter, type ExportFormat } from './export-format.ts';
import { verifyBytes } from './verify.ts';

export const TRAIL_SUBJECTS = ['person', 'email', 'nhi', 'connector'] as const;
export type TrailSubject = (typeof TRAIL_SUBJECTS)[number];

export interface TrailRequest {
  subject: TrailSubject;
  /** Person id, email, NHI id ('<platform>:<kind>:<id>') or connector id. */
  value: string;
  /** Range [fromMs, toMs) in epoch ms. */
  fromMs: number;
  toMs: number;
}

export interface TrailQuery {
  sql: string;
  columns: Column[];
  header: ManifestHeader;
}

type TrailColumn = Column & { sql?: string };

const s = (name: string, nullable = false): TrailColumn => ({ name, kind: 'string', ...(nullable ? { nullable } : {}) });
const n = (name: string, nullable = false): TrailColumn => ({ name, kind: 'number', ...(nullable ? { nullable } : {}) });
const list = (name: string, sql?: string): TrailColumn => ({ name, kind: 'strings', ...(sql ? { sql } : {}) });

/**
 * What a trail row holds, in export order. Computed columns get names of
 * their own: 18.16 lets an alias shadow the column in WHERE.
 */
const TRAIL_COLUMNS: TrailColumn[] = [
  s('event_id'), { ...s('event_time_utc'), sql: 'toString(event_time)' }, n('event_time_ms'),
  s('source_platform'), s('source_feed'), s('source_event_id'), s('action'), s('source_type'), s('outcome'),
  s('actor_kind'), s('actor_email', true), s('actor_platform_user_id', true), s('actor_api_key_id', true),
  s('actor_service_account_id', true), s('actor_oauth_client_id', true),
  s('src_ip', true), s('src_user_agent', true), s('src_country', true),
  s('person_id', true), s('person_email', true), s('person_display_name', true), s('person_department', true),
  s('person_title', true), s('person_lifecycle_state', true), n('person_version_valid_from_ms', true),
  s('attribution_method'), n('confidence'),
  s('device_id', true), s('device_hostname', true), s('device_serial', true), s('device_os', true),
  { name: 'device_managed', kind: 'bool', nullable: true }, { name: 'device_compliant', kind: 'bool', nullable: true },
  s('device_method'), n('device_confidence'),
  list('chain_kinds'), list('chain_ids'),
  list('chain_link_names', "arrayMap(x -> ifNull(x, ''), chain_names)"),
  list('chain_link_statuses', "arrayMap(x -> ifNull(x, ''), chain_statuses)"),
  s('connector_provider', true), s('connector_client_id', true), s('connector_app_name', true), list('connector_scopes'),
  list('target_types'), list('target_ids'),
  s('scope_organization_id', true), s('scope_project_id', true), s('scope_workspace_id', true),
  list('reasons'), s('enrichment_version'), n('enriched_at_ms'),
  s('raw'), s('raw_encoding'),
];

// Who the subject is, as a WHERE clause over access_events. Email: every
// person who ever carried it (a renamed person keeps their trail, a reused
// address shows both people, each row naming its person), plus events no
// person resolved for that claim the address.
const SUBJECT_FILTERS: Record<TrailSubject, string> = {
  person: 'person_id = {subject:String}',
  email: `(
        person_id IN (
            SELECT person_id FROM persons_history FINAL
            WHERE lower(ifNull(email, '')) = lower({subject:String})
               OR has(arrayMap(v -> lower(v), alias_values), lower({subject:String})))
        OR lower(ifNull(person_email, '')) = lower({subject:String})
        OR (person_id IS NULL AND lower(ifNull(actor_email, '')) = lower({subject:String})))`,
  // What went through the identity (it is in the owner chain), and what was
  // done to it or by it on its platform when enrichment built no chain.
  nhi: `(
        has(chain_ids, {subject:String})
        OR (source_platform = {platform:String}
            AND (has(target_ids, {platform_id:String})
                 OR ifNull(actor_api_key_id, '') = {platform_id:String}
                 OR ifNull(actor_service_account_id, '') = {platform_id:String})))`,
  connector: 'has(chain_ids, {subject:String})',
};

const TEMPLATE_HEAD = `SELECT
    ${TRAIL_COLUMNS.map((c) => (c.sql ? `${c.sql} AS ${c.name}` : c.name)).join(',\n    ')}
FROM access_events FINAL
WHERE event_time >= {from:DateTime} AND event_time <= {to:DateTime}
  AND event_time_ms >= {from_ms:UInt64} AND event_time_ms < {to_ms:UInt64}
  AND `;

const RANGE = `event_time >= {from:DateTime} AND event_time <= {to:DateTime}`;

/**
 * A person's trail reads the person-first copy, where the person's rows are
 * one stretch of the sorting key (milliseconds, where access_events FINAL
 * over the same range reads every event of the range). That copy keeps an
 * event's earlier attribution under the earlier person when enrichment
 * re-attributed it (see 0001_access_events.sql), so a row counts only if it
 * is the event's latest enrichment in access_events: looked up there by the
 * person's own events' times (the leading key column, so only their granules
 * are read) and ids. FINAL collapses redelivered copies.
 */
const PERSON_TEMPLATE = `SELECT
    ${TRAIL_COLUMNS.map((c) => (c.sql ? `${c.sql} AS ${c.name}` : c.name)).join(',\n    ')}
FROM access_events_by_person FINAL
WHERE person_key = {subject:String}
  AND ${RANGE}
  AND event_time_ms >= {from_ms:UInt64} AND event_time_ms < {to_ms:UInt64}
  AND ${SUBJECT_FILTERS.person}
  AND (event_id, enriched_at_ms) IN (
        SELECT event_id, max(enriched_at_ms) FROM access_events
        WHERE ${RANGE}
          AND event_time IN (SELECT event_time FROM access_events_by_person WHERE person_key = {subject:String} AND ${RANGE})
          AND event_id IN (SELECT event_id FROM access_events_by_person WHERE person_key = {subject:String} AND ${RANGE})
        GROUP BY event_id)
ORDER BY event_time_ms, event_id`;

/** The SQL template for a subject kind (placeholders unbound). */
export function trailTemplate(subject: TrailSubject): string {
  if (subject === 'person') return PERSON_TEMPLATE;
  // event_time bounds prune partitions and the primary key; the _ms bounds are exact.
  return `${TEMPLATE_HEAD}${SUBJECT_FILTERS[subject]}
ORDER BY event_time_ms, event_id`;
}

export const TRAIL_MANIFEST_COLUMNS: Column[] = TRAIL_COLUMNS.map(({ sql: _sql, ...column }) => column);

/** Builds the bound query and the manifest header; refuses an empty or reversed range. */
export function trailQuery(request: TrailRequest): TrailQuery {
  const { subject, value, fromMs, toMs } = request;
  if (value.trim() === '') throw trailError(`the ${subject} to trail is empty`);
  toEpochMs(fromMs, 'from');
  toEpochMs(toMs, 'to');
  if (!(fromMs < toMs)) throw trailError(`the time range is empty: from ${iso(fromMs)} is not before to ${iso(toMs)}`);
  const params: Record<string, string | number> = {
    subject: value,
    from: fromMs,
    to: toMs,
    from_ms: fromMs,
    to_ms: toMs,
  };
  if (subject === 'nhi') {
    const m = /^([^:]+):([^:]+):(.+)$/.exec(value);
    if (!m) throw trailError(`NHI ids look like '<platform>:<kind>:<platform id>', got ${JSON.stringify(value)}`);
    params.platform = m[1]!;
    params.platform_id = m[3]!;
  }
  const sql = bindQuery(trailTemplate(subject), params as Params);
  return {
    sql,
    columns: TRAIL_MANIFEST_COLUMNS,
    header: {
      subject: { kind: subject, value },
      time_range: { from: iso(fromMs), to: iso(toMs) },
      query: sql,
      parameters: params,
      columns: TRAIL_MANIFEST_COLUMNS,
    },
  };
}

export interface ExportOptions {
  now: Date;
  /** Fail rather than return more rows than this (the export is never cut silently). */
  maxRows?: number;
  signal?: AbortSignal;
}

/**
 * Streams the trail's rows through the format's writer into `write`, hashing
 * each as it goes; resolves with the manifest once the last row is written.
 */
export async function exportTrail(
  runner: QueryRunner,
  query: TrailQuery,
  format: ExportFormat,
  write: (chunk: string) => void | Promise<void>,
  options: ExportOptions,
): Promise<Manifest> {
  const writer = exportWriter(format, query.columns);
  // generated_at and the format are fixed now, and hashed into h0 with the rest of the header.
  const chain = new HashChain(chainHeader(query.header, format, options.now));
  await write(writer.begin());
  for await (const record of runner.stream(query.sql, options.signal)) {
    if (options.maxRows !== undefined && chain.rowHashes.length >= options.maxRows) {
      throw tetherError('TETHER_QUERY_BIND', `the trail has more than ${options.maxRows} rows: narrow the time range`, {
        context: { maxRows: options.maxRows },
      });
    }
    const row = normaliseRow(query.columns, record);
    chain.push(row);
    await write(writer.row(row));
  }
  await write(writer.end());
  return buildManifest(query.header, chain, format, options.now);
}

/**
 * Checks an exported file (its bytes, or its text) against its manifest:
 * the rows' values through the hash chain, and the file's bytes against what
 * the writer makes of those values. Names the first row that differs. The
 * CLI streams the file through verifyStream instead (verify.ts).
 */
export function verifyExport(file: string | Uint8Array, manifest: Manifest): VerifyResult {
  return verifyBytes(file, manifest);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function trailError(message: string): Error {
  return tetherError('TETHER_QUERY_BIND', message);
}
