// The one inventory shape the MDM sources share: a listing of records, each
// read into a DeviceReading (or a typed error for the DLQ with its bytes),
// versioned over time by device-history.ts onto tether.identity.devices, and
// importable from an exported listing (the API's page envelope, a JSON
// array or JSONL of its records).
import type { TetherError } from '#errors';
import type { Logger } from '#log';
import { inventory, type InventoryDef } from '#source';
import { deviceEntity, deviceVersionRecords } from '../device-history.ts';
import type { DeviceReading } from '../device-reading.ts';
import type { ReadContext } from '../fields.ts';

export type DeviceRead = { ok: true; reading: DeviceReading; notes: string[] } | { ok: false; error: TetherError };

export function deviceInventory(options: {
  feed: string;
  pages(signal: AbortSignal): AsyncIterable<readonly unknown[]>;
  read(record: unknown, ctx: ReadContext): DeviceRead;
  log: Logger;
  /** The listing's time for the far-future check; the wall clock by default. */
  now?: () => number;
}): InventoryDef<never> {
  const now = options.now ?? Date.now;
  return inventory<DeviceReading>({
    feed: options.feed,
    pages: options.pages,
    process(item) {
      const read = options.read(item, { observedAt: now(), what: 'the listing' });
      if (!read.ok) return { ok: false, stage: 'normalising', error: read.error };
      if (read.notes.length > 0) options.log.debug({ feed: options.feed, record: read.reading.recordId, notes: read.notes }, 'record read with findings');
      return { ok: true, entities: [deviceEntity(read.reading)] };
    },
    emit: (change) => deviceVersionRecords(change, options.feed),
    importable: true,
  });
}

/** Pages of a paginate as the lists of their items an inventory yields. */
export async function* itemsOf(pages: AsyncIterable<{ items: readonly unknown[] }>): AsyncIterable<readonly unknown[]> {
  for await (const page of pages) yield page.items;
}
