// Table and view names of the ClickHouse schema (infra/clickhouse/migrations):
// names that carry state live in one place.

export const TABLES = {
  /** Table of record for events: ReplacingMergeTree(enriched_at_ms), ORDER BY (event_time, event_id). */
  accessEvents: 'access_events',
  /** Person-first copy fed by a materialized view: ORDER BY (person_key, event_time, event_id). */
  accessEventsByPerson: 'access_events_by_person',
  personsHistory: 'persons_history',
  devicesHistory: 'devices_history',
  nhiHistory: 'nhi_history',
  /** Since migration 0008 (the grant fields); connectors_history before it. */
  connectorsHistory: 'connectors_history_v2',
  deadLetters: 'dead_letters',
  /** Detection findings: ReplacingMergeTree(emitted_at_ms), ORDER BY finding_id. */
  findings: 'findings',
  schemaMigrations: 'schema_migrations',
} as const;

export const VIEWS = {
  personsLatest: 'persons_latest',
  devicesLatest: 'devices_latest',
  nhiLatest: 'nhi_latest',
  connectorsLatest: 'connectors_latest',
  personDailyEvents: 'person_daily_events',
  connectorInventory: 'connector_inventory',
} as const;

export type TableName = (typeof TABLES)[keyof typeof TABLES];
