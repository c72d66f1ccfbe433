-- title: Keys used after their owner left
-- description: Events where an API key, service account or connector (an OAuth grant: its owner is the person
-- description: who granted it) acted while the person owning it was no longer
-- description: active: either the owner chain enrichment built says so (the owner's state at the event's
-- description: time), or identity data that arrived later shows the owner, inactive now, had left before the
-- description: event (a backdated termination). Each finding names one person and that person's departure:
-- description: the chain's owner for the first, the key's owner by identity data for the second, which counts
-- description: only when the chain named no person or the same one. Newest first.
-- param since DateTime default now-30d
-- param until DateTime default now
SELECT
    event_id,
    event_time_utc,
    source_platform,
    action,
    outcome,
    acting_kind,
    acting_id,
    if(by_chain, chain_owner, owner_now) AS owner_person_id,
    owner_state_at_event,
    if(owner_left_ms > 0 AND (NOT by_chain OR chain_owner = owner_now), toNullable(owner_left_ms),
       CAST(NULL AS Nullable(UInt64))) AS owner_left_at_ms,
    if(by_chain, 'owner inactive at the event (enrichment)', 'owner left before the event (identity data)') AS finding,
    src_ip,
    src_user_agent
FROM
(
    SELECT
        event_id, toString(event_time) AS event_time_utc, event_time_ms, source_platform, action, outcome,
        src_ip, src_user_agent,
        chain_kinds[1] AS acting_kind,
        chain_ids[1] AS acting_id,
        indexOf(chain_kinds, 'person') AS owner_link,
        if(owner_link > 0, chain_ids[owner_link], '') AS chain_owner,
        if(owner_link > 0, ifNull(chain_statuses[owner_link], ''), '') AS owner_state_at_event,
        owner_state_at_event IN ('inactive', 'suspended') AS by_chain
    FROM access_events FINAL
    WHERE event_time >= {since:DateTime} AND event_time < {until:DateTime}
      AND length(chain_kinds) > 0
      AND chain_kinds[1] IN ('api_key', 'admin_api_key', 'service_account', 'connector')
) AS uses
ANY LEFT JOIN
(
    SELECT nhi_id AS acting_id, owner_person_id AS owner_now, ifNull(left_ms, 0) AS owner_left_ms
    FROM nhi_owners AS owners
    ALL INNER JOIN
    (
        SELECT person_id AS owner_person_id, left_at_ms AS left_ms FROM person_departures WHERE active = 0
    ) AS departed USING owner_person_id
) AS departures USING acting_id
WHERE by_chain
   OR (owner_left_ms > 0 AND event_time_ms >= owner_left_ms AND (chain_owner = '' OR chain_owner = owner_now))
ORDER BY event_time_ms DESC, event_id
