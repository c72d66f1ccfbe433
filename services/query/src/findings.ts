// Findings of the detection rules (table findings, migration 0007), newest
// first, deduplicated by finding_id: a finding the detect service emitted
// again after a restart is one row here.
import { severitiesFrom, type FindingSeverity } from '#schemas';
import { bindQuery } from './bind.ts';
import type { Column } from './chain.ts';
import type { Report } from './report.ts';

export interface FindingFilter {
  fromMs: number;
  toMs: number;
  /** A rule id, '' for any. */
  rule: string;
  minSeverity: FindingSeverity;
  /** A person id, '' for any. */
  person: string;
  limit: number;
}

// Filtered on last_event_time: a finding belongs to the window in which it was complete.
export const FINDINGS_TEMPLATE = `SELECT
    finding_id, rule_id, rule_version, rule_title, severity, kind, summary, tags, event_ids, platform,
    person_id, person_email, nhi_id, nhi_kind, device_id, connector_client_id, connector_app_name,
    group_key, dedup_key, first_event_time_ms, last_event_time_ms, emitted_at_ms
FROM findings FINAL
WHERE last_event_time >= {from:DateTime} AND last_event_time < {to:DateTime}
  AND ({rule:String} = '' OR rule_id = {rule:String})
  AND has({severities:Array(String)}, severity)
  AND ({person:String} = '' OR person_id = {person:String})
ORDER BY last_event_time_ms DESC, finding_id
LIMIT {limit:UInt64}`;

const s = (name: string, nullable = false): Column => ({ name, kind: 'string', ...(nullable ? { nullable } : {}) });
const n = (name: string): Column => ({ name, kind: 'number' });
const list = (name: string): Column => ({ name, kind: 'strings' });

export const FINDING_COLUMNS: Column[] = [
  s('finding_id'), s('rule_id'), n('rule_version'), s('rule_title'), s('severity'), s('kind'), s('summary'), list('tags'),
  list('event_ids'), s('platform'), s('person_id', true), s('person_email', true), s('nhi_id', true), s('nhi_kind', true),
  s('device_id', true), s('connector_client_id', true), s('connector_app_name', true), s('group_key'), s('dedup_key'),
  n('first_event_time_ms'), n('last_event_time_ms'), n('emitted_at_ms'),
];

export function findingsQuery(filter: FindingFilter): Report {
  return {
    sql: bindQuery(FINDINGS_TEMPLATE, {
      from: filter.fromMs,
      to: filter.toMs,
      rule: filter.rule,
      severities: severitiesFrom(filter.minSeverity),
      person: filter.person,
      limit: filter.limit,
    }),
    columns: FINDING_COLUMNS,
  };
}
