// Connector inventory: every OAuth grant of an app by a person, who granted
// it (resolved to the directory person who held the granting identity at
// the time, and their state now), its scopes, first and last use, whether it
// is revoked, and its AI / sanctioned classification.
import { bindQuery } from './bind.ts';
import type { Column } from './chain.ts';
import type { Report } from './report.ts';

export const CONNECTOR_STATES = ['all', 'active', 'revoked'] as const;
export const SANCTIONED_FILTERS = ['any', 'yes', 'no', 'unknown'] as const;

export interface ConnectorFilter {
  /** '' for any. */
  provider: string;
  /** ai_tool, other, unknown, or '' for any. */
  classification: string;
  state: (typeof CONNECTOR_STATES)[number];
  sanctioned: (typeof SANCTIONED_FILTERS)[number];
}

export const CONNECTORS_TEMPLATE = `SELECT
    connector_id, provider, client_id, app_name, granted_by_email, granted_by_platform_user_id,
    nullIf(owner_id, '') AS granting_person_id,
    nullIf(owner_name, '') AS granting_person_name,
    nullIf(owner_state, '') AS granting_person_state,
    scopes, status, revoked, granted_at_ms, revoked_at_ms, ai_classification, sanctioned,
    uses, first_used_ms, last_used_ms, distinct_users
FROM
(
    SELECT connector_id, provider, client_id, app_name, granted_by_email, granted_by_platform_user_id, scopes, status,
           revoked, granted_at_ms, revoked_at_ms, ai_classification, sanctioned, uses, first_used_ms, last_used_ms,
           distinct_users, owner_id
    FROM connector_inventory AS inventory
    ANY LEFT JOIN (SELECT connector_id, granting_person_id AS owner_id FROM connector_owners) AS owners USING connector_id
) AS with_owner
ANY LEFT JOIN
(
    SELECT person_id AS owner_id, ifNull(display_name, '') AS owner_name, lifecycle_state AS owner_state
    FROM person_departures
) AS people USING owner_id
WHERE ({provider:String} = '' OR provider = {provider:String})
  AND ({classification:String} = '' OR ai_classification = {classification:String})
  AND ({state:String} = 'all' OR revoked = ({state:String} = 'revoked'))
  AND ({sanctioned:String} = 'any'
       OR multiIf(sanctioned IS NULL, 'unknown', sanctioned = 1, 'yes', 'no') = {sanctioned:String})
ORDER BY provider, client_id, connector_id`;

const s = (name: string, nullable = false): Column => ({ name, kind: 'string', ...(nullable ? { nullable } : {}) });
const n = (name: string, nullable = false): Column => ({ name, kind: 'number', ...(nullable ? { nullable } : {}) });

export const CONNECTOR_COLUMNS: Column[] = [
  s('connector_id'), s('provider'), s('client_id'), s('app_name', true), s('granted_by_email', true),
  s('granted_by_platform_user_id', true), s('granting_person_id', true), s('granting_person_name', true),
  s('granting_person_state', true), { name: 'scopes', kind: 'strings' }, s('status'), { name: 'revoked', kind: 'bool' },
  n('granted_at_ms'), n('revoked_at_ms', true), s('ai_classification'), { name: 'sanctioned', kind: 'bool', nullable: true },
  n('uses'), n('first_used_ms', true), n('last_used_ms', true), n('distinct_users'),
];

export function connectorsQuery(filter: ConnectorFilter): Report {
  return { sql: bindQuery(CONNECTORS_TEMPLATE, { ...filter }), columns: CONNECTOR_COLUMNS };
}
