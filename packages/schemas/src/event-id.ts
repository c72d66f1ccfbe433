import { createHash } from 'node:crypto';

/**
 * Deterministic event id: the same source record always maps to the same id,
 * which is what makes re-ingest and redelivery idempotent downstream.
 */
export function deriveEventId(platform: string, feed: string, sourceEventId: string): string {
  return createHash('sha256').update(`${platform}\u0000${feed}\u0000${sourceEventId}`).digest('hex').slice(0, 32);
}

/** Key of a versioned identity record on its compacted topic: every version survives compaction. */
export function versionKey(entityId: string, validFrom: number): string {
  return `${entityId}@${validFrom}`;
}
