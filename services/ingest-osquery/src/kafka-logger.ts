// osquery's own Kafka logger (kafka_producer plugin) as a source: each
// message on its topic is one result record as JSON. A batch's records are
// produced and the hosts' state checkpointed before the consumer commits its
// offsets, so a crash re-reads the batch and makes the same keys again.
import type { ConsumedBatch } from '#kafka';
import type { CheckpointStore, PageSink, ProcessedItem } from '#source';
import type { HostState } from './device-state.ts';
import { parseJsonBytes, processResult, type ProcessorOptions } from './results-processor.ts';

export const SOURCE = 'osquery/kafka';

export const kafkaHostCheckpointId = (host: string) => `osquery/kafka/host/${host}`;

export interface KafkaLoggerDeps {
  sink: PageSink;
  checkpoints: CheckpointStore;
  options: () => ProcessorOptions;
}

export function kafkaLoggerBatchHandler(deps: KafkaLoggerDeps): (batch: ConsumedBatch) => Promise<void> {
  return async (batch) => {
    const hosts = new Map<string, HostState>();
    const stateOf = (host: string) => {
      if (!hosts.has(host)) {
        const saved = deps.checkpoints.get(kafkaHostCheckpointId(host))?.cursor;
        if (saved) hosts.set(host, JSON.parse(saved) as HostState);
      }
    };
    const options = deps.options();
    const items: ProcessedItem[] = batch.messages.map((message) => {
      const raw = message.value ?? Buffer.alloc(0);
      const parsed = parseJsonBytes(raw);
      if (!parsed.ok) return { raw, result: { ok: false, stage: 'parsing', error: parsed.error } };
      const host = hostOf(parsed.value);
      if (host !== null) stateOf(host);
      return processResult(hosts, parsed.value, raw, options);
    });
    await deps.sink.commit({ source: SOURCE, items });
    for (const [host, state] of hosts) await deps.checkpoints.save(kafkaHostCheckpointId(host), JSON.stringify(state), 0);
  };
}

function hostOf(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const host = typeof record.hostIdentifier === 'string' ? record.hostIdentifier : typeof record.hostname === 'string' ? record.hostname : null;
  return host?.trim() || null;
}
