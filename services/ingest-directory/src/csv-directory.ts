// Directory CSV import (reference: sources-grants-and-identity §6.3): UTF-8,
// RFC 4180, header row, ISO 8601 dates. Each row is one version of a person
// as of `updated_at` (a terminated row with `end_date` takes effect then), so
// an HR history export of many rows per person replays joins, moves and
// leaves in order. Pure: bytes in, PersonVersions or typed errors out.
import { parse } from 'csv-parse/sync';
import { tetherError, type TetherError } from '#errors';
import type { IdentityAlias, PersonVersion } from '#schemas';

export const REQUIRED_COLUMNS = ['email', 'external_id', 'status', 'source', 'updated_at'] as const;
const STATUSES = { active: 'active', suspended: 'suspended', terminated: 'inactive' } as const;

export type DirectoryRow =
  | { ok: true; line: number; raw: Buffer; version: PersonVersion }
  | { ok: false; line: number; raw: Buffer; error: TetherError };

export interface CsvContext {
  observedAt: number;
  feed?: string;
}

/** Parses a whole file; a file without the required header fails as a whole. */
export function normaliseDirectoryCsv(bytes: Buffer, ctx: CsvContext): DirectoryRow[] {
  const records = parseCsv(bytes);
  const header = records.shift();
  if (!header) throw tetherError('TETHER_SOURCE_PARSE', 'directory CSV is empty');
  const columns = header.record.map((h) => h.trim().toLowerCase());
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw tetherError('TETHER_SOURCE_PARSE', `directory CSV lacks required columns: ${missing.join(', ')}`);

  const rows = records.map(({ record, line, raw }) => ({ line, raw, fields: toFields(columns, record) }));
  const managers = managerIndex(rows.map((r) => r.fields));
  return rows.map(({ line, raw, fields }) => {
    try {
      return { ok: true, line, raw, version: toVersion(fields, managers, ctx) };
    } catch (err) {
      const error = err as TetherError;
      return { ok: false, line, raw, error: tetherError(error.code ?? 'TETHER_NORMALISE_INVALID', `row ${line}: ${error.message}`) };
    }
  });
}

function parseCsv(bytes: Buffer): { record: string[]; line: number; raw: Buffer }[] {
  try {
    const parsed = parse(bytes, { bom: true, raw: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as {
      record: string[];
      raw: string;
      info: { lines: number };
    }[];
    return parsed.map((p) => ({ record: p.record, line: p.info.lines, raw: Buffer.from(p.raw.replace(/\r?\n$/, '')) }));
  } catch (err) {
    throw tetherError('TETHER_SOURCE_PARSE', `directory CSV is not valid RFC 4180: ${(err as Error).message}`, { cause: err });
  }
}

type Fields = Record<string, string | undefined>;

function toFields(columns: string[], record: string[]): Fields {
  const fields: Fields = {};
  columns.forEach((column, i) => {
    const value = record[i]?.trim();
    fields[column] = value === '' ? undefined : value;
  });
  return fields;
}

function personId(fields: Fields): string {
  return `${fields.source!.toLowerCase()}:${fields.external_id}`;
}

/** Managers are named by email or employee number; the file itself says whose id that is. */
function managerIndex(rows: Fields[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const f of rows) {
    if (!f.external_id || !f.source) continue;
    if (f.email) index.set(`email:${f.email.toLowerCase()}`, personId(f));
    if (f.employee_number) index.set(`employee:${f.employee_number}`, personId(f));
  }
  return index;
}

function toVersion(f: Fields, managers: Map<string, string>, ctx: CsvContext): PersonVersion {
  for (const column of REQUIRED_COLUMNS) if (!f[column]) throw invalid(`${column} is empty`);
  const email = f.email!.toLowerCase();
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid(`email ${JSON.stringify(f.email)} is not an address`);
  const status = f.status!.toLowerCase();
  if (!Object.hasOwn(STATUSES, status)) throw invalid(`status ${JSON.stringify(f.status)} is not active, suspended or terminated`);
  const lifecycle = STATUSES[status as keyof typeof STATUSES];
  const updatedAt = parseTime(f.updated_at!, 'updated_at');
  const endDate = f.end_date ? parseTime(f.end_date, 'end_date') : undefined;
  // A leaver's version holds from the day they left, not from when HR typed it in.
  const validFrom = lifecycle === 'inactive' && endDate !== undefined ? endDate : updatedAt;

  const aliases: IdentityAlias[] = [{ kind: 'email', value: email }, { kind: 'external_id', value: f.external_id! }];
  if (f.employee_number) aliases.push({ kind: 'employee_number', value: f.employee_number });
  if (f.user_name) aliases.push({ kind: f.user_name.includes('@') ? 'upn' : 'user_name', value: f.user_name.toLowerCase() });
  for (const alias of (f.aliases ?? '').split(';').map((a) => a.trim()).filter(Boolean)) {
    aliases.push({ kind: alias.includes('@') ? 'email' : 'alias', value: alias.toLowerCase() });
  }
  const manager =
    (f.manager_email && managers.get(`email:${f.manager_email.toLowerCase()}`)) ||
    (f.manager_employee_number && managers.get(`employee:${f.manager_employee_number}`)) ||
    null;

  return {
    person_id: personId(f),
    record_kind: 'directory',
    valid_from: validFrom,
    source: { platform: f.source!.toLowerCase(), feed: ctx.feed ?? 'directory_csv', source_time: f.updated_at!, observed_at: ctx.observedAt },
    active: lifecycle === 'active',
    lifecycle_state: lifecycle,
    email,
    display_name: f.display_name ?? ([f.given_name, f.family_name].filter(Boolean).join(' ') || null),
    department: f.department ?? null,
    title: f.title ?? null,
    manager_person_id: manager,
    aliases: dedupeAliases(aliases),
    platform_role: null,
  };
}

function dedupeAliases(aliases: IdentityAlias[]): IdentityAlias[] {
  const seen = new Set<string>();
  return aliases.filter((a) => {
    const key = `${a.kind}\u0000${a.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** ISO 8601 date or date-time; a date alone is midnight UTC. Anything else is an error, not a guess. */
export function parseTime(value: string, column: string): number {
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
  if (!iso.test(value)) throw invalid(`${column} ${JSON.stringify(value)} is not an ISO 8601 date`);
  const normalised = value.length === 10 ? `${value}T00:00:00Z` : /[Zz]|[+-]\d{2}:?\d{2}$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(normalised.replace(' ', 'T'));
  if (Number.isNaN(ms)) throw invalid(`${column} ${JSON.stringify(value)} is not a valid date`);
  return ms;
}

function invalid(message: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message);
}
