-- Corrections to views of 0004 and 0005. Deployed databases applied those
-- files, which therefore stay as they were: each view fixed here is dropped
-- and created again (a plain view holds no data).
--
-- 1. "Now" means now. The directory import dates a pre-hire or a rehire at
--    its start date, so a version may lie ahead. The current state of an
--    entity is its latest version at or before now(); one whose versions all
--    lie ahead shows its first scheduled version (valid_from_ms > now), so
--    nothing vanishes from the *_latest views. One Int64 orders versions for
--    that: pick = valid_from_ms when it is due, else -1 - valid_from_ms (every
--    due version outranks every scheduled one, the earliest scheduled one
--    outranks the later ones). now() is read when a query runs, on 18.16 as
--    on current servers.
-- 2. person_daily_events counted a re-attributed event under its old person
--    too: it read the person-first copy, which keeps a superseded attribution
--    under the old person_key. It reads access_events FINAL now (the latest
--    attribution of each event).
-- 3. Who held an owner identifier (email, platform user id) when a key was
--    created or a grant given. A leaver's inactive versions keep the address
--    a joiner now holds, so the newest version carrying it is not its holder.
--    Each person who ever carried it is judged as of the reference time t
--    (their own latest version at or before t, active or not), and the owner
--    is, in this order:
--      a person active at t whose version then carries it (two such: the
--        incumbent, who held it longest unbroken);
--      else the first person to carry it while active after t (the directory
--        dates a joiner at their start or at their row's last update, which
--        can be after the key they created);
--      else a leaver whose version at t carries it (the one who held it last
--        while active);
--      else the first to carry it after t, inactive;
--      else its last holder before t (a rename the platform has not caught
--        up with).
--    Equal claims go to the smaller person id, so the answer never depends on
--    arrival order. services/enrich/src/resolve/person.ts ranks a key's or
--    account's owner reference the same way (active at t, then the first
--    active holder after, then a leaver: a leaver creates no keys); an
--    event's own email is judged at the event's instant only.
--
-- Views are dropped with DROP TABLE (18.16 has no DROP VIEW). Same dialect
-- rules as 0005: at most one JOIN per SELECT, aliased subqueries, no CTEs,
-- no alias equal to a column its own expression reads, lambdas that read
-- only their arguments (18.16).

DROP TABLE IF EXISTS persons_latest;

CREATE VIEW IF NOT EXISTS persons_latest AS
SELECT
    person_id,
    argMax(version_ms, pick) AS valid_from_ms,
    argMax(valid_from, pick) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(record_kind, pick) AS record_kind,
    argMax(source_platform, pick) AS source_platform,
    argMax(source_feed, pick) AS source_feed,
    argMax(active, pick) AS active,
    argMax(lifecycle_state, pick) AS lifecycle_state,
    argMax(email, pick) AS email,
    argMax(display_name, pick) AS display_name,
    argMax(department, pick) AS department,
    argMax(title, pick) AS title,
    argMax(manager_person_id, pick) AS manager_person_id,
    argMax(alias_kinds, pick) AS alias_kinds,
    argMax(alias_values, pick) AS alias_values,
    argMax(platform_role, pick) AS platform_role
FROM
(
    SELECT *, valid_from_ms AS version_ms,
           if(valid_from_ms <= toUInt64(toUnixTimestamp(now())) * 1000, toInt64(valid_from_ms), -1 - toInt64(valid_from_ms)) AS pick
    FROM persons_history FINAL
)
GROUP BY person_id;

DROP TABLE IF EXISTS devices_latest;

CREATE VIEW IF NOT EXISTS devices_latest AS
SELECT
    device_id,
    argMax(version_ms, pick) AS valid_from_ms,
    argMax(valid_from, pick) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(source_platform, pick) AS source_platform,
    argMax(source_feed, pick) AS source_feed,
    argMax(active, pick) AS active,
    argMax(serial, pick) AS serial,
    argMax(hostname, pick) AS hostname,
    argMax(os, pick) AS os,
    argMax(managed, pick) AS managed,
    argMax(compliant, pick) AS compliant,
    argMax(assigned_person_id, pick) AS assigned_person_id,
    argMax(assigned_email, pick) AS assigned_email,
    argMax(ip_addresses, pick) AS ip_addresses
FROM
(
    SELECT *, valid_from_ms AS version_ms,
           if(valid_from_ms <= toUInt64(toUnixTimestamp(now())) * 1000, toInt64(valid_from_ms), -1 - toInt64(valid_from_ms)) AS pick
    FROM devices_history FINAL
)
GROUP BY device_id;

DROP TABLE IF EXISTS nhi_latest;

CREATE VIEW IF NOT EXISTS nhi_latest AS
SELECT
    nhi_id,
    argMax(version_ms, pick) AS valid_from_ms,
    argMax(valid_from, pick) AS valid_from,
    min(version_ms) AS first_valid_from_ms,
    count() AS versions,
    argMax(kind, pick) AS kind,
    argMax(platform, pick) AS platform,
    argMax(platform_id, pick) AS platform_id,
    argMax(source_platform, pick) AS source_platform,
    argMax(source_feed, pick) AS source_feed,
    argMax(active, pick) AS active,
    argMax(status, pick) AS status,
    argMax(name, pick) AS name,
    argMax(parent_nhi_id, pick) AS parent_nhi_id,
    argMax(owner_email, pick) AS owner_email,
    argMax(owner_platform_user_id, pick) AS owner_platform_user_id,
    argMax(created_at_ms, pick) AS created_at_ms,
    argMax(last_used_at_ms, pick) AS last_used_at_ms,
    argMax(redacted_value, pick) AS redacted_value
FROM
(
    SELECT *, valid_from_ms AS version_ms,
           if(valid_from_ms <= toUInt64(toUnixTimestamp(now())) * 1000, toInt64(valid_from_ms), -1 - toInt64(valid_from_ms)) AS pick
    FROM nhi_history FINAL
)
GROUP BY nhi_id;

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
    argMax(sanctioned, pick) AS sanctioned
FROM
(
    SELECT *, valid_from_ms AS version_ms,
           if(valid_from_ms <= toUInt64(toUnixTimestamp(now())) * 1000, toInt64(valid_from_ms), -1 - toInt64(valid_from_ms)) AS pick
    FROM connectors_history FINAL
)
GROUP BY connector_id;

-- Events per person per UTC day, each event under its latest attribution.
-- person_key is the person id, or the acting NHI for events no person
-- resolved for (person_id IS NULL then).
DROP TABLE IF EXISTS person_daily_events;

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
FROM access_events FINAL
GROUP BY person_key, day;

-- Directory persons now (their current version as in persons_latest). For
-- those inactive now, left_at_ms is the start of the trailing run of
-- inactive versions up to the current one: an edit made after someone left
-- does not move the date, a rehire clears it, and a rehire dated ahead does
-- not count yet. (18.16 lambdas cannot read outer columns: last_active_ms
-- and current_ms go in as arrays.)
DROP TABLE IF EXISTS person_departures;

CREATE VIEW IF NOT EXISTS person_departures AS
SELECT
    person_id,
    is_active AS active,
    state AS lifecycle_state,
    current_email AS email,
    current_name AS display_name,
    if(is_active = 0,
       toNullable(arrayReduce('min', arrayMap(v -> v.1, arrayFilter((v, since, upto) -> v.2 = 0 AND v.1 > since AND v.1 <= upto,
           versions, arrayResize([last_active_ms], length(versions), last_active_ms), arrayResize([current_ms], length(versions), current_ms))))),
       NULL) AS left_at_ms
FROM
(
    SELECT
        person_id,
        argMax(active, pick) AS is_active,
        argMax(lifecycle_state, pick) AS state,
        argMax(email, pick) AS current_email,
        argMax(display_name, pick) AS current_name,
        argMax(version_ms, pick) AS current_ms,
        maxIf(version_ms, active = 1 AND pick >= 0) AS last_active_ms,
        groupArray((version_ms, active)) AS versions
    FROM
    (
        SELECT person_id, valid_from_ms AS version_ms, active, lifecycle_state, email, display_name,
               if(valid_from_ms <= toUInt64(toUnixTimestamp(now())) * 1000, toInt64(valid_from_ms), -1 - toInt64(valid_from_ms)) AS pick
        FROM persons_history FINAL
        WHERE record_kind = 'directory'
    )
    GROUP BY person_id
);

-- Every reference to an owner, with when it was made: each non-human
-- identity's owner identifiers (see nhi_owner_refs) as of its creation, each
-- connector's granting identifiers as of the grant. Identifiers lower-cased.
DROP TABLE IF EXISTS owner_references;

CREATE VIEW IF NOT EXISTS owner_references AS
SELECT subject_kind, subject_id, at_ms, idents
FROM
(
    SELECT 'nhi' AS subject_kind, nhi_id AS subject_id, created_ms AS at_ms,
           arrayFilter(x -> x != '', [owner_email, lower(owner_platform_user_id)]) AS idents
    FROM nhi_owner_refs
    UNION ALL
    SELECT 'connector' AS subject_kind, connector_id AS subject_id, first_valid_from_ms AS at_ms,
           arrayFilter(x -> x != '', [lower(ifNull(granted_by_email, '')), lower(ifNull(granted_by_platform_user_id, ''))]) AS idents
    FROM connectors_latest
)
WHERE length(idents) > 0;

-- The directory person each reference names (rule 3 above), and on what
-- basis: held_active, active_after, held_inactive, inactive_after, former.
DROP TABLE IF EXISTS owner_holders;

CREATE VIEW IF NOT EXISTS owner_holders AS
SELECT
    subject_kind,
    subject_id,
    argMin(person_id, (tier, tier_key, person_id)) AS owner_person_id,
    ['held_active', 'active_after', 'held_inactive', 'inactive_after', 'former'][min(tier) + 1] AS owner_basis
FROM
(
    -- Each candidate's claim: tier (lower wins), then tier_key (lower wins).
    SELECT
        subject_kind, subject_id, person_id,
        multiIf(has_version_at = 1 AND active_at = 1 AND carries_at = 1, 0,
                active_after_count > 0, 1,
                has_version_at = 1 AND carries_at = 1, 2,
                carry_after_count > 0, 3,
                4) AS tier,
        multiIf(tier = 0, arrayReduce('min', arrayFilter((v, brk) -> v > brk, due_versions, arrayResize([last_break_ms], length(due_versions), last_break_ms))),
                tier = 1, toInt64(first_active_after_ms),
                tier = 2, -toInt64(last_active_carry_ms),
                tier = 3, toInt64(first_carry_after_ms),
                -toInt64(last_carry_ms)) AS tier_key
    FROM
    (
        -- Each candidate judged as of the reference time from all their versions.
        SELECT
            subject_kind, subject_id, person_id,
            countIf(version_ms <= at_ms) > 0 AS has_version_at,
            argMaxIf(version_active, version_ms, version_ms <= at_ms) AS active_at,
            argMaxIf(carries, version_ms, version_ms <= at_ms) AS carries_at,
            -- start of the unbroken run of active versions carrying it, up to t:
            -- after the last version up to t that was not one
            if(countIf(version_ms <= at_ms AND NOT (version_active = 1 AND carries = 1)) = 0, toInt64(-1),
               toInt64(maxIf(version_ms, version_ms <= at_ms AND NOT (version_active = 1 AND carries = 1)))) AS last_break_ms,
            groupArrayIf(toInt64(version_ms), version_ms <= at_ms) AS due_versions,
            countIf(version_ms > at_ms AND version_active = 1 AND carries = 1) AS active_after_count,
            minIf(version_ms, version_ms > at_ms AND version_active = 1 AND carries = 1) AS first_active_after_ms,
            maxIf(version_ms, version_ms <= at_ms AND version_active = 1 AND carries = 1) AS last_active_carry_ms,
            countIf(version_ms > at_ms AND carries = 1) AS carry_after_count,
            minIf(version_ms, version_ms > at_ms AND carries = 1) AS first_carry_after_ms,
            maxIf(version_ms, version_ms <= at_ms AND carries = 1) AS last_carry_ms
        FROM
        (
            SELECT subject_kind, subject_id, at_ms, person_id, version_ms, version_active,
                   hasAny(version_idents, idents) AS carries
            FROM
            (
                -- Everyone who ever carried one of the reference's identifiers.
                SELECT DISTINCT subject_kind, subject_id, at_ms, idents, person_id
                FROM
                (
                    SELECT subject_kind, subject_id, at_ms, idents, ident
                    FROM owner_references
                    ARRAY JOIN idents AS ident
                ) AS refs
                ALL INNER JOIN (SELECT DISTINCT ident, person_id FROM person_identifiers) AS carriers USING ident
            ) AS candidates
            ALL INNER JOIN
            (
                SELECT person_id, valid_from_ms AS version_ms, active AS version_active,
                       arrayFilter(x -> x != '', arrayConcat([lower(ifNull(email, ''))], arrayMap(v -> lower(v), alias_values))) AS version_idents
                FROM persons_history FINAL
                WHERE record_kind = 'directory'
            ) AS person_versions USING person_id
        )
        GROUP BY subject_kind, subject_id, person_id
    )
)
GROUP BY subject_kind, subject_id;

-- Each non-human identity now with the directory person its owner
-- identifiers named when it was created ('' when none resolves).
DROP TABLE IF EXISTS nhi_owners;

CREATE VIEW IF NOT EXISTS nhi_owners AS
SELECT
    nhi_id, kind, platform, platform_id, name, status, active, created_ms, platform_last_used_ms,
    owner_via, owner_email, owner_platform_user_id, owner_person_id
FROM nhi_owner_refs
ANY LEFT JOIN
(
    SELECT subject_id AS nhi_id, owner_person_id FROM owner_holders WHERE subject_kind = 'nhi'
) AS resolved USING nhi_id;

-- Each connector now with the directory person who granted it, as of the grant.
DROP TABLE IF EXISTS connector_owners;

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
    SELECT subject_id AS connector_id, owner_person_id AS granting_person_id FROM owner_holders WHERE subject_kind = 'connector'
) AS resolved USING connector_id;
