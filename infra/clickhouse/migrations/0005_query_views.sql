-- Query-side views (services/query): who held which identifier when, who
-- has left, who owns each non-human identity and connector, and which access
-- is orphaned. Plain views over deduplicated rows (FINAL or the *_latest
-- views), written for 18.16 and current servers alike: at most one JOIN per
-- SELECT, JOIN ... USING on renamed columns and aliased subqueries (current
-- servers require the alias), no CTEs, no ASOF JOIN, and no alias equal to a
-- column its own expression reads (18.16 substitutes it).
--
-- "As of" without ASOF JOIN: an owner identifier (email or platform user id)
-- is matched against every directory person version that carried it. The
-- holder at the reference time is the newest such version at or before it,
-- else the earliest after it. A reused email therefore resolves to whoever
-- held it when the key was created or the grant given, not to today's holder.

-- Every identifier a directory person carried, per version: the primary
-- email and every alias, lower-cased.
CREATE VIEW IF NOT EXISTS person_identifiers AS
SELECT person_id, valid_from_ms, active, ident
FROM persons_history FINAL
ARRAY JOIN arrayFilter(x -> x != '', arrayConcat([lower(ifNull(email, ''))], arrayMap(v -> lower(v), alias_values))) AS ident
WHERE record_kind = 'directory';

-- Directory persons now. For those inactive now, left_at_ms is the start of
-- the trailing run of inactive versions: an edit made after someone left
-- does not move the date, and a rehire clears it. (18.16 lambdas cannot read
-- outer columns: last_active_ms goes in as a second array.)
CREATE VIEW IF NOT EXISTS person_departures AS
SELECT
    person_id,
    is_active AS active,
    state AS lifecycle_state,
    current_email AS email,
    current_name AS display_name,
    if(is_active = 0,
       toNullable(arrayReduce('min', arrayMap(v -> v.1, arrayFilter((v, since) -> v.2 = 0 AND v.1 > since,
           versions, arrayResize([last_active_ms], length(versions), last_active_ms))))),
       NULL) AS left_at_ms
FROM
(
    SELECT
        person_id,
        argMax(active, version_ms) AS is_active,
        argMax(lifecycle_state, version_ms) AS state,
        argMax(email, version_ms) AS current_email,
        argMax(display_name, version_ms) AS current_name,
        maxIf(version_ms, active = 1) AS last_active_ms,
        groupArray((version_ms, active)) AS versions
    FROM
    (
        SELECT person_id, valid_from_ms AS version_ms, active, lifecycle_state, email, display_name
        FROM persons_history FINAL
        WHERE record_kind = 'directory'
    )
    GROUP BY person_id
);

-- Each non-human identity now with the identifiers of its owner: its own,
-- else its parent's, else its grandparent's (key -> service account ->
-- project). owner_via says which.
CREATE VIEW IF NOT EXISTS nhi_owner_refs AS
SELECT
    nhi_id, kind, platform, platform_id, name, status, active, created_ms, platform_last_used_ms,
    multiIf(e0 != '' OR u0 != '', 'self', e1 != '' OR u1 != '', 'parent', e2 != '' OR u2 != '', 'grandparent', 'none') AS owner_via,
    multiIf(e0 != '' OR u0 != '', e0, e1 != '' OR u1 != '', e1, e2) AS owner_email,
    multiIf(e0 != '' OR u0 != '', u0, e1 != '' OR u1 != '', u1, u2) AS owner_platform_user_id
FROM
(
    SELECT nhi_id, kind, platform, platform_id, name, status, active, created_ms, platform_last_used_ms,
           e0, u0, e1, u1, p2
    FROM
    (
        SELECT nhi_id, kind, platform, platform_id, name, status, active,
               ifNull(created_at_ms, first_valid_from_ms) AS created_ms,
               last_used_at_ms AS platform_last_used_ms,
               lower(ifNull(owner_email, '')) AS e0, ifNull(owner_platform_user_id, '') AS u0,
               ifNull(parent_nhi_id, '') AS p1
        FROM nhi_latest
    ) AS self_refs
    ANY LEFT JOIN
    (
        SELECT nhi_id AS p1, lower(ifNull(owner_email, '')) AS e1, ifNull(owner_platform_user_id, '') AS u1,
               ifNull(parent_nhi_id, '') AS p2
        FROM nhi_latest
    ) AS parent_refs USING p1
) AS with_parent
ANY LEFT JOIN
(
    SELECT nhi_id AS p2, lower(ifNull(owner_email, '')) AS e2, ifNull(owner_platform_user_id, '') AS u2
    FROM nhi_latest
) AS grandparent_refs USING p2;

-- ... and the directory person those identifiers named when it was created
-- ('' when none resolves). Column lists are explicit: 18.16's SELECT * over
-- JOIN ... USING repeats the key column, which a view refuses.
CREATE VIEW IF NOT EXISTS nhi_owners AS
SELECT
    nhi_id, kind, platform, platform_id, name, status, active, created_ms, platform_last_used_ms,
    owner_via, owner_email, owner_platform_user_id, owner_person_id
FROM nhi_owner_refs
ANY LEFT JOIN
(
    SELECT
        owned_id AS nhi_id,
        argMax(person_id, (valid_from_ms <= at_ms, if(valid_from_ms <= at_ms, toInt64(valid_from_ms), -toInt64(valid_from_ms)))) AS owner_person_id
    FROM
    (
        SELECT nhi_id AS owned_id, created_ms AS at_ms, ident
        FROM nhi_owner_refs
        ARRAY JOIN [owner_email, lower(owner_platform_user_id)] AS ident
        WHERE ident != ''
    ) AS owner_idents
    ALL INNER JOIN person_identifiers USING ident
    GROUP BY owned_id
) AS resolved USING nhi_id;

-- Each connector now with the directory person who granted it, as of the grant.
CREATE VIEW IF NOT EXISTS connector_owners AS
SELECT
    connector_id, provider, client_id, app_name, status, active, granted_ms, granted_by_email,
    granted_by_platform_user_id, scopes, ai_classification, sanctioned, granting_person_id
FROM
(
    SELECT connector_id, provider, client_id, app_name, status, active, first_valid_from_ms AS granted_ms,
           granted_by_email, granted_by_platform_user_id, scopes, ai_classification, sanctioned
    FROM connectors_latest
) AS grants
ANY LEFT JOIN
(
    SELECT
        owned_id AS connector_id,
        argMax(person_id, (valid_from_ms <= at_ms, if(valid_from_ms <= at_ms, toInt64(valid_from_ms), -toInt64(valid_from_ms)))) AS granting_person_id
    FROM
    (
        SELECT connector_id AS owned_id, first_valid_from_ms AS at_ms, ident
        FROM connectors_latest
        ARRAY JOIN [lower(ifNull(granted_by_email, '')), lower(ifNull(granted_by_platform_user_id, ''))] AS ident
        WHERE ident != ''
    ) AS grant_idents
    ALL INNER JOIN person_identifiers USING ident
    GROUP BY owned_id
) AS resolved USING connector_id;

-- Live keys, service accounts and connectors whose owner is inactive now.
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
           granted_ms AS created_ms, CAST(NULL AS Nullable(UInt64)) AS platform_last_used_ms, 'grant' AS owner_via,
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

-- Orphaned access with its use: events whose owner chain holds the identity
-- (a service account counts the uses of its keys), the last of them, and
-- how many came after the owner left.
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
    ) AS links
    ALL INNER JOIN
    (
        SELECT identity_id AS link_id, ifNull(owner_left_at_ms, 0) AS left_ms FROM orphan_candidates
    ) AS departures USING link_id
    GROUP BY link_id
) AS usage USING identity_id;
