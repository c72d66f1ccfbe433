// A report is a bound query plus the typed columns of its rows: ClickHouse's
// JSON quotes 64-bit integers and gives booleans as 0/1; callers get numbers
// and booleans back.
import { normaliseRow, type Column } from './chain.ts';
import type { QueryRunner, ResultRow } from './executor.ts';

export interface Report {
  sql: string;
  columns: Column[];
}

export type ReportRow = Record<string, string | number | boolean | null | string[]>;

export async function runReport(runner: QueryRunner, report: Report, signal?: AbortSignal): Promise<ReportRow[]> {
  const records = await runner.rows(report.sql, signal);
  return records.map((record) => typedRow(report.columns, record));
}

export function typedRow(columns: readonly Column[], record: ResultRow): ReportRow {
  const row = normaliseRow(columns, record);
  return Object.fromEntries(columns.map((c, i) => [c.name, row[i]!]));
}
