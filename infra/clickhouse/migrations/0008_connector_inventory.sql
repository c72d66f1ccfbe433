-- The connector inventory as the grant sources write it (issue 17): each
-- ConnectorVersion also says when its grant was made and revoked, when its
-- token was last used (from the provider's own use records), which AI tool
-- the catalogue classified it as, under which catalogue version, and whose
-- grant it is (a user's, or 'all:<tenant>' for a tenant-wide consent).
--
-- 18.16 has no ALTER ... ADD COLUMN IF NOT EXISTS, and migrations must be
-- re-runnable, so the versions get a table of their own that the sink writes
-- from now on (TABLES.connectorsHistory); the rows of connectors_history, if
-- any, are copied over (a repeated copy collapses under FINAL: same key, same
-- version column). The views over it are redefined with the same names and
-- columns, plus the new ones at the end.

CREATE TABLE IF NOT EXISTS connectors_history_v2
(
    -- '<provider>:<client id>:<grant subject>'
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
    sanctioned Nullable(UInt8),
    -- NULL when the grant predates what the source showed
    granted_at_ms Nullable(UInt64),
    revoked_at_ms Nullable(UInt64),
    -- latest token use while this version held (re-emitted in place, so the newest observation wins)
    last_used_at_ms Nullable(UInt64),
    ai_tool_id Nullable(String),
    catalogue_version Nullable(Int32),
    grant_subject Nullable(String)
)
ENGINE = ReplacingMergeTree(observed_at_ms)
PARTITION BY toYYYYMM(valid_from)
ORDER BY (connector_id, valid_from_ms);

INSERT INTO connectors_history_v2
    (connector_id, valid_from, valid_from_ms, provider, client_id, app_name, source_platform, source_feed, source_time,
     observed_at, observed_at_ms, active, status, granted_by_email, granted_by_platform_user_id, scopes,
     ai_classification, sanctioned)
SELECT connector_id, valid_from, valid_from_ms, provider, client_id, app_name, source_platform, source_feed, source_time,
       observed_at, observed_at_ms, active, status, granted_by_email, granted_by_platform_user_id, scopes,
       ai_classification, sanctioned
FROM connectors_history;

-- Each connector's version in force now (see 0006), with when its current grant was made and ended, the
-- first grant it ever had, and its latest token use over all versions.
DROP TABLE IF EXISTS connectors_latest;

CREATE VIEW IF NOT EXISTS connectors_latest AS
SELECT
    connector_id,
    argMax(version_ms, pick) AS valid_from_ms,
    argMax(valid_from, pick) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(provider, pick) AS provider,
    argMax(client_id, pick) AS client_id,
    argMax(app_name, pick) AS app_name,
    argMax(source_platform, pick) AS source_platform,
    argMax(source_feed, pick) AS source_feed,
    argMax(active, pick) AS active,
    argMax(status, pick) AS status,
    argMax(granted_by_email, pick) AS granted_by_email,
    argMax(granted_by_platform_user_id, pick) AS granted_by_platform_user_id,
    argMax(scopes, pick) AS scopes,
    argMax(ai_classification, pick) AS ai_classification,
    argMax(sanctioned, pick) AS sanctioned,
    argMax(granted_at_ms, pick) AS granted_at_ms,
    argMax(revoked_at_ms, pick) AS revoked_at_ms,
    max(last_used_at_ms) AS last_used_at_ms,
    argMax(ai_tool_id, pick) AS ai_tool_id,
    argMax(catalogue_version, pick) AS catalogue_version,
    argMax(grant_subject, pick) AS grant_subject,
    min(grant_or_version_ms) AS first_granted_ms
FROM
(
    -- (an alias of the outer SELECT may not be read inside another aggregate: first_granted_ms reads this)
    SELECT *, valid_from_ms AS version_ms, ifNull(granted_at_ms, valid_from_ms) AS grant_or_version_ms,
           if(valid_from_ms <= toUInt64(toUnixTimestamp(now())) * 1000, toInt64(valid_from_ms), -1 - toInt64(valid_from_ms)) AS pick
    FROM connectors_history_v2 FINAL
)
GROUP BY connector_id;

-- Connector inventory (see 0004): granted_at_ms is the current grant's (a regrant after a revoke starts a new
-- one; the connector's first version when no version says, as rows written before 0008), revoked_at_ms the current version's
-- revocation, last_used_ms the later of the provider's own use records and the events enrichment put through
-- the connector. The grant's own events (grant, revoke) go through it too but are not uses.
DROP TABLE IF EXISTS connector_inventory;

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
    ifNull(current_granted_ms, first_valid_from_ms) AS granted_at_ms,
    if(active = 0, toNullable(ifNull(current_revoked_ms, state_since)), CAST(NULL AS Nullable(UInt64))) AS revoked_at_ms,
    state_since AS state_since_ms,
    ai_classification,
    sanctioned,
    used_events AS uses,
    if(used_events = 0, CAST(NULL AS Nullable(UInt64)), toNullable(used_first_ms)) AS first_used_ms,
    if(used_events = 0 AND platform_used_ms IS NULL, CAST(NULL AS Nullable(UInt64)),
       toNullable(greatest(if(used_events = 0, toUInt64(0), used_last_ms), ifNull(platform_used_ms, toUInt64(0))))) AS last_used_ms,
    used_by_persons AS distinct_users,
    ai_tool_id,
    catalogue_version,
    grant_subject,
    platform_used_ms AS platform_last_used_ms,
    first_granted_ms AS first_granted_at_ms,
    versions
FROM
(
    SELECT connector_id, provider, client_id, app_name, granted_by_email, granted_by_platform_user_id, scopes, status, active,
           granted_at_ms AS current_granted_ms, revoked_at_ms AS current_revoked_ms, valid_from_ms AS state_since,
           ai_classification, sanctioned, last_used_at_ms AS platform_used_ms, ai_tool_id, catalogue_version, grant_subject,
           first_granted_ms, first_valid_from_ms, versions
    FROM connectors_latest
) AS latest
ANY LEFT JOIN
(
    SELECT
        link_id AS connector_id,
        count() AS used_events,
        min(event_time_ms) AS used_first_ms,
        max(event_time_ms) AS used_last_ms,
        uniqExact(person_key) AS used_by_persons
    FROM access_events FINAL
    ARRAY JOIN chain_ids AS link_id, chain_kinds AS link_kind
    WHERE link_kind = 'connector' AND action NOT IN ('oauth.grant', 'oauth.revoke', 'oauth.app_record')
    GROUP BY link_id
) AS usage USING connector_id;

-- Each connector now with the directory person who granted it (see 0006), and its latest token use.
DROP TABLE IF EXISTS connector_owners;

CREATE VIEW IF NOT EXISTS connector_owners AS
SELECT
    connector_id, provider, client_id, app_name, status, active, granted_ms, granted_by_email,
    granted_by_platform_user_id, scopes, ai_classification, sanctioned, granting_person_id, platform_last_used_ms
FROM
(
    SELECT connector_id, provider, client_id, app_name, status, active, first_valid_from_ms AS granted_ms,
           granted_by_email, granted_by_platform_user_id, scopes, ai_classification, sanctioned,
           last_used_at_ms AS platform_last_used_ms
    FROM connectors_latest
) AS grants
ANY LEFT JOIN
(
    SELECT subject_id AS connector_id, owner_person_id AS granting_person_id FROM owner_holders WHERE subject_kind = 'connector'
) AS resolved USING connector_id;

-- Live keys, service accounts and connectors whose owner is inactive now (see 0005); a connector's
-- platform_last_used_ms is the provider's own last token use.
DROP TABLE IF EXISTS orphan_candidates;

CREATE VIEW IF NOT EXISTS orphan_candidates AS
SELECT
    identity_kind, identity_id, platform, name, status, created_ms, platform_last_used_ms, owner_via, owner_ref,
    owner_person_id, owner_email_now, owner_name, owner_lifecycle_state, owner_left_at_ms
FROM
(
    SELECT kind AS identity_kind, nhi_id AS identity_id, platform, name, status, created_ms,
           platform_last_used_ms, owner_via, owner_email AS owner_ref, owner_person_id
    FROM nhi_owners
    WHERE active = 1 AND owner_person_id != ''
    UNION ALL
    SELECT 'connector' AS identity_kind, connector_id AS identity_id, provider AS platform, app_name AS name, status,
           granted_ms AS created_ms, platform_last_used_ms, 'grant' AS owner_via,
           lower(ifNull(granted_by_email, ifNull(granted_by_platform_user_id, ''))) AS owner_ref,
           granting_person_id AS owner_person_id
    FROM connector_owners
    WHERE active = 1 AND granting_person_id != ''
) AS owned
ALL INNER JOIN
(
    SELECT person_id AS owner_person_id, email AS owner_email_now, display_name AS owner_name,
           lifecycle_state AS owner_lifecycle_state, left_at_ms AS owner_left_at_ms
    FROM person_departures
    WHERE active = 0
) AS departed USING owner_person_id;

-- Orphaned access with its use (see 0005): a connector's own grant and revoke events are not uses (an
-- administrator revoking a leaver's grant is not the grant being used after the owner left).
DROP TABLE IF EXISTS orphaned_access;

CREATE VIEW IF NOT EXISTS orphaned_access AS
SELECT
    identity_kind, identity_id, platform, name, status, created_ms, owner_via, owner_ref, owner_person_id,
    owner_email_now, owner_name, owner_lifecycle_state, owner_left_at_ms,
    platform_last_used_ms,
    if(uses = 0, CAST(NULL AS Nullable(UInt64)), toNullable(last_event_ms)) AS last_event_ms,
    uses,
    uses_after_left
FROM orphan_candidates
ANY LEFT JOIN
(
    SELECT link_id AS identity_id, count() AS uses, max(event_time_ms) AS last_event_ms,
           countIf(event_time_ms >= left_ms) AS uses_after_left
    FROM
    (
        SELECT link_id, event_time_ms
        FROM access_events FINAL
        ARRAY JOIN chain_ids AS link_id
        WHERE link_id IN (SELECT identity_id FROM orphan_candidates)
          AND action NOT IN ('oauth.grant', 'oauth.revoke', 'oauth.app_record')
    ) AS links
    ALL INNER JOIN
    (
        SELECT identity_id AS link_id, ifNull(owner_left_at_ms, 0) AS left_ms FROM orphan_candidates
    ) AS departures USING link_id
    GROUP BY link_id
) AS usage USING identity_id;
