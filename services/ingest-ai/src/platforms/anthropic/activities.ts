// Anthropic Compliance API activity -> AccessEvent (reference 2.3-2.7).
// Type-specific fields sit at the top level; the actor is discriminated by
// `actor.type`, which some schema versions leave optional, so presence of
// the identifying field is checked too.
import type { Actor, SourceEndpoint, Target } from '#schemas';
import {
  asObject, buildEvent, emptyActor, emptyScope, emptySrc, invalid, requireString, rest, safely, str, target, type Json,
} from '../../normalise/common.ts';
import { requireTime, timeText } from '../../normalise/time.ts';
import { SEVERITY, ocsfClass } from '../../normalise/ocsf.ts';
import { mappingFor } from './activity-types.ts';

/** Top-level `*_id` fields that name the request or the envelope, not what was acted on. */
const NOT_TARGETS = new Set(['id', 'organization_id', 'request_id', 'workos_event_id']);

export const normaliseAnthropicActivity = safely((rec, ctx) => {
  const what = `anthropic activity ${str(rec.id) ?? '(no id)'}`;
  const id = requireString(rec, 'id', what);
  const type = requireString(rec, 'type', what);
  const time = requireTime('rfc3339', rec.created_at, what);
  if (rec.actor !== undefined && rec.actor !== null && !asObject(rec.actor)) throw invalid(`${what}: actor is not an object`);
  const mapping = mappingFor(type);
  const failed = isFailure(type, rec);
  const { actor, src, extra } = readActor(asObject(rec.actor));
  const workspaceId = str(rec.workspace_id);

  return buildEvent(
    {
      sourceEventId: id,
      time,
      timeRaw: timeText(rec.created_at)!,
      action: mapping.action,
      sourceType: type,
      outcome: failed ? 'failure' : 'success',
      ocsf: ocsfClass(mapping.classUid, mapping.activityId, failed ? SEVERITY.low : SEVERITY.informational),
      actor,
      targets: targetsOf(rec),
      scope: { ...emptyScope(), organization_id: str(rec.organization_id) ?? str(rec.organization_uuid), workspace_id: workspaceId },
      src,
      unmapped: { ...rest(rec, ['id', 'type', 'created_at', 'actor', 'organization_id']), ...extra },
    },
    ctx,
  );
});

function isFailure(type: string, rec: Json): boolean {
  if (type.endsWith('_failed') || type.endsWith('_invalid')) return true;
  if (rec.decision === 'blocked') return true;
  return typeof rec.status_code === 'number' && rec.status_code >= 400;
}

function targetsOf(rec: Json): Target[] {
  const out: Target[] = [];
  for (const [key, value] of Object.entries(rec)) {
    if (!key.endsWith('_id') || key === '_id' || NOT_TARGETS.has(key)) continue;
    out.push(...target(key.slice(0, -'_id'.length), value));
  }
  // Compliance API self-audit: what was read is the URL.
  out.push(...target('api_endpoint', rec.url));
  return out;
}

/**
 * Non-human actors are named by their credential (key, service account,
 * workload identity); automated Anthropic and SCIM actors by what they are.
 * An unauthenticated email is a claim, so that actor stays 'unknown'.
 */
function readActor(a: Json | undefined): { actor: Actor; src: SourceEndpoint; extra: Json } {
  const src = emptySrc();
  if (!a) return { actor: emptyActor('unknown'), src, extra: {} };
  src.ip = str(a.ip_address);
  src.user_agent = str(a.user_agent);
  const type = str(a.type);
  const extra: Json = { 'actor.type': type };
  const is = (t: string, field: string) => type === t || (type === null && a[field] !== undefined);

  if (is('user_actor', 'user_id')) {
    return { actor: { ...emptyActor('human'), platform_user_id: str(a.user_id), email: str(a.email_address) }, src, extra };
  }
  if (is('api_actor', 'api_key_id')) return { actor: { ...emptyActor('api_key'), api_key_id: str(a.api_key_id) }, src, extra };
  if (is('admin_api_key_actor', 'admin_api_key_id')) {
    return { actor: { ...emptyActor('api_key'), api_key_id: str(a.admin_api_key_id) }, src, extra: { ...extra, 'actor.admin_key': true } };
  }
  if (is('service_account_actor', 'service_account_id')) {
    return { actor: { ...emptyActor('service_account'), service_account_id: str(a.service_account_id) }, src, extra };
  }
  if (is('unauthenticated_user_actor', 'unauthenticated_email_address')) {
    return { actor: { ...emptyActor('unknown'), email: str(a.unauthenticated_email_address) }, src, extra: { ...extra, 'actor.email_claimed': true } };
  }
  if (type === 'federated_identity_actor' || type === 'federated_actor') {
    const provider = asObject(a.provider);
    return {
      actor: { ...emptyActor('oauth_client'), oauth_client_id: str(a.subject), name: str(a.issuer) ?? str(provider?.type) },
      src,
      extra: { ...extra, 'actor.audience': a.audience, 'actor.provider': provider },
    };
  }
  if (type === 'attested_device_actor') {
    src.device_id = str(a.external_client_id);
    return { actor: emptyActor('device'), src, extra: { ...extra, 'actor.kid_hash': str(a.kid_hash) } };
  }
  if (type === 'scim_directory_sync_actor') {
    return {
      actor: { ...emptyActor('unknown'), name: `scim:${str(a.directory_id) ?? 'unknown'}` },
      src,
      extra: { ...extra, 'actor.idp_connection_type': str(a.idp_connection_type), 'actor.workos_event_id': str(a.workos_event_id) },
    };
  }
  if (type === 'system_actor' || type === 'anthropic_actor') {
    return { actor: { ...emptyActor('unknown'), name: str(a.service) ?? type }, src, extra };
  }
  return { actor: emptyActor('unknown'), src, extra: { ...extra, actor: a } };
}
