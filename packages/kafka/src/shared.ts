import type { ProduceRecord, TopicSpec } from './types.ts';

export function groupByTopic(records: readonly ProduceRecord[]): Map<string, ProduceRecord[]> {
  const byTopic = new Map<string, ProduceRecord[]>();
  for (const record of records) {
    let list = byTopic.get(record.topic);
    if (!list) byTopic.set(record.topic, (list = []));
    list.push(record);
  }
  return byTopic;
}

export function headersToStrings(headers: Record<string, unknown> | Map<unknown, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries = headers instanceof Map ? headers.entries() : Object.entries(headers);
  for (const [key, value] of entries) {
    if (value === undefined || value === null) continue;
    out[String(key)] = Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
  }
  return out;
}

/** Compaction keeps the latest value per key forever; tombstones are kept a day so readers see them. */
export function topicConfigEntries(spec: TopicSpec): Record<string, string> {
  const base: Record<string, string> = spec.compacted
    ? { 'cleanup.policy': 'compact', 'delete.retention.ms': '86400000', 'min.compaction.lag.ms': '0' }
    : {};
  return { ...base, ...spec.config };
}
