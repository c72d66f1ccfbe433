// Imports a directory CSV onto tether.identity.users: valid rows as
// PersonVersions keyed by '<person_id>@<valid_from>', bad rows to the DLQ
// with their line.
import { versionKey } from '#schemas';
import { importItems, type FileImportDeps, type FileImportSummary, type ProcessedItem } from '#source';
import { normaliseDirectoryCsv } from './csv-directory.ts';

export const SOURCE = 'directory/csv';

export async function importDirectoryCsv(bytes: Buffer, deps: Omit<FileImportDeps, 'service'>, now = Date.now()): Promise<FileImportSummary> {
  const items: ProcessedItem[] = normaliseDirectoryCsv(bytes, { observedAt: now }).map((row) => ({
    raw: row.raw,
    result: row.ok
      ? { ok: true, records: [{ role: 'identityUsers', key: versionKey(row.version.person_id, row.version.valid_from), value: row.version }] }
      : { ok: false, stage: 'normalising', error: row.error },
  }));
  return importItems(SOURCE, items, { ...deps, service: 'ingest-directory' });
}
