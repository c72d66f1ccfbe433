// Imports a directory CSV onto tether.identity.users: valid rows as
// PersonVersions keyed by '<person_id>@<valid_from>', refused rows to the DLQ
// with their bytes and reason, a file that cannot be read at all to the DLQ
// whole. Notes (unresolved managers, shared addresses) are logged.
import type { TetherError } from '#errors';
import { versionKey } from '#schemas';
import { importItems, type FileImportDeps, type FileImportSummary, type ProcessedItem } from '#source';
import { normaliseDirectoryCsv } from './csv-directory.ts';
import type { DirectoryNote } from './reconcile.ts';

export const SOURCE = 'directory/csv';

export interface DirectoryImportSummary extends FileImportSummary {
  fileError: TetherError | null;
  blankRows: number;
  notes: DirectoryNote[];
}

/** Notes logged in full; the rest are counted. */
const NOTES_LOGGED = 20;

export async function importDirectoryCsv(bytes: Buffer, deps: Omit<FileImportDeps, 'service'>, now = Date.now()): Promise<DirectoryImportSummary> {
  const parsed = normaliseDirectoryCsv(bytes, { observedAt: now });
  const items: ProcessedItem[] = parsed.fileError
    ? [{ raw: bytes, result: { ok: false, stage: 'parsing', error: parsed.fileError } }]
    : parsed.rows.map((row) => ({
        raw: row.raw,
        result: row.ok
          ? { ok: true, records: row.versions.map((v) => ({ role: 'identityUsers' as const, key: versionKey(v.person_id, v.valid_from), value: v })) }
          : { ok: false, stage: row.error.code === 'TETHER_SOURCE_PARSE' ? 'parsing' : 'normalising', error: row.error },
      }));
  if (parsed.fileError) deps.log.error({ source: SOURCE, err: parsed.fileError }, 'directory file refused whole');
  if (parsed.ignoredColumns.length > 0) deps.log.info({ source: SOURCE, columns: parsed.ignoredColumns }, 'directory columns not read');
  if (parsed.notes.length > 0) {
    const kinds: Record<string, number> = {};
    for (const n of parsed.notes) kinds[n.kind] = (kinds[n.kind] ?? 0) + 1;
    deps.log.warn({ source: SOURCE, kinds, notes: parsed.notes.slice(0, NOTES_LOGGED) }, 'directory rows imported with findings');
  }
  const summary = await importItems(SOURCE, items, { ...deps, service: 'ingest-directory' });
  return { ...summary, fileError: parsed.fileError, blankRows: parsed.blankRows, notes: parsed.notes };
}
