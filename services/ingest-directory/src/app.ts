// Imports a directory CSV onto tether.identity.users: valid rows as
// PersonVersions keyed by '<person_id>@<valid_from>', bad rows to the DLQ
// with their line, in pages that are each acknowledged before the next.
import type { TopicRole } from '#config';
import type { Producer } from '#kafka';
import type { Logger } from '#log';
import { versionKey, type Codec } from '#schemas';
import { createMetrics, deadLetterWriter } from '#service';
import { createMemoryCheckpointStore, createPageSink, type ProcessedItem } from '#source';
import { normaliseDirectoryCsv } from './csv-directory.ts';

export const SOURCE = 'directory/csv';
const PAGE_ROWS = 500;

export interface ImportSummary {
  rows: number;
  versions: number;
  dead: number;
}

export async function importDirectoryCsv(
  bytes: Buffer,
  deps: { producer: Producer; codec: Codec; topics: Readonly<Record<TopicRole, string>>; log: Logger; now?: () => number },
): Promise<ImportSummary> {
  const now = deps.now ?? Date.now;
  const metrics = createMetrics('ingest-directory', { defaultMetrics: false });
  const sink = createPageSink({
    producer: deps.producer,
    codec: deps.codec,
    topics: deps.topics,
    checkpoints: createMemoryCheckpointStore(),
    deadLetters: deadLetterWriter({ service: 'ingest-directory', dlqTopic: deps.topics.dlq, codec: deps.codec, producer: deps.producer }),
    metrics,
    log: deps.log,
  });
  const rows = normaliseDirectoryCsv(bytes, { observedAt: now() });
  const summary: ImportSummary = { rows: rows.length, versions: 0, dead: 0 };
  for (let start = 0; start < rows.length; start += PAGE_ROWS) {
    const items: ProcessedItem[] = rows.slice(start, start + PAGE_ROWS).map((row) => ({
      raw: row.raw,
      result: row.ok
        ? { ok: true, records: [{ role: 'identityUsers', key: versionKey(row.version.person_id, row.version.valid_from), value: row.version }] }
        : { ok: false, stage: 'normalising', error: row.error },
    }));
    const result = await sink.commit({ source: SOURCE, items });
    summary.versions += result.sent;
    summary.dead += result.dead;
  }
  deps.log.info({ source: SOURCE, ...summary }, 'directory import finished');
  return summary;
}
