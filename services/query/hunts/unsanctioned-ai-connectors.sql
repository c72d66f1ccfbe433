-- title: Unsanctioned AI connectors
-- description: Live OAuth grants of apps classified as AI tools that are not on the allow list (sanctioned is
-- description: false or unknown), with who granted them, their scopes and their use. Most used first.
-- param min_uses UInt64 default 0
SELECT
    connector_id,
    provider,
    client_id,
    app_name,
    granted_by_email,
    scopes,
    multiIf(sanctioned IS NULL, 'unknown', sanctioned = 1, 'yes', 'no') AS sanctioned_state,
    granted_at_ms,
    uses,
    last_used_ms,
    distinct_users
FROM connector_inventory
WHERE ai_classification = 'ai_tool'
  AND revoked = 0
  AND (sanctioned IS NULL OR sanctioned = 0)
  AND uses >= {min_uses:UInt64}
ORDER BY uses DESC, connector_id
