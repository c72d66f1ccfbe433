// Google Workspace Admin Reports `activities.list`, applicationName=token
// (reference section 1) -> AccessEvents, one per element of `events[]`.
//   authorize -> grant, revoke -> revoke, activity -> use (token use by the app),
//   request -> grant (outcome unknown), deny -> grant (failure); other names skipped.
// Parameters are `{name, value | multiValue | intValue | multiIntValue |
// boolValue | messageValue | multiMessageValue}`; `scope` is multi-valued and
// `scope_data` a list of messages `{scope_name, product_bucket[]}`.
import type { Actor } from '#schemas';
import { asObject, emptyScope, emptySrc, invalid, known, requireString, rest, str, type Json } from '../../../../ingest-ai/src/normalise/common.ts';
import { requireTime, timeText } from '../../../../ingest-ai/src/normalise/time.ts';
import { grantEvent, humanActor, safelyMany, scopeList, type GrantKind, type GrantSubject, type Outcome } from '../../normalise/grant-event.ts';

export const GOOGLE_TOKEN_FEED = 'token';

/** Google's placeholder profile id, which names nobody (reference 1.2). */
export const PLACEHOLDER_PROFILE_ID = '105250506097979753968';

const EVENT_NAMES: Readonly<Record<string, { kind: GrantKind; outcome: Outcome }>> = {
  authorize: { kind: 'grant', outcome: 'success' },
  revoke: { kind: 'revoke', outcome: 'success' },
  activity: { kind: 'use', outcome: 'success' },
  request: { kind: 'grant', outcome: 'unknown' },
  deny: { kind: 'grant', outcome: 'failure' },
};

export type ParamValue = string | number | boolean | string[] | number[] | Json | Json[] | null;

/** A parameter list as a map of name -> its one value field. */
export function readParameters(list: unknown, what: string): Map<string, ParamValue> {
  const out = new Map<string, ParamValue>();
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw invalid(`${what}: parameters is not an array`);
  for (const p of list) {
    const o = asObject(p);
    const name = str(o?.name);
    if (!o || name === null) throw invalid(`${what}: a parameter has no name`);
    out.set(name, paramValue(o));
  }
  return out;
}

function paramValue(o: Json): ParamValue {
  if (typeof o.value === 'string') return o.value;
  if (Array.isArray(o.multiValue)) return o.multiValue.filter((v): v is string => typeof v === 'string');
  // int64 values arrive as JSON strings.
  if (o.intValue !== undefined) return Number(o.intValue);
  if (Array.isArray(o.multiIntValue)) return o.multiIntValue.map(Number);
  if (typeof o.boolValue === 'boolean') return o.boolValue;
  if (asObject(o.messageValue)) return o.messageValue as Json;
  if (Array.isArray(o.multiMessageValue)) return o.multiMessageValue.filter((m): m is Json => asObject(m) !== undefined);
  return null;
}

/** Scope names from `scope_data` messages: `{parameter: [{name: scope_name, value}]}`. */
function scopeDataNames(value: ParamValue, what: string): string[] {
  if (!Array.isArray(value)) return [];
  const names: string[] = [];
  for (const message of value) {
    const params = readParameters(asObject(message)?.parameter, `${what} scope_data`);
    const name = params.get('scope_name');
    if (typeof name === 'string') names.push(name);
  }
  return names;
}

export const normaliseGoogleToken = safelyMany((rec, ctx) => {
  const idObj = asObject(rec.id);
  const what = `google token activity ${str(idObj?.uniqueQualifier) ?? '(no id)'}`;
  if (!idObj) throw invalid(`${what}: id is not an object`);
  const timeRaw = requireString(idObj, 'time', what);
  const time = requireTime('rfc3339', timeRaw, what);
  const uniqueQualifier = requireString(idObj, 'uniqueQualifier', what);
  const customerId = str(idObj.customerId) ?? '-';
  const applicationName = str(idObj.applicationName) ?? 'token';
  if (!Array.isArray(rec.events)) throw invalid(`${what}: events is not an array`);
  const actorObj = asObject(rec.actor);
  if (rec.actor !== undefined && !actorObj) throw invalid(`${what}: actor is not an object`);

  const profileId = str(actorObj?.profileId);
  const email = known(actorObj?.email);
  const userId = profileId !== null && profileId !== PLACEHOLDER_PROFILE_ID ? profileId : null;
  const subject: GrantSubject | null = userId || email ? { kind: 'user', userId, email } : null;
  const appInfo = asObject(actorObj?.applicationInfo);
  const src = { ...emptySrc(), ip: known(rec.ipAddress), country: str(asObject(rec.networkInfo)?.regionCode) };

  const events = [];
  const skipped: string[] = [];
  for (const [index, e] of rec.events.entries()) {
    const ev = asObject(e);
    const name = str(ev?.name);
    if (!ev || name === null) throw invalid(`${what}: events[${index}] has no name`);
    const mapping = Object.hasOwn(EVENT_NAMES, name) ? EVENT_NAMES[name]! : undefined;
    if (!mapping) {
      skipped.push(name);
      continue;
    }
    const params = readParameters(ev.parameters, `${what} events[${index}]`);
    const clientId = str(params.get('client_id')) ?? str(appInfo?.oauthClientId);
    if (clientId === null) throw invalid(`${what}: events[${index}] (${name}) names no client_id`);
    const appName = str(params.get('app_name'));
    // A use names no scopes (its API and method go to `operation`); a grant's `scope`, else its scope_data.
    let scopes = mapping.kind === 'use' ? [] : scopeList(params.get('scope'));
    if (scopes.length === 0 && mapping.kind !== 'use') scopes = scopeList(scopeDataNames(params.get('scope_data') ?? null, what));
    const apiName = str(params.get('api_name'));
    const methodName = str(params.get('method_name'));

    const actor: Actor =
      mapping.kind === 'use'
        ? { ...humanActor({ platform_user_id: userId, email }), kind: 'oauth_client', oauth_client_id: clientId }
        : humanActor({ platform_user_id: userId, email });
    const others = Object.fromEntries([...params].filter(([k]) => !['client_id', 'app_name', 'scope'].includes(k)));
    events.push(
      grantEvent(
        {
          kind: mapping.kind,
          sourceEventId: `google:${customerId}:${applicationName}:${timeRaw}:${uniqueQualifier}:${index}:${name}`,
          time,
          timeRaw: timeText(timeRaw)!,
          sourceType: name,
          outcome: mapping.outcome,
          actor,
          subject,
          connector: { provider: 'google', client_id: clientId, app_name: appName, scopes },
          scope: { ...emptyScope(), organization_id: customerId === '-' ? null : customerId },
          src,
          unmapped: {
            ...rest(rec, ['id', 'actor', 'ipAddress', 'events', 'kind', 'etag']),
            'actor.callerType': str(actorObj?.callerType),
            'actor.key': str(actorObj?.key),
            'actor.profileId': profileId === PLACEHOLDER_PROFILE_ID ? profileId : null,
            'event.type': str(ev.type),
            operation: apiName && methodName ? `${apiName}.${methodName}` : (methodName ?? apiName),
            ...others,
          },
        },
        ctx,
      ),
    );
  }
  return { events, skipped };
});
