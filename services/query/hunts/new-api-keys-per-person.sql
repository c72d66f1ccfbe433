-- title: New API keys per person
-- description: API keys created in the window on every platform (user, project, admin, team and tenant keys:
-- description: actions like api_key.created, admin_api_key_created, team_api_key.create), per person they are
-- description: attributed to; creations no person resolved for are grouped by the acting identifier. Persons
-- description: with at least min_keys creations, most first.
-- param since DateTime default now-30d
-- param until DateTime default now
-- param min_keys UInt64 default 1
SELECT
    who,
    any(person_id) AS person,
    argMax(person_email, event_time_ms) AS latest_email,
    count() AS keys_created,
    arraySort(groupUniqArrayArray(created_key_ids)) AS key_ids,
    arraySort(groupUniqArray(source_platform)) AS platforms,
    countIf(device_managed = 0 OR device_id IS NULL) AS from_unmanaged_or_unknown_device,
    min(event_time_ms) AS first_created_ms,
    max(event_time_ms) AS last_created_ms
FROM
(
    SELECT
        ifNull(person_id, concat('unattributed:', coalesce(actor_email, actor_platform_user_id, actor_api_key_id,
               actor_service_account_id, ''))) AS who,
        person_id, person_email, event_time_ms, source_platform, device_managed, device_id,
        arrayFilter((id, kind) -> positionCaseInsensitive(kind, 'key') > 0, target_ids, target_types) AS created_key_ids
    FROM access_events FINAL
    WHERE event_time >= {since:DateTime} AND event_time < {until:DateTime}
      AND match(action, 'api_key[._]create(d)?$')
)
GROUP BY who
HAVING keys_created >= {min_keys:UInt64}
ORDER BY keys_created DESC, who
