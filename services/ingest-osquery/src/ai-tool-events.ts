// AI tools seen on endpoints as access events (issue 16 item 3): an AI
// desktop app or IDE running (processes, apps, programs), an AI browser
// extension installed (chrome_extensions, firefox_addons), a connection to
// an AI platform's API address (process_open_sockets). What counts as AI is
// the operator's catalogue, asked as of the run's time. Event ids are
// derived from host, query, time, action and the canonical row, so reading
// the same result again never makes a second event. Pure.
import { deriveEventId, type AccessEvent, type OcsfClass, type Target } from '#schemas';
import { rowKey, type HostIdentity } from './device-state.ts';
import type { ResultRecord, ResultRow } from './result-record.ts';
import { tableKindOf, type TableKind } from './table-kind.ts';

export const INGEST_VERSION = 'ingest-osquery/1';

/** What the catalogue says of one thing seen on an endpoint. */
export interface CatalogueMatch {
  /** The catalogue entry's id, e.g. `chatgpt-desktop`. */
  id: string;
  name: string;
  /** Who makes it (OpenAI, Anthropic…), when the catalogue says. */
  vendor: string | null;
  sanctioned: boolean;
}

/** The questions osquery evidence asks of the AI catalogue, as of a time. */
export interface EndpointCatalogue {
  app(candidate: { name: string | null; path: string | null; bundleId: string | null }, at: number): CatalogueMatch | null;
  /** `browser` as osquery names it: chrome_extensions' browser_type (chrome, edge, brave…) or firefox. */
  extension(browser: string, id: string, at: number): CatalogueMatch | null;
  apiAddress(address: string, at: number): CatalogueMatch | null;
}


const EVIDENCE: Partial<Record<TableKind, { action: string; ocsf: OcsfClass; target: string }>> = {
  processes: { action: 'endpoint.ai_app.running', ocsf: ocsf(1, 1007, 1), target: 'ai_app' },
  apps: { action: 'endpoint.ai_app.installed', ocsf: ocsf(5, 5020, 2), target: 'ai_app' },
  programs: { action: 'endpoint.ai_app.installed', ocsf: ocsf(5, 5020, 2), target: 'ai_app' },
  chrome_extensions: { action: 'endpoint.ai_extension.installed', ocsf: ocsf(5, 5020, 2), target: 'ai_extension' },
  firefox_addons: { action: 'endpoint.ai_extension.installed', ocsf: ocsf(5, 5020, 2), target: 'ai_extension' },
  process_open_sockets: { action: 'endpoint.ai_api.connection', ocsf: ocsf(5, 5012, 1), target: 'ai_api' },
};

export interface EvidenceContext {
  catalogue: EndpointCatalogue;
  host: HostIdentity;
  ingestedAt: number;
  rawBytes: Buffer;
  /** The table the record's query reads, when the caller placed it already. */
  kind?: TableKind | null;
  tableMapping?: Readonly<Record<string, TableKind>>;
}

/** The AI access events one result record shows; rows the catalogue does not know are not events. */
export function aiToolEvents(record: ResultRecord, ctx: EvidenceContext): AccessEvent[] {
  const kind = ctx.kind !== undefined ? ctx.kind : tableKindOf(record.name, record.rows, ctx.tableMapping);
  const evidence = kind === null ? undefined : EVIDENCE[kind];
  if (kind === null || evidence === undefined) return [];
  const out: AccessEvent[] = [];
  const seen = new Set<string>();
  for (const row of record.rows) {
    // A removal says the app stopped or the extension went: not an access.
    if (row.action === 'removed') continue;
    const match = matchRow(kind, row, record.timeMs, ctx.catalogue);
    if (match === null) continue;
    const canonical = rowKey(row.columns);
    const sourceEventId = `${record.hostIdentifier}\u0000${record.timeMs}\u0000${row.action}\u0000${canonical}`;
    if (seen.has(sourceEventId)) continue;
    seen.add(sourceEventId);
    out.push(toEvent(record, row, kind, evidence, match, sourceEventId, ctx));
  }
  return out;
}

function matchRow(kind: TableKind, row: ResultRow, at: number, catalogue: EndpointCatalogue): CatalogueMatch | null {
  const c = row.columns;
  switch (kind) {
    case 'processes':
    case 'apps':
    case 'programs':
      return catalogue.app({ name: c.name ?? c.bundle_name ?? null, path: c.path ?? c.install_location ?? null, bundleId: c.bundle_identifier ?? null }, at);
    case 'chrome_extensions':
      return c.identifier ? catalogue.extension(c.browser_type || 'chrome', c.identifier, at) : null;
    case 'firefox_addons':
      return c.identifier ? catalogue.extension('firefox', c.identifier, at) : null;
    case 'process_open_sockets':
      return c.remote_address ? catalogue.apiAddress(c.remote_address, at) : null;
    default:
      return null;
  }
}

function toEvent(
  record: ResultRecord,
  row: ResultRow,
  kind: TableKind,
  evidence: { action: string; ocsf: OcsfClass; target: string },
  match: CatalogueMatch,
  sourceEventId: string,
  ctx: EvidenceContext,
): AccessEvent {
  const c = row.columns;
  const targets: Target[] = [{ type: evidence.target, id: match.id, name: match.name }];
  if (kind === 'process_open_sockets' && c.remote_address) targets.push({ type: 'network_address', id: `${c.remote_address}:${c.remote_port ?? ''}`, name: null });
  return {
    event_id: deriveEventId('osquery', record.name, sourceEventId),
    source: { platform: 'osquery', feed: record.name, source_event_id: sourceEventId, ingested_at: ctx.ingestedAt, ingest_version: INGEST_VERSION },
    time: record.timeMs,
    time_raw: record.timeRaw,
    action: evidence.action,
    source_type: `osquery:${kind}:${row.action}`,
    outcome: 'success',
    ocsf: evidence.ocsf,
    // The endpoint acted; enrichment finds the person using the device at that time.
    actor: { kind: 'device', platform_user_id: null, email: null, name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
    targets,
    scope: { organization_id: null, project_id: null, workspace_id: null },
    src: {
      ip: null,
      user_agent: null,
      hostname: ctx.host.hostname,
      device_serial: ctx.host.serial,
      device_id: ctx.host.deviceId,
      country: null,
    },
    connector: null,
    raw: ctx.rawBytes,
    unmapped: JSON.stringify({
      host_identifier: record.hostIdentifier,
      query: record.name,
      ai_vendor: match.vendor,
      sanctioned: match.sanctioned,
      columns: c,
      decorations: record.decorations,
    }),
  };
}

function ocsf(category: number, classUid: number, activity: number): OcsfClass {
  return { category_uid: category, class_uid: classUid, activity_id: activity, type_uid: classUid * 100 + activity, severity_id: 1 };
}
