// The framework's inventory snapshot (#source runInventorySnapshot, the diff
// a poll makes) run on listings in memory: what each listing emits, what it
// dead-letters, and the cursor the next one starts from. For tests of a
// source's inventory without a server or a broker.
import { createLogger } from '#log';
import type { DeviceVersion } from '#schemas';
import { runInventorySnapshot, serialiseElement, type InventoryCursor, type InventoryDef, type PageSink } from '#source';

export interface Listed {
  versions: DeviceVersion[];
  keys: string[];
  dead: { raw: string; code: string; message: string }[];
  cursor: InventoryCursor<never>;
}

export async function listing(def: InventoryDef<never>, items: readonly unknown[], observedAt: number, cursor?: InventoryCursor<never>): Promise<Listed> {
  const out: Listed = { versions: [], keys: [], dead: [], cursor: { observedAt: null, entities: {} } };
  const sink: PageSink = {
    async commit(page) {
      const records = [...page.items.flatMap((i) => (i.result.ok ? i.result.records : [])), ...(page.derived ?? [])];
      for (const r of records) {
        if (r.role !== 'identityDevices') continue;
        out.keys.push(r.key);
        out.versions.push(r.value);
      }
      for (const i of page.items) {
        if (i.result.ok) continue;
        const error = i.result.error as { code: string; message: string };
        out.dead.push({ raw: i.raw.toString(), code: error.code, message: error.message });
      }
      return { sent: records.length, dead: 0, checkpoint: undefined };
    },
  };
  const result = await runInventorySnapshot(
    { source: `test/${def.feed}`, pages: async function* () { yield items; }, process: (item) => def.process(item), emit: def.emit, rawOf: serialiseElement },
    { checkpointId: 'test', cursor, now: () => observedAt, sink, signal: new AbortController().signal, log: createLogger({ service: 'test', level: 'silent' }) },
  );
  out.cursor = result.cursor;
  return out;
}

/** A device as of t on the compacted topic: its version with the latest valid_from <= t. */
export function asOf(versions: readonly DeviceVersion[], deviceId: string, t: number): DeviceVersion | undefined {
  return versions.filter((v) => v.device_id === deviceId && v.valid_from <= t).sort((a, b) => b.valid_from - a.valid_from)[0];
}
