// The re-attribution window kept on a compacted topic, so it survives a
// restart: an enrich restart between an audit backfill and the directory
// import must not leave the backfilled events unattributed.
//
// Why a compacted topic and not a rebuild from the event topics: what the
// window needs is what was *emitted* for each event (to know whether a new
// resolution improves on it), and the raw topic does not say that; re-reading
// the enriched topic for the window's span would cost a day of traffic at
// every start (and the admin client has no offsets-by-time). The journal holds
// only the window itself (at most TETHER_ENRICH_REATTRIBUTE_MAX_EVENTS live
// keys), so a start reads that much, whatever the traffic.
//
// Each entry is the EnrichedAccessEvent last emitted for the event (the event
// itself, the method and the person), keyed by event id; a forgotten entry is
// a tombstone. Notes are batched and written by flush(), which the event
// processor awaits before a batch settles, so an entry is on the topic before
// its event's offset is committed.
import { isRetriable } from '#errors';
import type { Producer, ProduceRecord } from '#kafka';
import type { Logger } from '#log';
import type { AccessEvent, Codec, EnrichedAccessEvent } from '#schemas';
import type { ReattributionJournal } from './reattribution.ts';
import { toEnriched } from './resolve/enrich.ts';

export interface JournalDeps {
  producer: Producer;
  codec: Codec;
  topic: string;
  log: Logger;
}

export function createReattributionJournal(deps: JournalDeps): ReattributionJournal<AccessEvent> {
  // Latest note per key: a note superseded before its flush is never written.
  let pending = new Map<string, ProduceRecord>();
  let writing: Promise<void> = Promise.resolve();

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await deps.producer.send([...batch.values()]);
    } catch (err) {
      // Kept for the next flush unless superseded meanwhile; delivery of the events never waits on this.
      for (const [key, record] of batch) if (!pending.has(key)) pending.set(key, record);
      deps.log.warn({ err, entries: batch.size }, 're-attribution journal write failed: kept for the next flush');
    }
  }

  return {
    kept(key, item, resolution, emittedAt) {
      try {
        const value = deps.codec.encode('enrichReattribution', toEnriched(item, resolution, emittedAt));
        pending.set(key, { topic: deps.topic, key, value });
      } catch (err) {
        // Encodable as enriched a moment ago, so this is unexpected: the entry is then memory only.
        deps.log.warn({ err, key }, 're-attribution entry could not be journalled');
      }
    },
    forgotten(key) {
      pending.set(key, { topic: deps.topic, key, value: null });
    },
    flush() {
      // One write at a time, in order: a later note for a key never lands before an earlier one.
      writing = writing.then(write);
      return writing;
    },
  };
}

export interface JournalEntry {
  key: string;
  enriched: EnrichedAccessEvent;
}

/**
 * The live entries of a journal read to its end (latest value per key,
 * tombstoned keys gone), oldest emit first. Values that do not decode are
 * skipped and counted: the window is an improvement, not a record of delivery.
 */
export async function journalEntries(
  records: ReadonlyMap<string, Buffer | null>,
  codec: Codec,
): Promise<{ entries: JournalEntry[]; undecodable: number }> {
  const entries: JournalEntry[] = [];
  let undecodable = 0;
  for (const [key, value] of records) {
    if (value === null) continue;
    try {
      entries.push({ key, enriched: await codec.decode('enrichReattribution', value) });
    } catch (err) {
      // A registry that is briefly unreachable says nothing about the record: fail the start, retry.
      if (isRetriable(err)) throw err;
      undecodable++;
    }
  }
  entries.sort((a, b) => a.enriched.enrichment.enriched_at - b.enriched.enrichment.enriched_at);
  return { entries, undecodable };
}
