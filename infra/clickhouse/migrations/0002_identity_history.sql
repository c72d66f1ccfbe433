-- Identity history: one row per version of a person, device, non-human
-- identity or connector, as on the compacted tether.identity.* topics.
--
-- Keyed by (entity id, valid_from_ms): the same version delivered twice (or
-- re-emitted by a source) collapses into one row after FINAL; the copy
-- observed last wins (version column observed_at_ms). A leaver or a
-- revocation is a version with active = 0, never a deleted row, so "as of t"
-- questions can be answered for any t.
-- Times: DateTime('UTC') plus exact epoch ms, as in access_events.

CREATE TABLE IF NOT EXISTS persons_history
(
    person_id String,
    valid_from DateTime('UTC'),
    valid_from_ms UInt64,
    -- directory (authoritative person) or platform_account
    record_kind String,
    source_platform String,
    source_feed String,
    source_time Nullable(String),
    observed_at DateTime('UTC'),
    observed_at_ms UInt64,
    active UInt8,
    lifecycle_state String,
    email Nullable(String),
    display_name Nullable(String),
    department Nullable(String),
    title Nullable(String),
    manager_person_id Nullable(String),
    -- aliases as parallel arrays (email, upn, scim_external_id, platform_user_id, ...)
    alias_kinds Array(String),
    alias_values Array(String),
    platform_role Nullable(String)
)
ENGINE = ReplacingMergeTree(observed_at_ms)
PARTITION BY toYYYYMM(valid_from)
ORDER BY (person_id, valid_from_ms);

CREATE TABLE IF NOT EXISTS devices_history
(
    device_id String,
    valid_from DateTime('UTC'),
    valid_from_ms UInt64,
    source_platform String,
    source_feed String,
    source_time Nullable(String),
    observed_at DateTime('UTC'),
    observed_at_ms UInt64,
    active UInt8,
    serial Nullable(String),
    hostname Nullable(String),
    os Nullable(String),
    managed UInt8,
    compliant Nullable(UInt8),
    assigned_person_id Nullable(String),
    assigned_email Nullable(String),
    ip_addresses Array(String)
)
ENGINE = ReplacingMergeTree(observed_at_ms)
PARTITION BY toYYYYMM(valid_from)
ORDER BY (device_id, valid_from_ms);

CREATE TABLE IF NOT EXISTS nhi_history
(
    -- '<platform>:<kind>:<platform id>'
    nhi_id String,
    valid_from DateTime('UTC'),
    valid_from_ms UInt64,
    -- api_key, admin_api_key, service_account, project, workspace
    kind String,
    platform String,
    platform_id String,
    source_platform String,
    source_feed String,
    source_time Nullable(String),
    observed_at DateTime('UTC'),
    observed_at_ms UInt64,
    active UInt8,
    status String,
    name Nullable(String),
    parent_nhi_id Nullable(String),
    owner_email Nullable(String),
    owner_platform_user_id Nullable(String),
    created_at_ms Nullable(UInt64),
    last_used_at_ms Nullable(UInt64),
    -- the platform's redacted hint of a key, never the secret
    redacted_value Nullable(String)
)
ENGINE = ReplacingMergeTree(observed_at_ms)
PARTITION BY toYYYYMM(valid_from)
ORDER BY (nhi_id, valid_from_ms);

CREATE TABLE IF NOT EXISTS connectors_history
(
    -- '<provider>:<client id>:<granting person key>'
    connector_id String,
    valid_from DateTime('UTC'),
    valid_from_ms UInt64,
    provider String,
    client_id String,
    app_name Nullable(String),
    source_platform String,
    source_feed String,
    source_time Nullable(String),
    observed_at DateTime('UTC'),
    observed_at_ms UInt64,
    active UInt8,
    -- granted or revoked
    status String,
    granted_by_email Nullable(String),
    granted_by_platform_user_id Nullable(String),
    scopes Array(String),
    -- ai_tool, other or unknown
    ai_classification String,
    sanctioned Nullable(UInt8)
)
ENGINE = ReplacingMergeTree(observed_at_ms)
PARTITION BY toYYYYMM(valid_from)
ORDER BY (connector_id, valid_from_ms);
