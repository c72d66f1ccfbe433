// Which osquery table a scheduled query reads. Query names are the
// operator's (`pack/Global/ai_processes`, `it_sysinfo`…), so the table is
// known from an explicit mapping when the operator gives one, else from the
// columns the rows carry (reference §A1.4). A join of processes with
// process_open_sockets reads as sockets: the remote address is what makes
// the row evidence. Pure.
import type { ResultRow } from './result-record.ts';

export const TABLE_KINDS = [
  'system_info', 'os_version', 'logged_in_users', 'interface_addresses',
  'processes', 'apps', 'programs', 'chrome_extensions', 'firefox_addons', 'process_open_sockets',
] as const;
export type TableKind = (typeof TABLE_KINDS)[number];

type Signature = readonly [TableKind, (c: ReadonlySet<string>) => boolean];

const has = (c: ReadonlySet<string>, ...names: string[]) => names.every((n) => c.has(n));
const any = (c: ReadonlySet<string>, ...names: string[]) => names.some((n) => c.has(n));

// Most specific first.
const SIGNATURES: readonly Signature[] = [
  ['process_open_sockets', (c) => has(c, 'remote_address', 'remote_port')],
  ['system_info', (c) => has(c, 'uuid', 'hardware_serial') || has(c, 'uuid', 'cpu_brand', 'hostname')],
  ['interface_addresses', (c) => has(c, 'interface', 'address') && any(c, 'mask', 'broadcast', 'point_to_point')],
  ['logged_in_users', (c) => has(c, 'user', 'tty', 'time') && any(c, 'type', 'host')],
  ['os_version', (c) => has(c, 'name', 'version', 'major', 'minor', 'platform')],
  ['chrome_extensions', (c) => c.has('identifier') && any(c, 'browser_type', 'profile', 'profile_path', 'update_url', 'from_webstore')],
  ['firefox_addons', (c) => c.has('identifier') && any(c, 'creator', 'source_url', 'autoupdate')],
  ['apps', (c) => c.has('bundle_identifier')],
  ['programs', (c) => c.has('identifying_number') || has(c, 'publisher', 'install_location')],
  ['processes', (c) => has(c, 'pid', 'name', 'path') && any(c, 'cmdline', 'parent', 'state', 'uid', 'start_time')],
];

/** The table behind a query's rows: the operator's mapping (by full name or its last segment) first, else by columns; null when unknown. */
export function tableKindOf(queryName: string, rows: readonly ResultRow[], mapping: Readonly<Record<string, TableKind>> = {}): TableKind | null {
  const mapped = Object.hasOwn(mapping, queryName) ? mapping[queryName] : Object.hasOwn(mapping, lastSegment(queryName)) ? mapping[lastSegment(queryName)] : undefined;
  if (mapped) return mapped;
  const first = rows[0];
  if (!first) return null;
  const columns = new Set(Object.keys(first.columns));
  for (const [kind, matches] of SIGNATURES) if (matches(columns)) return kind;
  return null;
}

/** Pack queries are `pack<d><pack><d><query>` with `_` or Fleet's `/` as the delimiter. */
export function lastSegment(queryName: string): string {
  const slash = queryName.lastIndexOf('/');
  return slash >= 0 ? queryName.slice(slash + 1) : queryName;
}
