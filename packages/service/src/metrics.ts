// The metrics contract every component follows: received, sent, dropped
// (labelled intentional) and errors (labelled error_code and stage), counted
// once per batch, with bounded labels.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ComponentMetrics {
  registry: Registry;
  received: Counter<'component'>;
  sent: Counter<'component'>;
  dropped: Counter<'component' | 'intentional'>;
  errors: Counter<'component' | 'error_code' | 'stage'>;
  gauge(name: string, help: string, labelNames?: string[]): Gauge<string>;
  counter(name: string, help: string, labelNames?: string[]): Counter<string>;
  histogram(name: string, help: string, buckets: number[], labelNames?: string[]): Histogram<string>;
}

export function createMetrics(service: string, options: { defaultMetrics?: boolean } = {}): ComponentMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'tether_' });
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name: `tether_${name}`, help, labelNames, registers: [registry] });
  return {
    registry,
    received: counter('events_received_total', 'Records received by a component.', ['component']) as Counter<'component'>,
    sent: counter('events_sent_total', 'Records a component handed on and had acknowledged.', ['component']) as Counter<'component'>,
    dropped: counter('events_dropped_total', 'Records not handed on (to the DLQ or filtered).', ['component', 'intentional']) as Counter<'component' | 'intentional'>,
    errors: counter('errors_total', 'Errors by code and stage.', ['component', 'error_code', 'stage']) as Counter<'component' | 'error_code' | 'stage'>,
    gauge: (name, help, labelNames = []) => new Gauge({ name: `tether_${name}`, help, labelNames, registers: [registry] }),
    counter,
    histogram: (name, help, buckets, labelNames = []) =>
      new Histogram({ name: `tether_${name}`, help, buckets, labelNames, registers: [registry] }),
  };
}
