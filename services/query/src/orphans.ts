// Orphaned access: live keys, service accounts and connectors whose owner
// is inactive now, with their last use and how many uses came after the
// owner left (view orphaned_access, migration 0005).
import { bindQuery } from './bind.ts';
import type { Column } from './chain.ts';
import type { Report } from './report.ts';

export interface OrphanFilter {
  /** api_key, admin_api_key, service_account, connector, ... or '' for any. */
  kind: string;
  /** Platform or connector provider, '' for any. */
  platform: string;
  /** Only identities used at least this often since their owner left. */
  minUsesAfterLeft: number;
}

export const ORPHANS_TEMPLATE = `SELECT
    identity_kind, identity_id, platform, name, status, created_ms AS created_at_ms,
    owner_via, owner_ref, owner_person_id, owner_name, owner_email_now, owner_lifecycle_state, owner_left_at_ms,
    if(last_event_ms IS NULL AND platform_last_used_ms IS NULL, CAST(NULL AS Nullable(UInt64)),
       toNullable(greatest(ifNull(last_event_ms, 0), ifNull(platform_last_used_ms, 0)))) AS last_used_ms,
    last_event_ms, platform_last_used_ms, uses, uses_after_left
FROM orphaned_access
WHERE ({kind:String} = '' OR identity_kind = {kind:String})
  AND ({platform:String} = '' OR platform = {platform:String})
  AND uses_after_left >= {min_uses_after_left:UInt64}
ORDER BY uses_after_left DESC, owner_left_at_ms, identity_id`;

const s = (name: string, nullable = false): Column => ({ name, kind: 'string', ...(nullable ? { nullable } : {}) });
const n = (name: string, nullable = false): Column => ({ name, kind: 'number', ...(nullable ? { nullable } : {}) });

export const ORPHAN_COLUMNS: Column[] = [
  s('identity_kind'), s('identity_id'), s('platform'), s('name', true), s('status'), n('created_at_ms'),
  s('owner_via'), s('owner_ref'), s('owner_person_id'), s('owner_name', true), s('owner_email_now', true),
  s('owner_lifecycle_state'), n('owner_left_at_ms', true),
  n('last_used_ms', true), n('last_event_ms', true), n('platform_last_used_ms', true), n('uses'), n('uses_after_left'),
];

export function orphansQuery(filter: OrphanFilter): Report {
  return {
    sql: bindQuery(ORPHANS_TEMPLATE, { kind: filter.kind, platform: filter.platform, min_uses_after_left: filter.minUsesAfterLeft }),
    columns: ORPHAN_COLUMNS,
  };
}
