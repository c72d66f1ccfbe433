// Okta System Log /api/v1/logs LogEvent (reference section 3) ->
// AccessEvents for the OAuth consent and token event types (3.2), mapped on
// `eventType`; other types are skipped and counted. Token and authorize
// events name the client as the actor (`PublicClientApp`) and the user as a
// `User` target; consent events are read by target type, not position.
import type { Actor, Target } from '#schemas';
import { asObject, emptyActor, emptyScope, emptySrc, invalid, rest, str, type Json } from '../../../../ingest-ai/src/normalise/common.ts';
import { requireTime, timeText } from '../../../../ingest-ai/src/normalise/time.ts';
import { grantEvent, humanActor, safelyMany, scopeList, type GrantKind, type GrantSubject, type Outcome } from '../../normalise/grant-event.ts';

export const OKTA_LOG_FEED = 'system_log';

interface TypeMapping {
  kind: GrantKind;
  /** Failure whatever `outcome` says (an unsuffixed token grant, a denied scope). */
  failure?: boolean;
}

const EXACT: Readonly<Record<string, TypeMapping>> = {
  'app.oauth2.as.consent.grant': { kind: 'grant' },
  'app.oauth2.consent.grant': { kind: 'grant' },
  'app.oauth2.admin.consent.grant': { kind: 'grant' },
  'app.oauth2.admin.consent.revoke': { kind: 'revoke' },
  'app.oauth2.as.token.revoke': { kind: 'revoke' },
  'app.oauth2.token.revoke': { kind: 'revoke' },
  'app.oauth2.as.token.grant': { kind: 'use', failure: true },
  'app.oauth2.token.grant': { kind: 'use', failure: true },
  'app.oauth2.as.authorize.scope_denied': { kind: 'use', failure: true },
  'app.oauth2.signon': { kind: 'use' },
};

/** Families by prefix (a documented suffix list that grows): longest prefix first. */
const PREFIXES: readonly [string, TypeMapping][] = [
  ['app.oauth2.as.consent.revoke', { kind: 'revoke' }],
  ['app.oauth2.consent.revoke', { kind: 'revoke' }],
  ['app.oauth2.as.token.revoke.', { kind: 'revoke' }],
  ['app.oauth2.token.revoke.', { kind: 'revoke' }],
  ['app.oauth2.as.token.grant.', { kind: 'use' }],
  ['app.oauth2.token.grant.', { kind: 'use' }],
  ['app.oauth2.as.authorize', { kind: 'use' }],
  ['app.oauth2.authorize', { kind: 'use' }],
  ['app.oauth2.client.lifecycle.', { kind: 'appRecord' }],
  ['app.oauth2.credentials.lifecycle.', { kind: 'appRecord' }],
];

export function oktaMapping(eventType: string): TypeMapping | undefined {
  if (Object.hasOwn(EXACT, eventType)) return EXACT[eventType];
  // Refresh-token reuse is a token event, and a failed one.
  if (eventType.endsWith('.detect_reuse') && eventType.startsWith('app.oauth2.')) return { kind: 'use', failure: true };
  for (const [prefix, mapping] of PREFIXES) if (eventType.startsWith(prefix)) return mapping;
  return undefined;
}

function outcomeOf(result: unknown): Outcome {
  const r = typeof result === 'string' ? result.toUpperCase() : '';
  if (r === 'SUCCESS' || r === 'ALLOW') return 'success';
  if (r === 'FAILURE' || r === 'DENY') return 'failure';
  return 'unknown';
}

const byType = (targets: readonly Json[], type: string) => targets.find((t) => String(t.type ?? '').toLowerCase() === type.toLowerCase());

export const normaliseOktaLog = safelyMany((rec, ctx) => {
  const what = `okta log event ${str(rec.uuid) ?? '(no uuid)'}`;
  const uuid = str(rec.uuid);
  if (uuid === null) throw invalid(`${what}: "uuid" is missing`);
  const eventType = str(rec.eventType);
  if (eventType === null) throw invalid(`${what}: "eventType" is missing`);
  const time = requireTime('rfc3339', rec.published, what);
  const mapping = oktaMapping(eventType);
  if (!mapping) return { events: [], skipped: [eventType] };
  if (rec.target !== undefined && rec.target !== null && !Array.isArray(rec.target)) throw invalid(`${what}: target is not an array`);
  const targets = ((rec.target as unknown[] | null | undefined) ?? []).map(asObject).filter((t): t is Json => t !== undefined);
  const actorObj = asObject(rec.actor);
  if (rec.actor !== undefined && rec.actor !== null && !actorObj) throw invalid(`${what}: actor is not an object`);
  const actorType = String(actorObj?.type ?? '');

  // Whose grant: the User target (an admin revoking names the user there), else the acting User.
  const actorIsUser = actorType.toLowerCase() === 'user';
  const userObj = byType(targets, 'User') ?? (actorIsUser ? actorObj : undefined);
  const userId = str(userObj?.id);
  const userEmail = str(userObj?.alternateId);
  // The client: the actor when an app acts, else the AppInstance (or client) target.
  const clientObj = ['publicclientapp', 'clientapp', 'app'].includes(actorType.toLowerCase())
    ? actorObj
    : (byType(targets, 'PublicClientApp') ?? byType(targets, 'AppInstance') ?? byType(targets, 'Client') ?? byType(targets, 'OAuth2Client'));
  const clientId = str(clientObj?.id);
  if (clientId === null && mapping.kind !== 'appRecord') throw invalid(`${what}: ${eventType} names no OAuth client (actor or target)`);
  const appName = str(clientObj?.displayName);

  const debugData = asObject(asObject(rec.debugContext)?.debugData);
  const scopes = scopeList(debugData?.grantedScopes ?? debugData?.requestedScopes ?? debugData?.scopes ?? null, /[\s,]+/);
  const outcomeObj = asObject(rec.outcome);
  const outcome: Outcome = mapping.failure ? 'failure' : outcomeOf(outcomeObj?.result);

  const actor: Actor =
    actorIsUser
      ? humanActor({ platform_user_id: str(actorObj?.id), email: str(actorObj?.alternateId), name: str(actorObj?.displayName), session_id: str(asObject(rec.authenticationContext)?.externalSessionId) })
      : mapping.kind === 'use' || clientObj === actorObj
        ? { ...emptyActor('oauth_client'), oauth_client_id: clientId, name: appName, platform_user_id: userId, email: userEmail }
        : { ...emptyActor(actorType.toLowerCase() === 'systemprincipal' ? 'service_account' : 'unknown'), platform_user_id: str(actorObj?.id), name: str(actorObj?.displayName) };

  // Whose grant: the user; an admin consent (Okta API scopes granted to a service app) is the org's.
  const subject: GrantSubject | null = eventType.startsWith('app.oauth2.admin.')
    ? { kind: 'all', scopeId: ctx.organizationId ?? 'org' }
    : userId || userEmail
      ? { kind: 'user', userId, email: userEmail }
      : null;

  const client = asObject(rec.client);
  const otherTargets: Target[] = targets
    .filter((t) => t !== clientObj && t !== userObj)
    .flatMap((t) => (str(t.id) === null ? [] : [{ type: String(t.type ?? 'resource'), id: str(t.id)!, name: str(t.displayName) ?? str(t.alternateId) }]));
  const event = grantEvent(
    {
      kind: mapping.kind,
      sourceEventId: uuid,
      time,
      timeRaw: timeText(rec.published)!,
      sourceType: eventType,
      outcome,
      actor,
      subject: mapping.kind === 'appRecord' ? null : subject,
      connector: clientId === null ? null : { provider: 'okta', client_id: clientId, app_name: appName, scopes },
      targets: otherTargets,
      scope: { ...emptyScope(), organization_id: ctx.organizationId ?? null },
      src: {
        ...emptySrc(),
        ip: str(client?.ipAddress),
        user_agent: str(asObject(client?.userAgent)?.rawUserAgent),
        country: str(asObject(asObject(client?.geographicalContext))?.country),
      },
      unmapped: {
        ...rest(rec, ['uuid', 'published', 'eventType', 'actor', 'target', 'client', 'outcome']),
        'outcome.reason': str(outcomeObj?.reason),
        'outcome.result': str(outcomeObj?.result),
        'client.device': str(client?.device),
      },
    },
    ctx,
  );
  return { events: [event], skipped: [] };
});
