// The enrich service's metrics: the shared component contract plus restore
// progress, the late-identity buffer and how attribution resolved (labels are
// the bounded method names).
import { createMetrics, type ComponentMetrics } from '#service';
import type { Counter, Gauge, Histogram } from 'prom-client';

export const COMPONENT = 'enrich';

export interface EnrichMetrics extends ComponentMetrics {
  restoreRecords: Gauge<string>;
  restoreRemainingPartitions: Gauge<string>;
  restoreSeconds: Gauge<string>;
  restored: Gauge<string>;
  identityRecords: Counter<'table' | 'outcome'>;
  identityEntities: Gauge<'table'>;
  lateHeld: Gauge<string>;
  lateReleased: Counter<'cause'>;
  reattributable: Gauge<string>;
  reattributed: Counter<string>;
  attribution: Counter<'method'>;
  deviceAttribution: Counter<'method'>;
  addedLatency: Histogram<string>;
}

export function createEnrichMetrics(options: { defaultMetrics?: boolean } = {}): EnrichMetrics {
  const base = createMetrics(COMPONENT, options);
  return {
    ...base,
    restoreRecords: base.gauge('enrich_restore_records', 'Identity records applied while restoring state at start-up.'),
    restoreRemainingPartitions: base.gauge('enrich_restore_remaining_partitions', 'Identity topic partitions not yet read up to their start-up end.'),
    restoreSeconds: base.gauge('enrich_restore_seconds', 'How long the start-up restore of identity state took.'),
    restored: base.gauge('enrich_restored', '1 once identity state is restored and events are processed.'),
    identityRecords: base.counter('enrich_identity_records_total', 'Identity records applied, by table and outcome.', ['table', 'outcome']) as Counter<'table' | 'outcome'>,
    identityEntities: base.gauge('enrich_identity_entities', 'Entities held per identity table.', ['table']) as Gauge<'table'>,
    lateHeld: base.gauge('enrich_late_events_held', 'Events waiting for late identity data.'),
    lateReleased: base.counter('enrich_late_events_total', 'Events that waited for identity data, by how the wait ended.', ['cause']) as Counter<'cause'>,
    reattributable: base.gauge('enrich_reattributable_events', 'Emitted events without a directory person that a later identity record may still attribute.'),
    reattributed: base.counter('enrich_reattributed_total', 'Events emitted again because identity data that arrived later named their person.'),
    attribution: base.counter('enrich_attribution_total', 'Enriched events by person attribution method.', ['method']) as Counter<'method'>,
    deviceAttribution: base.counter('enrich_device_attribution_total', 'Enriched events by device attribution method.', ['method']) as Counter<'method'>,
    addedLatency: base.histogram(
      'enrich_added_latency_seconds', 'From the raw event reaching Kafka to its enriched record being acknowledged.',
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    ),
  };
}
