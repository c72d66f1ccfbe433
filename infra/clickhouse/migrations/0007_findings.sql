-- Findings of the detection rules (services/detect, from tether.findings),
-- one row per finding_id once deduplicated.
--
-- finding_id is derived from the rule id and version, the dedup key and the
-- triggering event ids, so a finding emitted again (a replay after a crash,
-- a redelivery to the sink) has the same id and, with it, the same
-- first_event_time: the partition and the sorting key never change between
-- two deliveries of one finding, and FINAL (or argMax(..., emitted_at_ms)
-- GROUP BY finding_id) shows it once. The latest emission wins.
-- Times: DateTime('UTC') for filtering and partitioning plus exact epoch ms.
-- Retention: ALTER TABLE findings DROP PARTITION <yyyymm>.

CREATE TABLE IF NOT EXISTS findings
(
    finding_id String,
    rule_id String,
    rule_version UInt32,
    rule_title String,
    -- info, low, medium, high, critical
    severity String,
    tags Array(String),
    -- match, threshold, first_seen or sequence
    kind String,
    event_ids Array(String),
    platform String,
    person_id Nullable(String),
    person_email Nullable(String),
    nhi_id Nullable(String),
    nhi_kind Nullable(String),
    device_id Nullable(String),
    connector_client_id Nullable(String),
    connector_app_name Nullable(String),
    summary String,
    group_key String,
    dedup_key String,
    first_event_time DateTime('UTC'),
    first_event_time_ms UInt64,
    last_event_time DateTime('UTC'),
    last_event_time_ms UInt64,
    emitted_at DateTime('UTC'),
    emitted_at_ms UInt64,
    detector_version String
)
ENGINE = ReplacingMergeTree(emitted_at_ms)
PARTITION BY toYYYYMM(first_event_time)
ORDER BY finding_id;
