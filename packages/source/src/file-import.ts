// Imports already-normalised items (an exported file's rows) through the page
// sink: pages acknowledged one after another, bad items to the DLQ, metrics.
import type { TopicRole } from '#config';
import type { Producer } from '#kafka';
import type { Logger } from '#log';
import type { Codec } from '#schemas';
import { createMetrics, deadLetterWriter } from '#service';
import { createMemoryCheckpointStore } from './checkpoint-store.ts';
import { createPageSink, type ProcessedItem } from './page-sink.ts';

export interface FileImportDeps {
  service: string;
  producer: Producer;
  codec: Codec;
  topics: Readonly<Record<TopicRole, string>>;
  log: Logger;
  pageSize?: number;
}

export interface FileImportSummary {
  items: number;
  sent: number;
  dead: number;
}

export async function importItems(source: string, items: readonly ProcessedItem[], deps: FileImportDeps): Promise<FileImportSummary> {
  const sink = createPageSink({
    producer: deps.producer,
    codec: deps.codec,
    topics: deps.topics,
    // A file has no cursor to resume from: re-importing it is idempotent by key instead.
    checkpoints: createMemoryCheckpointStore(),
    deadLetters: deadLetterWriter({ service: deps.service, dlqTopic: deps.topics.dlq, codec: deps.codec, producer: deps.producer }),
    metrics: createMetrics(deps.service, { defaultMetrics: false }),
    log: deps.log,
  });
  const pageSize = deps.pageSize ?? 500;
  const summary: FileImportSummary = { items: items.length, sent: 0, dead: 0 };
  for (let start = 0; start < items.length; start += pageSize) {
    const result = await sink.commit({ source, items: items.slice(start, start + pageSize) });
    summary.sent += result.sent;
    summary.dead += result.dead;
  }
  deps.log.info({ source, ...summary }, 'file import finished');
  return summary;
}
