// The detect service's metrics: the shared component contract plus findings
// per rule, state size and restore progress (labels are bounded: rule ids
// come from the pack, not from events).
import { createMetrics, type ComponentMetrics } from '#service';
import type { Counter, Gauge, Histogram } from 'prom-client';

export const COMPONENT = 'detect';

export interface DetectMetrics extends ComponentMetrics {
  findings: Counter<'rule' | 'severity'>;
  stateGroups: Gauge<string>;
  stateEntries: Gauge<string>;
  stateEvicted: Gauge<string>;
  stateRestored: Gauge<string>;
  stateRestoreRecords: Gauge<string>;
  replayed: Gauge<string>;
  lateEvents: Gauge<string>;
  rules: Gauge<string>;
  batchSeconds: Histogram<string>;
}

export function createDetectMetrics(options: { defaultMetrics?: boolean } = {}): DetectMetrics {
  const base = createMetrics(COMPONENT, options);
  return {
    ...base,
    findings: base.counter('detect_findings_total', 'Findings emitted and acknowledged, by rule and severity.', ['rule', 'severity']) as Counter<'rule' | 'severity'>,
    stateGroups: base.gauge('detect_state_groups', 'Groups of stateful rules held in memory.'),
    stateEntries: base.gauge('detect_state_entries', 'State entries (window events, first-seen values, partial sequences) held, against TETHER_DETECT_STATE_MAX_ENTRIES.'),
    stateEvicted: base.gauge('detect_state_evicted_groups', 'Groups forgotten to stay within the entry bound since start.'),
    stateRestored: base.gauge('detect_state_restored', '1 once rule state is restored from the state topic and events are processed.'),
    stateRestoreRecords: base.gauge('detect_state_restore_records', 'State records read while restoring at start-up.'),
    replayed: base.gauge('detect_replayed_events', 'Events recognised as already applied to their group (replayed after a restart) since start.'),
    lateEvents: base.gauge('detect_late_events', 'Events older than their group window when they arrived (not counted) since start.'),
    rules: base.gauge('detect_rules', 'Enabled rules loaded.'),
    batchSeconds: base.histogram('detect_batch_seconds', 'Time to evaluate a batch and write its findings and state.', [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]),
  };
}
