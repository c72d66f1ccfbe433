// Runs a rule pack over events already in ClickHouse (access_events after
// deduplication, in event-time order) on a fresh in-memory state: what the
// pack would have found. Reads in pages by (event_time_ms, event_id), so a
// long range does not have to fit in one answer.
import { accessEventFromRow, TABLES, type ClickHouse, type ClickHouseJsonRow } from '#clickhouse';
import type { Finding } from '#schemas';
import { bindQuery } from '../../query/src/bind.ts';
import { DetectEngine } from './engine/engine.ts';
import { StateStore } from './engine/state.ts';
import type { CompiledRule } from './rules/load.ts';

export const BACKTEST_PAGE_ROWS = 5_000;

const PAGE = `SELECT * FROM ${TABLES.accessEvents} FINAL
WHERE event_time >= {since:DateTime} AND event_time <= {until:DateTime}
  AND event_time_ms >= {since_ms:UInt64} AND event_time_ms < {until_ms:UInt64}
  AND (event_time_ms > {after_ms:UInt64} OR (event_time_ms = {after_ms:UInt64} AND event_id > {after_id:String}))
ORDER BY event_time_ms, event_id
LIMIT {page:UInt64}`;

export interface BacktestResult {
  events: number;
  findings: Finding[];
}

export async function backtest(options: {
  clickhouse: ClickHouse;
  rules: readonly CompiledRule[];
  sinceMs: number;
  untilMs: number;
  maxEntries?: number;
  firstSeenMaxValues?: number;
  pageRows?: number;
  now?: () => number;
}): Promise<BacktestResult> {
  const engine = new DetectEngine(options.rules, new StateStore({ maxEntries: options.maxEntries ?? 500_000 }), {
    firstSeenMaxValues: options.firstSeenMaxValues ?? 1_000,
    now: options.now,
  });
  const findings: Finding[] = [];
  let events = 0;
  // Rows strictly after this (time, id) pair: a millisecond before the range to begin with.
  let afterMs = Math.max(0, options.sinceMs - 1);
  let afterId = '';
  const page = options.pageRows ?? BACKTEST_PAGE_ROWS;
  for (;;) {
    const sql = bindQuery(PAGE, {
      since: options.sinceMs, until: options.untilMs, since_ms: options.sinceMs, until_ms: options.untilMs, after_ms: afterMs, after_id: afterId, page });
    const rows = await options.clickhouse.queryRows<ClickHouseJsonRow>(sql);
    for (const row of rows) {
      const event = accessEventFromRow(row);
      findings.push(...engine.process(event));
      events += 1;
      afterMs = event.event.time;
      afterId = event.event.event_id;
    }
    if (rows.length < page) break;
  }
  return { events, findings };
}
