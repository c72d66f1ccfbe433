// Cursor audit log event -> AccessEvent (reference 3.2, 3.5). Audit records
// name the person by email only ("unknown" for system events); what was acted
// on is read from the undocumented `event_data` by the keys seen so far.
import type { Target } from '#schemas';
import {
  asObject, buildEvent, emptyActor, emptyScope, emptySrc, known, requireString, rest, safely, str, target, type Json,
} from '../../normalise/common.ts';
import { requireTime, timeText } from '../../normalise/time.ts';
import { SEVERITY, ocsfClass } from '../../normalise/ocsf.ts';
import { mappingFor } from './event-types.ts';

export const normaliseCursorAudit = safely((rec, ctx) => {
  const what = `cursor audit event ${str(rec.event_id) ?? '(no event_id)'}`;
  const id = requireString(rec, 'event_id', what);
  const type = requireString(rec, 'event_type', what);
  const time = requireTime('rfc3339', rec.timestamp, what);
  const data = asObject(rec.event_data) ?? {};
  const failed = isFailure(type, data);
  const mapping = mappingFor(type, str(data.action), failed);
  const email = known(rec.user_email);
  const src = emptySrc();
  src.ip = known(rec.ip_address) ?? known(data.ip_address);
  src.user_agent = str(data.user_agent);

  return buildEvent(
    {
      sourceEventId: id,
      time,
      timeRaw: timeText(rec.timestamp)!,
      action: mapping.action,
      sourceType: type,
      outcome: failed ? 'failure' : 'success',
      ocsf: ocsfClass(mapping.classUid, mapping.activityId, failed ? SEVERITY.low : SEVERITY.informational),
      actor: email ? { ...emptyActor('human'), email } : emptyActor('unknown'),
      targets: targetsOf(type, data),
      scope: { ...emptyScope(), organization_id: ctx.organizationId ?? null },
      src,
      unmapped: rest(rec, ['event_id', 'event_type', 'timestamp', 'user_email', 'ip_address']),
    },
    ctx,
  );
});

function isFailure(type: string, data: Json): boolean {
  if (type === 'login' && data.success === false) return true;
  return type === 'protected_git_scope_access_check' && data.result === 'blocked';
}

/** Keys `event_data` has been seen to carry, to the target they name. */
function targetsOf(type: string, d: Json): Target[] {
  const keyType = type === 'user_api_key' ? 'user_api_key' : 'api_key';
  return [
    ...target('user', d.email ?? d.user_email ?? d.target_email ?? d.userEmail),
    ...target(keyType, d.api_key_id ?? d.api_key_name ?? d.key_name, d.api_key_name ?? d.key_name),
    ...target('service_account', d.service_account_id ?? d.serviceAccountId, d.service_account_name ?? d.name),
    ...target('repo', d.repo_url ?? d.repo ?? d.repository),
    ...target('directory_group', d.group_id ?? d.group_name, d.group_name),
    ...target('mcp_server', d.server_name ?? d.mcp_server_name ?? d.server_url),
    ...target('rule', d.rule_id ?? d.rule_name, d.rule_name),
  ];
}
