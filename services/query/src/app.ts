// The query layer as one object the CLI and the HTTP API share: trails,
// connector and orphan reports, saved hunts, over one read-only ClickHouse
// runner. Inputs arrive validated (params.ts); nothing here reads the
// environment.
import { createClickHouse, loggableClickHouseMessage, pendingMigrations, type ClickHouse } from '#clickhouse';
import { errorMessage, tetherError } from '#errors';
import type { Logger } from '#log';
import type { Manifest } from './chain.ts';
import type { QueryConfig } from './config.ts';
import { connectorsQuery, type ConnectorFilter } from './connectors.ts';
import { queryRunner, type QueryRunner, type ResultRow } from './executor.ts';
import type { ExportFormat } from './export-format.ts';
import { findingsQuery, type FindingFilter } from './findings.ts';
import { bindHunt, HUNTS_DIR, loadHunts, type Hunt } from './hunts.ts';
import { orphansQuery, type OrphanFilter } from './orphans.ts';
import { runReport, type ReportRow } from './report.ts';
import { exportTrail, trailQuery, type TrailRequest } from './trail.ts';

export interface QueryAppDeps {
  log: Logger;
  /** A client to use instead of one made from the config (tests); the caller closes it. */
  clickhouse?: ClickHouse;
  now?: () => Date;
  huntsDir?: string;
}

export interface HuntResult {
  hunt: Hunt;
  sql: string;
  rows: ResultRow[];
}

export interface QueryApp {
  readonly config: Readonly<QueryConfig>;
  readonly log: Logger;
  readonly hunts: ReadonlyMap<string, Hunt>;
  now(): Date;
  trail(request: TrailRequest, format: ExportFormat, write: (chunk: string) => void | Promise<void>, options?: { maxRows?: number; signal?: AbortSignal }): Promise<Manifest>;
  connectors(filter: ConnectorFilter, signal?: AbortSignal): Promise<ReportRow[]>;
  orphans(filter: OrphanFilter, signal?: AbortSignal): Promise<ReportRow[]>;
  findings(filter: FindingFilter, signal?: AbortSignal): Promise<ReportRow[]>;
  hunt(name: string, raw: Readonly<Record<string, string | readonly string[]>>, signal?: AbortSignal): Promise<HuntResult>;
  /** How many rows a trail has, so an answer over the cap is refused before its first byte. */
  trailRowCount(request: TrailRequest, signal?: AbortSignal): Promise<number>;
  ping(): Promise<boolean>;
  /** Readiness: ClickHouse answers and holds every migration. */
  ready(): Promise<Record<string, { ok: boolean; detail?: string }>>;
  close(): Promise<void>;
}

export function buildQueryApp(config: Readonly<QueryConfig>, deps: QueryAppDeps): QueryApp {
  const { log } = deps;
  const ch = deps.clickhouse ?? createClickHouse({
    url: config.TETHER_CLICKHOUSE_URL,
    username: config.TETHER_CLICKHOUSE_USER,
    password: config.TETHER_CLICKHOUSE_PASSWORD,
    database: config.TETHER_CLICKHOUSE_DATABASE,
    // The server stops the query at TETHER_QUERY_TIMEOUT_MS; the request waits a little longer for its answer.
    requestTimeoutMs: config.TETHER_QUERY_TIMEOUT_MS + 5_000,
    application: 'tether-query',
  });
  const runner: QueryRunner = queryRunner(ch, { timeoutMs: config.TETHER_QUERY_TIMEOUT_MS, maxRows: config.TETHER_QUERY_MAX_ROWS });
  const hunts = loadHunts(deps.huntsDir ?? HUNTS_DIR);
  const now = deps.now ?? (() => new Date());

  return {
    config,
    log,
    hunts,
    now,
    async trail(request, format, write, options = {}) {
      const query = trailQuery(request);
      const manifest = await exportTrail(runner, query, format, write, { now: now(), ...options });
      log.debug({ subject: request.subject, rows: manifest.row_count }, 'trail exported');
      return manifest;
    },
    connectors: (filter, signal) => runReport(runner, connectorsQuery(filter), signal),
    orphans: (filter, signal) => runReport(runner, orphansQuery(filter), signal),
    findings: (filter, signal) => runReport(runner, findingsQuery(filter), signal),
    async hunt(name, raw, signal) {
      const hunt = hunts.get(name);
      if (!hunt) {
        throw tetherError('TETHER_QUERY_UNKNOWN', `no hunt named ${JSON.stringify(name)} (known: ${[...hunts.keys()].join(', ')})`);
      }
      const sql = bindHunt(hunt, raw, now());
      const rows = await runner.rows(sql, signal);
      log.debug({ hunt: name, rows: rows.length }, 'hunt ran');
      return { hunt, sql, rows };
    },
    async trailRowCount(request, signal) {
      const [row] = await runner.rows(`SELECT count() AS n FROM (${trailQuery(request).sql})`, signal);
      return Number(row?.n ?? 0);
    },
    ping: () => ch.ping().catch(() => false),
    async ready() {
      if (!(await ch.ping().catch(() => false))) {
        return { clickhouse: { ok: false, detail: `${config.TETHER_CLICKHOUSE_URL} does not answer` }, schema_migrated: { ok: false, detail: 'unknown' } };
      }
      try {
        const pending = await pendingMigrations(ch);
        return { clickhouse: { ok: true }, schema_migrated: pending.length === 0 ? { ok: true } : { ok: false, detail: `pending: ${pending.join(', ')} (run tether migrate)` } };
      } catch (err) {
        return { clickhouse: { ok: true }, schema_migrated: { ok: false, detail: loggableClickHouseMessage(errorMessage(err)) } };
      }
    },
    // A client handed in belongs to the caller.
    close: () => (deps.clickhouse ? Promise.resolve() : ch.close()),
  };
}
