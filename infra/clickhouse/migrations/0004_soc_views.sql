-- Views for SOC and compliance use. Every view reads deduplicated rows
-- (FINAL), so a redelivered record never counts twice; plain views rather
-- than materialized aggregates for the same reason (a SummingMergeTree fed
-- by a materialized view would add every redelivered copy).
--
-- *_latest: the current state per entity = the version with the greatest
-- valid_from (argMax over valid_from_ms). The inner query renames
-- valid_from_ms to version_ms so the outer aliases never shadow an argument
-- (18.16 substitutes aliases inside aggregate arguments).

CREATE VIEW IF NOT EXISTS persons_latest AS
SELECT
    person_id,
    max(version_ms) AS valid_from_ms,
    argMax(valid_from, version_ms) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(record_kind, version_ms) AS record_kind,
    argMax(source_platform, version_ms) AS source_platform,
    argMax(source_feed, version_ms) AS source_feed,
    argMax(active, version_ms) AS active,
    argMax(lifecycle_state, version_ms) AS lifecycle_state,
    argMax(email, version_ms) AS email,
    argMax(display_name, version_ms) AS display_name,
    argMax(department, version_ms) AS department,
    argMax(title, version_ms) AS title,
    argMax(manager_person_id, version_ms) AS manager_person_id,
    argMax(alias_kinds, version_ms) AS alias_kinds,
    argMax(alias_values, version_ms) AS alias_values,
    argMax(platform_role, version_ms) AS platform_role
FROM (SELECT *, valid_from_ms AS version_ms FROM persons_history FINAL)
GROUP BY person_id;

CREATE VIEW IF NOT EXISTS devices_latest AS
SELECT
    device_id,
    max(version_ms) AS valid_from_ms,
    argMax(valid_from, version_ms) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(source_platform, version_ms) AS source_platform,
    argMax(source_feed, version_ms) AS source_feed,
    argMax(active, version_ms) AS active,
    argMax(serial, version_ms) AS serial,
    argMax(hostname, version_ms) AS hostname,
    argMax(os, version_ms) AS os,
    argMax(managed, version_ms) AS managed,
    argMax(compliant, version_ms) AS compliant,
    argMax(assigned_person_id, version_ms) AS assigned_person_id,
    argMax(assigned_email, version_ms) AS assigned_email,
    argMax(ip_addresses, version_ms) AS ip_addresses
FROM (SELECT *, valid_from_ms AS version_ms FROM devices_history FINAL)
GROUP BY device_id;

CREATE VIEW IF NOT EXISTS nhi_latest AS
SELECT
    nhi_id,
    max(version_ms) AS valid_from_ms,
    argMax(valid_from, version_ms) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(kind, version_ms) AS kind,
    argMax(platform, version_ms) AS platform,
    argMax(platform_id, version_ms) AS platform_id,
    argMax(source_platform, version_ms) AS source_platform,
    argMax(source_feed, version_ms) AS source_feed,
    argMax(active, version_ms) AS active,
    argMax(status, version_ms) AS status,
    argMax(name, version_ms) AS name,
    argMax(parent_nhi_id, version_ms) AS parent_nhi_id,
    argMax(owner_email, version_ms) AS owner_email,
    argMax(owner_platform_user_id, version_ms) AS owner_platform_user_id,
    argMax(created_at_ms, version_ms) AS created_at_ms,
    argMax(last_used_at_ms, version_ms) AS last_used_at_ms,
    argMax(redacted_value, version_ms) AS redacted_value
FROM (SELECT *, valid_from_ms AS version_ms FROM nhi_history FINAL)
GROUP BY nhi_id;

CREATE VIEW IF NOT EXISTS connectors_latest AS
SELECT
    connector_id,
    max(version_ms) AS valid_from_ms,
    argMax(valid_from, version_ms) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(provider, version_ms) AS provider,
    argMax(client_id, version_ms) AS client_id,
    argMax(app_name, version_ms) AS app_name,
    argMax(source_platform, version_ms) AS source_platform,
    argMax(source_feed, version_ms) AS source_feed,
    argMax(active, version_ms) AS active,
    argMax(status, version_ms) AS status,
    argMax(granted_by_email, version_ms) AS granted_by_email,
    argMax(granted_by_platform_user_id, version_ms) AS granted_by_platform_user_id,
    argMax(scopes, version_ms) AS scopes,
    argMax(ai_classification, version_ms) AS ai_classification,
    argMax(sanctioned, version_ms) AS sanctioned
FROM (SELECT *, valid_from_ms AS version_ms FROM connectors_history FINAL)
GROUP BY connector_id;

-- Events per person per UTC day. person_key is the person id, or the acting
-- NHI for events no person resolved for (person_id IS NULL then).
CREATE VIEW IF NOT EXISTS person_daily_events AS
SELECT
    person_key,
    toDate(event_time) AS day,
    any(person_id) AS person_id,
    count() AS events,
    countIf(outcome = 'failure') AS failed_events,
    uniqExact(action) AS distinct_actions,
    min(event_time_ms) AS first_event_ms,
    max(event_time_ms) AS last_event_ms
FROM access_events_by_person FINAL
GROUP BY person_key, day;

-- Connector inventory: every connector (OAuth grant) with its current state
-- and its use. Use is counted from events whose owner chain holds the
-- connector (kind 'connector', id = connector_id), as resolved by enrichment.
-- A connector never used has uses = 0 and NULL first/last use.
CREATE VIEW IF NOT EXISTS connector_inventory AS
SELECT
    connector_id,
    provider,
    client_id,
    app_name,
    granted_by_email,
    granted_by_platform_user_id,
    scopes,
    status,
    active,
    active = 0 AS revoked,
    first_valid_from_ms AS granted_at_ms,
    if(active = 0, toNullable(valid_from_ms), NULL) AS revoked_at_ms,
    valid_from_ms AS state_since_ms,
    ai_classification,
    sanctioned,
    used_events AS uses,
    if(used_events = 0, NULL, toNullable(used_first_ms)) AS first_used_ms,
    if(used_events = 0, NULL, toNullable(used_last_ms)) AS last_used_ms,
    used_by_persons AS distinct_users
FROM connectors_latest
ANY LEFT JOIN
(
    SELECT
        link_id AS used_connector_id,
        count() AS used_events,
        min(event_time_ms) AS used_first_ms,
        max(event_time_ms) AS used_last_ms,
        uniqExact(person_key) AS used_by_persons
    FROM access_events FINAL
    ARRAY JOIN chain_ids AS link_id, chain_kinds AS link_kind
    WHERE link_kind = 'connector'
    GROUP BY link_id
) AS usage ON connector_id = used_connector_id;
