// OpenAI audit log record -> AccessEvent (reference 1.4-1.9). Event details
// sit under a key named like the type (`rec["api_key.created"]`).
import type { Actor, SourceEndpoint } from '#schemas';
import {
  asObject, buildEvent, emptyActor, invalid, emptyScope, emptySrc, requireString, rest, safely, str, type Json,
} from '../../normalise/common.ts';
import { requireTime, timeText } from '../../normalise/time.ts';
import { API_ACTIVITY, OCSF_CLASS, SEVERITY, ocsfClass } from '../../normalise/ocsf.ts';
import { isDocumentedType, mappingFor } from './event-types.ts';

export const normaliseOpenAiAudit = safely((rec, ctx) => {
  const what = `openai audit log ${str(rec.id) ?? '(no id)'}`;
  const id = requireString(rec, 'id', what);
  const type = requireString(rec, 'type', what);
  const time = requireTime('unix_seconds', rec.effective_at, what);
  if (rec.actor !== undefined && rec.actor !== null && !asObject(rec.actor)) throw invalid(`${what}: actor is not an object`);
  const detail = asObject(rec[type]);
  const project = asObject(rec.project);
  const documented = isDocumentedType(type);
  const mapping = mappingFor(type);
  const failed = type === 'login.failed' || type === 'logout.failed';
  const { actor, src, extra } = readActor(asObject(rec.actor));

  return buildEvent(
    {
      sourceEventId: id,
      time,
      timeRaw: timeText(rec.effective_at)!,
      action: type,
      sourceType: type,
      outcome: failed ? 'failure' : 'success',
      ocsf: documented
        ? ocsfClass(mapping.classUid, mapping.activityId, failed ? SEVERITY.low : SEVERITY.informational)
        : ocsfClass(OCSF_CLASS.apiActivity, API_ACTIVITY.other),
      actor,
      targets: documented && detail ? mapping.targets(detail) : [],
      scope: { ...emptyScope(), project_id: str(project?.id) },
      src,
      unmapped: {
        ...rest(rec, ['id', 'type', 'effective_at', 'actor', 'project']),
        'project.name': str(project?.name),
        ...extra,
      },
    },
    ctx,
  );
});

/**
 * A dashboard session is a person; an API key acts for a user (a person
 * behind a key) or a service account. The key's tracking id is kept either way.
 */
function readActor(actor: Json | undefined): { actor: Actor; src: SourceEndpoint; extra: Json } {
  const src = emptySrc();
  if (!actor) return { actor: emptyActor('unknown'), src, extra: {} };
  const session = asObject(actor.session);
  const apiKey = asObject(actor.api_key);
  if (actor.type === 'session' || (session && !apiKey)) {
    const user = asObject(session?.user);
    const details = asObject(session?.ip_address_details);
    src.ip = str(session?.ip_address);
    src.user_agent = str(session?.user_agent);
    src.country = str(details?.country);
    return {
      actor: { ...emptyActor('human'), platform_user_id: str(user?.id), email: str(user?.email) },
      src,
      extra: { 'actor.session.ja3': str(session?.ja3), 'actor.session.ja4': str(session?.ja4), 'actor.session.ip_address_details': details },
    };
  }
  if (apiKey) {
    const user = asObject(apiKey.user);
    const serviceAccount = asObject(apiKey.service_account);
    const isServiceAccount = apiKey.type === 'service_account' || (!user && serviceAccount !== undefined);
    return {
      actor: {
        ...emptyActor(isServiceAccount ? 'service_account' : 'api_key'),
        api_key_id: str(apiKey.id),
        platform_user_id: isServiceAccount ? null : str(user?.id),
        email: isServiceAccount ? null : str(user?.email),
        service_account_id: str(serviceAccount?.id),
      },
      src,
      extra: { 'actor.api_key.type': str(apiKey.type) },
    };
  }
  return { actor: emptyActor('unknown'), src, extra: { actor } };
}
