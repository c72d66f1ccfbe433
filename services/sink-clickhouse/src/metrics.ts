// The sink's metrics: the shared received/sent/dropped/errors contract plus
// what an operator watches on a sink (pauses, retries, insert latency,
// rejected rows).
import type { Counter, Gauge, Histogram } from 'prom-client';
import { createMetrics, type ComponentMetrics } from '#service';

export interface SinkMetrics extends ComponentMetrics {
  paused: Gauge<'stream'>;
  retries: Counter<'table' | 'kind'>;
  insertSeconds: Histogram<'table'>;
  rejected: Counter<'table'>;
  redactions: Counter<'stream'>;
}

export function createSinkMetrics(options: { defaultMetrics?: boolean } = {}): SinkMetrics {
  const base = createMetrics('sink-clickhouse', options);
  return {
    ...base,
    paused: base.gauge('sink_paused', '1 while a stream is paused because ClickHouse or the DLQ is not taking writes.', ['stream']) as Gauge<'stream'>,
    retries: base.counter('sink_write_retries_total', 'Failed writes that were retried, by table and error kind.', ['table', 'kind']) as Counter<'table' | 'kind'>,
    insertSeconds: base.histogram('sink_insert_seconds', 'Time to write one batch, retries and row isolation included.', [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], ['table']) as Histogram<'table'>,
    rejected: base.counter('sink_rows_rejected_total', 'Rows that could not be stored in their table (refused by ClickHouse, or a value the column cannot hold), sent to the DLQ.', ['table']) as Counter<'table'>,
    redactions: base.counter('sink_secrets_redacted_total', 'Secret-shaped tokens replaced before writing.', ['stream']) as Counter<'stream'>,
  };
}
