-- Enriched access events, one row per event_id once deduplicated.
--
-- Two access paths, two orderings of the same rows:
--   access_events            ORDER BY (event_time, event_id)  -- by time (hunts, "what happened between t1 and t2")
--   access_events_by_person  ORDER BY (person_key, event_time, event_id)  -- a person's trail over time
--
-- Why time-first is the table of record: ReplacingMergeTree collapses rows
-- with the same sorting key (within a partition), so the key must not change
-- between two deliveries of one event. event_time comes from the source
-- record, so it is fixed per event_id (event_id is derived from the same
-- record). person_key is not: an event re-enriched after late identity data
-- (or replayed by a newer enrichment) can resolve to another person, and a
-- person-first table would then keep both rows under different keys.
-- access_events is therefore exact after FINAL (or argMax(..., enriched_at_ms)
-- GROUP BY event_id); access_events_by_person is a copy fed by a materialized
-- view, exact for redelivery (same person_key, same key), and may keep a
-- superseded attribution under the old person_key when an event is
-- re-attributed. Queries that must exclude those check the pair
-- (event_id, enriched_at_ms) against access_events (see README.md).
--
-- Version column: enriched_at_ms, so the latest enrichment of an event wins
-- and a redelivered copy (same enriched_at_ms) collapses into one row.
-- Times: DateTime('UTC') for filtering and partitioning plus the exact
-- epoch-ms value (DateTime64 does not exist on 18.16).
-- Retention: ALTER TABLE ... DROP PARTITION <yyyymm> on both tables (no TTL on 18.16).

CREATE TABLE IF NOT EXISTS access_events
(
    event_id String,
    -- person_id when a person resolved; else the first link of the NHI chain
    -- (the key or account that acted); else ''.
    person_key String,
    event_time DateTime('UTC'),
    event_time_ms UInt64,
    time_raw String,

    source_platform String,
    source_feed String,
    source_event_id String,
    source_ingest_version String,
    ingested_at DateTime('UTC'),
    ingested_at_ms UInt64,

    action String,
    source_type String,
    outcome String,

    -- OCSF 1.8 alignment
    category_uid Int32,
    class_uid Int32,
    activity_id Int32,
    type_uid Int64,
    severity_id Int32,

    actor_kind String,
    actor_platform_user_id Nullable(String),
    actor_email Nullable(String),
    actor_name Nullable(String),
    actor_api_key_id Nullable(String),
    actor_service_account_id Nullable(String),
    actor_oauth_client_id Nullable(String),
    actor_session_id Nullable(String),

    -- targets as parallel arrays (element i of each is target i)
    target_types Array(String),
    target_ids Array(String),
    target_names Array(Nullable(String)),

    scope_organization_id Nullable(String),
    scope_project_id Nullable(String),
    scope_workspace_id Nullable(String),

    src_ip Nullable(String),
    src_user_agent Nullable(String),
    src_hostname Nullable(String),
    src_device_serial Nullable(String),
    src_device_id Nullable(String),
    src_country Nullable(String),

    -- connector_client_id IS NULL when the event went through no connector
    connector_provider Nullable(String),
    connector_client_id Nullable(String),
    connector_app_name Nullable(String),
    connector_scopes Array(String),

    -- the source record as ingested (secrets scrubbed at ingest); 'utf8' text,
    -- or 'base64' when the bytes are not valid UTF-8
    raw String,
    raw_encoding String,
    unmapped String,

    -- person as of the event's time; person_id IS NULL when none resolved
    person_id Nullable(String),
    person_email Nullable(String),
    person_display_name Nullable(String),
    person_department Nullable(String),
    person_title Nullable(String),
    person_manager_person_id Nullable(String),
    person_lifecycle_state Nullable(String),
    person_version_valid_from_ms Nullable(UInt64),
    person_version_source Nullable(String),

    -- device as of the event's time; device_id IS NULL when none resolved
    device_id Nullable(String),
    device_serial Nullable(String),
    device_hostname Nullable(String),
    device_os Nullable(String),
    device_managed Nullable(UInt8),
    device_compliant Nullable(UInt8),
    device_assigned_person_id Nullable(String),
    device_version_valid_from_ms Nullable(UInt64),

    -- owner chain key -> service account -> project -> person, as parallel arrays
    chain_kinds Array(String),
    chain_ids Array(String),
    chain_names Array(Nullable(String)),
    chain_statuses Array(Nullable(String)),

    attribution_method String,
    confidence Float32,
    device_method String,
    device_confidence Float32,
    reasons Array(String),

    enrichment_version String,
    enriched_at DateTime('UTC'),
    enriched_at_ms UInt64,
    enrichment_waited_ms UInt64
)
ENGINE = ReplacingMergeTree(enriched_at_ms)
PARTITION BY toYYYYMM(event_time)
ORDER BY (event_time, event_id);

-- Same columns, person-first. Fed only by the view below: the sink inserts
-- into access_events alone, so both tables see exactly the same inserts.
CREATE TABLE IF NOT EXISTS access_events_by_person AS access_events
ENGINE = ReplacingMergeTree(enriched_at_ms)
PARTITION BY toYYYYMM(event_time)
ORDER BY (person_key, event_time, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS access_events_by_person_mv TO access_events_by_person
AS SELECT * FROM access_events;
