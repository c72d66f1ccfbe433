// Names that carry state (topics, consumer groups) live here and nowhere else.

export const TOPICS = {
  accessRaw: 'tether.access.raw',
  accessEnriched: 'tether.access.enriched',
  identityUsers: 'tether.identity.users',
  identityDevices: 'tether.identity.devices',
  identityNhi: 'tether.identity.nhi',
  identityConnectors: 'tether.identity.connectors',
  identityGroups: 'tether.identity.groups',
  dlq: 'tether.dlq',
  ingestCheckpoints: 'tether.ingest.checkpoints',
  /** Finding records from the detect service (services/detect). */
  findings: 'tether.findings',
  /** The detect service's rule state (windows, first-seen values, partial sequences), compacted by group. */
  detectState: 'tether.detect.state',
  /**
   * Enrich's re-attribution window (events emitted without a directory person, with what was emitted
   * for them), compacted by event id; a tombstone forgets an event. Read back when an instance starts.
   */
  enrichReattribution: 'tether.enrich.reattribution',
} as const;

export type TopicRole = keyof typeof TOPICS;

/** Topics whose value per key is the latest state: compacted, never deleted by time. */
export const COMPACTED_ROLES: readonly TopicRole[] = [
  'identityUsers', 'identityDevices', 'identityNhi', 'identityConnectors', 'identityGroups', 'ingestCheckpoints', 'detectState', 'enrichReattribution',
];

export const CONSUMER_GROUPS = {
  enrich: 'tether-enrich',
  /** Prefix only: every enrich instance adds a unique suffix so it re-reads the identity topics in full. */
  enrichIdentity: 'tether-enrich-identity',
  sinkEvents: 'tether-sink-clickhouse-events',
  sinkIdentity: 'tether-sink-clickhouse-identity',
  sinkDlq: 'tether-sink-clickhouse-dlq',
  sinkFindings: 'tether-sink-clickhouse-findings',
  detect: 'tether-detect',
  /** Prefix only: every detect start adds a unique suffix so it re-reads the state topic in full. */
  detectState: 'tether-detect-state',
  /** Prefix only: every enrich start adds a unique suffix so it re-reads its re-attribution window in full. */
  enrichReattribution: 'tether-enrich-reattribution',
} as const;

/**
 * Topic names with an optional prefix, so tests and parallel deployments can
 * share one cluster without sharing state.
 */
export function topicNames(prefix = ''): { readonly [K in TopicRole]: string } {
  const out = {} as Record<TopicRole, string>;
  for (const [role, name] of Object.entries(TOPICS) as [TopicRole, string][]) out[role] = `${prefix}${name}`;
  return Object.freeze(out);
}
