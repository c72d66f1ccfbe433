// Imports device inventory exports onto tether.identity.devices.
import { versionKey } from '#schemas';
import { importItems, readJsonRecords, type FileImportDeps, type FileImportSummary, type ProcessedItem } from '#source';
import { normaliseFleetHost } from './fleet-hosts.ts';

export const SOURCE = 'fleet/hosts';

export async function importFleetHosts(path: string, deps: Omit<FileImportDeps, 'service'>, now = Date.now()): Promise<FileImportSummary> {
  const items: ProcessedItem[] = [];
  for await (const batch of readJsonRecords(path, { batchSize: 1_000 })) {
    for (const record of batch) {
      if (record.error) {
        items.push({ raw: record.raw, result: { ok: false, stage: 'parsing', error: record.error } });
        continue;
      }
      const result = normaliseFleetHost(record.value, { observedAt: now });
      items.push({
        raw: record.raw,
        result: result.ok
          ? { ok: true, records: [{ role: 'identityDevices', key: versionKey(result.version.device_id, result.version.valid_from), value: result.version }] }
          : { ok: false, stage: 'normalising', error: result.error },
      });
    }
  }
  return importItems(SOURCE, items, { ...deps, service: 'ingest-devices' });
}
