// Imports device inventory exports onto tether.identity.devices: each host
// as a DeviceVersion keyed '<device_id>@<valid_from>', refused hosts to the
// DLQ with their bytes and reason; findings (dropped IPs, merged or shared
// serials) are logged.
import { versionKey } from '#schemas';
import { importItems, readJsonRecords, type FileImportDeps, type FileImportSummary, type ProcessedItem } from '#source';
import { normaliseFleetHosts, type HostInput, type HostNote } from './fleet-import.ts';

export const SOURCE = 'fleet/hosts';

export interface HostsImportSummary extends FileImportSummary {
  notes: HostNote[];
}

/** Notes logged in full; the rest are counted. */
const NOTES_LOGGED = 20;

export async function importFleetHosts(path: string, deps: Omit<FileImportDeps, 'service'>, now = Date.now()): Promise<HostsImportSummary> {
  // The whole export is read before anything is sent: duplicates and merges are decided across it.
  const inputs: HostInput[] = [];
  // The normaliser refuses replacement characters in every identifier it keeps, and only there.
  for await (const batch of readJsonRecords(path, { batchSize: 1_000, invalidUtf8: 'replace' })) inputs.push(...batch);
  const { rows, notes } = normaliseFleetHosts(inputs, { observedAt: now });
  const items: ProcessedItem[] = rows.map((row) => ({
    raw: row.raw,
    result: row.ok
      ? { ok: true, records: [{ role: 'identityDevices', key: versionKey(row.version.device_id, row.version.valid_from), value: row.version }] }
      : { ok: false, stage: row.stage, error: row.error },
  }));
  if (notes.length > 0) deps.log.warn({ source: SOURCE, count: notes.length, notes: notes.slice(0, NOTES_LOGGED) }, 'hosts imported with findings');
  const summary = await importItems(SOURCE, items, { ...deps, service: 'ingest-devices' });
  return { ...summary, notes };
}
