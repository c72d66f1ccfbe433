// Renders report and hunt rows for a terminal or a file: an aligned text
// table for people, JSON / NDJSON / CSV for tools. Pure.
import { normaliseRow, type Column, type ColumnKind } from './chain.ts';
import { exportWriter } from './export-format.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'ndjson', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

type Rows = readonly Record<string, unknown>[];

export function renderRows(format: OutputFormat, rows: Rows, columns: readonly Column[] = inferColumns(rows)): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`;
    case 'ndjson':
      return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
    case 'csv': {
      const writer = exportWriter('csv', columns);
      return writer.begin() + rows.map((row) => writer.row(normaliseRow(columns, row))).join('') + writer.end();
    }
    case 'table':
      return table(rows, columns);
  }
}

/** Column kinds read off the values, for results (hunts) whose shape is not declared. */
export function inferColumns(rows: Rows): Column[] {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return names.map((name) => {
    const values = rows.map((row) => row[name]);
    const present = values.filter((v) => v !== null && v !== undefined);
    const kind: ColumnKind = present.every(Array.isArray) && present.length > 0
      ? 'strings'
      : present.length > 0 && present.every((v) => typeof v === 'number')
        ? 'number'
        : present.length > 0 && present.every((v) => typeof v === 'boolean')
          ? 'bool'
          : 'string';
    return { name, kind, ...(present.length < values.length ? { nullable: true } : {}) };
  });
}

const MAX_CELL = 48;

function table(rows: Rows, columns: readonly Column[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const header = columns.map((c) => c.name);
  const body = rows.map((row) => columns.map((c) => cell(c.name, row[c.name])));
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}

function cell(name: string, value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '-';
  else if (Array.isArray(value)) text = value.join(',');
  else if (name.endsWith('_ms') && /^\d{10,14}$/.test(String(value))) text = new Date(Number(value)).toISOString().replace('.000Z', 'Z');
  else text = String(value);
  // Control characters would break the table, and C0/C1 ones drive a terminal: shown escaped.
  text = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}
