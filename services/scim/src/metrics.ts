// The SCIM service's metrics on the shared contract (packages/service).
import { createMetrics, type ComponentMetrics } from '#service';

export const COMPONENT = 'scim';

export interface ScimMetrics extends ComponentMetrics {
  requests: ReturnType<ComponentMetrics['counter']>;
  latency: ReturnType<ComponentMetrics['histogram']>;
  changes: ReturnType<ComponentMetrics['counter']>;
  resources: ReturnType<ComponentMetrics['gauge']>;
}

export function createScimMetrics(options: { defaultMetrics?: boolean } = {}): ScimMetrics {
  const base = createMetrics('scim', options);
  return {
    ...base,
    requests: base.counter('scim_requests_total', 'SCIM requests by method, collection and status.', ['method', 'resource', 'status']),
    latency: base.histogram('scim_request_seconds', 'SCIM request latency.', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], ['method', 'resource']),
    changes: base.counter('scim_changes_total', 'Accepted SCIM changes by kind and resource type.', ['kind', 'resource']),
    resources: base.gauge('scim_resources', 'Resources held, by type and state.', ['resource', 'state']),
  };
}
