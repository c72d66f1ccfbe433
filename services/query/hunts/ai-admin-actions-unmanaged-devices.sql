-- title: AI admin actions from unmanaged devices
-- description: Administrative actions on AI platforms made from a device that was not MDM-managed at the time
-- description: or (include_unknown = 1) that no device record matched. Admin = Account Change (OCSF 3001),
-- description: Entity Management (3004) or User Access Management (3005), or an API Activity create, update
-- description: or delete (6003/1,3,4) on an administrative object (admin_objects, a regular expression over
-- description: the normalised action: keys, service accounts, projects, users, roles, SSO, ...), so file
-- description: uploads and chats are not counted.
-- param since DateTime default now-7d
-- param until DateTime default now
-- param platforms Array(String) default openai,anthropic,cursor
-- param include_unknown UInt64 default 1
-- param admin_objects String default api_key|service_account|project|workspace|user|member|invite|role|group|organi[sz]ation|org_|scim|sso|ip_allowlist|ip_restriction|certificate|rate_limit|policy|domain|directory|settings|mcp_|connector|tunnel|owner|permission|tenant[.]
-- param limit UInt64 default 1000
SELECT
    event_id,
    toString(event_time) AS event_time_utc,
    source_platform,
    action,
    outcome,
    person_id,
    person_email,
    attribution_method,
    actor_kind,
    coalesce(actor_email, actor_api_key_id, actor_service_account_id, actor_platform_user_id) AS actor_ref,
    if(device_id IS NULL, 'unknown', 'unmanaged') AS device_state,
    device_id,
    device_hostname,
    src_ip,
    src_user_agent
FROM access_events FINAL
WHERE event_time >= {since:DateTime} AND event_time < {until:DateTime}
  AND has({platforms:Array(String)}, source_platform)
  AND (class_uid IN (3001, 3004, 3005)
       OR (class_uid = 6003 AND activity_id IN (1, 3, 4) AND match(action, {admin_objects:String})))
  AND (device_managed = 0 OR (device_id IS NULL AND {include_unknown:UInt64} = 1))
ORDER BY event_time_ms, event_id
LIMIT {limit:UInt64}
