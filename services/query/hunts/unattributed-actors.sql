-- title: Events from unattributed actors
-- description: Events that no directory person stands behind after the latest enrichment (unresolved, or
-- description: resolved only to a platform account), grouped by the actor's own identifiers, with the actions,
-- description: the enrichment's reasons and the source IPs seen. Actors with at least min_events events.
-- param since DateTime default now-7d
-- param until DateTime default now
-- param min_events UInt64 default 1
SELECT
    source_platform,
    actor_kind,
    claimed_email,
    platform_user,
    api_key,
    service_account,
    oauth_client,
    count() AS events,
    arraySort(groupUniqArray(action)) AS actions,
    arraySort(groupUniqArray(attribution_method)) AS methods,
    arraySort(groupUniqArrayArray(reasons)) AS reasons_seen,
    arraySort(groupUniqArray(ip)) AS ips,
    min(event_time_ms) AS first_ms,
    max(event_time_ms) AS last_ms
FROM
(
    SELECT
        source_platform, actor_kind, action, attribution_method, reasons, event_time_ms,
        ifNull(actor_email, '') AS claimed_email,
        ifNull(actor_platform_user_id, '') AS platform_user,
        ifNull(actor_api_key_id, '') AS api_key,
        ifNull(actor_service_account_id, '') AS service_account,
        ifNull(actor_oauth_client_id, '') AS oauth_client,
        ifNull(src_ip, '') AS ip
    FROM access_events FINAL
    WHERE event_time >= {since:DateTime} AND event_time < {until:DateTime}
      AND (person_id IS NULL OR attribution_method IN ('unresolved', 'platform_account_only'))
)
GROUP BY source_platform, actor_kind, claimed_email, platform_user, api_key, service_account, oauth_client
HAVING events >= {min_events:UInt64}
ORDER BY events DESC, source_platform, actor_kind, claimed_email, platform_user, api_key, service_account, oauth_client
