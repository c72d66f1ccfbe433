// Microsoft Graph auditLogs/directoryAudits (reference section 2) ->
// AccessEvents for the consent-related ApplicationManagement activities.
// Record keys are read case-insensitively (Microsoft's own example spells
// `Type`); modifiedProperties are found by displayName, never by index, and
// their old/new values are JSON-encoded strings ("\"True\""), parsed once.
//
// Which app: the ServicePrincipal target is the client, but its `id` is the
// service principal's object id, not the app id every other record uses; the
// app id comes from additionalDetails `AppId`, else the GUID among
// `TargetId.ServicePrincipalNames`, else the caller's lookup (the
// servicePrincipals / oauth2PermissionGrants inventory); failing all three
// the object id is kept and the event flagged `client_id_is_object_id`.
//
// Whose grant: tenant-wide for admin consent on behalf of all
// (`ConsentContext.OnBehalfOfAll`, `ConsentType: AllPrincipals`, app-only
// application permissions), else the consenting principal (PrincipalId in
// the permissions text) or the initiating user.
import type { Actor, Target } from '#schemas';
import { asObject, emptyActor, emptyScope, emptySrc, invalid, rest, str, type Json } from '../../../../ingest-ai/src/normalise/common.ts';
import { requireTime, timeText } from '../../../../ingest-ai/src/normalise/time.ts';
import { grantEvent, humanActor, safelyMany, scopeList, type GrantContext, type GrantKind, type GrantSubject, type Outcome } from '../../normalise/grant-event.ts';

export const ENTRA_AUDIT_FEED = 'directory_audits';

/** Looks up an app id by service principal object id (from an inventory); null when unknown. */
export type AppIdLookup = (servicePrincipalObjectId: string) => string | null;

export interface EntraContext extends GrantContext {
  appIdOf?: AppIdLookup;
}

interface ActivityMapping {
  kind: GrantKind;
  /** Ends every grant of the app, whoever's (its service principal is gone). */
  everyGrant?: boolean;
  /** Application permission: the app acts as itself, for the tenant. */
  appRole?: boolean;
  /** Values to read: the new ones for an addition, the old ones for a removal. */
  side: 'newValue' | 'oldValue';
}

const ACTIVITIES: Readonly<Record<string, ActivityMapping>> = {
  'consent to application': { kind: 'grant', side: 'newValue' },
  'add delegated permission grant': { kind: 'grant', side: 'newValue' },
  'add app role assignment to service principal': { kind: 'grant', appRole: true, side: 'newValue' },
  'add app role assignment grant to user': { kind: 'grant', side: 'newValue' },
  'restore consent': { kind: 'grant', side: 'newValue' },
  'grant contextual consent to application': { kind: 'grant', side: 'newValue' },
  'remove delegated permission grant': { kind: 'revoke', side: 'oldValue' },
  'remove app role assignment from service principal': { kind: 'revoke', appRole: true, side: 'oldValue' },
  'revoke consent': { kind: 'revoke', side: 'oldValue' },
  'remove service principal': { kind: 'revoke', everyGrant: true, side: 'oldValue' },
  'hard delete service principal': { kind: 'revoke', everyGrant: true, side: 'oldValue' },
  'add service principal': { kind: 'appRecord', side: 'newValue' },
  'add owner to service principal': { kind: 'appRecord', side: 'newValue' },
  'add owner to application': { kind: 'appRecord', side: 'newValue' },
  'add service principal credentials': { kind: 'appRecord', side: 'newValue' },
};

const GUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/i;

/** A key of `o` regardless of its case. */
export function field(o: Json | undefined, name: string): unknown {
  if (!o) return undefined;
  if (Object.hasOwn(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

/** A modifiedProperties value, JSON-decoded once when it is JSON text ("\"True\"" -> "True"). */
export function decodeValue(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return value;
  }
}

/** modifiedProperties of every target, by displayName (case-insensitive), decoded. */
export function modifiedProperties(targets: readonly Json[]): Map<string, { oldValue: unknown; newValue: unknown }> {
  const out = new Map<string, { oldValue: unknown; newValue: unknown }>();
  for (const t of targets) {
    const props = field(t, 'modifiedProperties');
    if (!Array.isArray(props)) continue;
    for (const p of props) {
      const o = asObject(p);
      const name = str(field(o, 'displayName'));
      if (!o || name === null || out.has(name.toLowerCase())) continue;
      out.set(name.toLowerCase(), { oldValue: decodeValue(field(o, 'oldValue')), newValue: decodeValue(field(o, 'newValue')) });
    }
  }
  return out;
}

export interface ConsentPermissions {
  scopes: string[];
  allPrincipals: boolean;
  principalId: string | null;
  /** False when the text was present but no group could be read (kept raw in unmapped). */
  parsed: boolean;
}

/**
 * `ConsentAction.Permissions`, undocumented free text (reference 2.4):
 * `[] => [[Id: …, ClientId: …, PrincipalId: …, ResourceId: …, ConsentType: Principal, Scope: a b c, …]]`,
 * one group per API. Scopes of every group, the consent type and principal of any.
 */
export function parseConsentPermissions(text: string): ConsentPermissions {
  const afterArrow = text.includes('=>') ? text.slice(text.lastIndexOf('=>') + 2) : text;
  const scopes: string[] = [];
  let allPrincipals = false;
  let principalId: string | null = null;
  let groups = 0;
  for (const m of afterArrow.matchAll(/ConsentType:\s*(\w+),\s*Scope:\s*([^,\]]*)/g)) {
    groups++;
    if (m[1]!.toLowerCase() === 'allprincipals') allPrincipals = true;
    for (const s of scopeList(m[2]!)) if (!scopes.includes(s)) scopes.push(s);
  }
  // Some tenants write only `Scope: …` (no consent type).
  if (groups === 0) for (const m of afterArrow.matchAll(/Scope:\s*([^,\]]*)/g)) {
    groups++;
    for (const s of scopeList(m[1]!)) if (!scopes.includes(s)) scopes.push(s);
  }
  const p = /PrincipalId:\s*([^,\]\s]*)/.exec(afterArrow);
  if (p && p[1]) principalId = p[1];
  return { scopes, allPrincipals, principalId, parsed: groups > 0 };
}

function outcomeOf(result: unknown): Outcome {
  const r = typeof result === 'string' ? result.toLowerCase() : '';
  if (r === 'success') return 'success';
  if (r === 'failure' || r === 'timeout') return 'failure';
  return 'unknown';
}

function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.trim().toLowerCase() === 'true');
}

export function normaliseEntraAuditWith(lookup?: AppIdLookup) {
  return safelyMany((rec, ctx) => normaliseRecord(rec, { ...ctx, appIdOf: lookup }));
}

export const normaliseEntraAudit = normaliseEntraAuditWith();

function normaliseRecord(rec: Json, ctx: EntraContext) {
  const what = `entra directory audit ${str(field(rec, 'id')) ?? '(no id)'}`;
  const id = str(field(rec, 'id'));
  if (id === null) throw invalid(`${what}: "id" is missing`);
  const activity = str(field(rec, 'activityDisplayName'));
  if (activity === null) throw invalid(`${what}: "activityDisplayName" is missing`);
  const timeValue = field(rec, 'activityDateTime');
  const time = requireTime('rfc3339', timeValue, what);
  const mapping = Object.hasOwn(ACTIVITIES, activity.toLowerCase()) ? ACTIVITIES[activity.toLowerCase()]! : undefined;
  if (!mapping) return { events: [], skipped: [activity] };

  const targetsRaw = field(rec, 'targetResources');
  if (targetsRaw !== undefined && targetsRaw !== null && !Array.isArray(targetsRaw)) throw invalid(`${what}: targetResources is not an array`);
  const targets = ((targetsRaw as unknown[] | null | undefined) ?? []).map((t) => asObject(t)).filter((t): t is Json => t !== undefined);
  const props = modifiedProperties(targets);
  const prop = (name: string) => props.get(name.toLowerCase())?.[mapping.side];
  const details = new Map<string, unknown>();
  const additional = field(rec, 'additionalDetails');
  if (Array.isArray(additional)) {
    for (const d of additional) {
      const key = str(field(asObject(d), 'key'));
      if (key !== null) details.set(key.toLowerCase(), field(asObject(d), 'value'));
    }
  }

  const initiatedBy = asObject(field(rec, 'initiatedBy'));
  const user = asObject(field(initiatedBy, 'user'));
  const app = asObject(field(initiatedBy, 'app'));
  const userId = str(field(user, 'id'));
  const upn = str(field(user, 'userPrincipalName'));
  let actor: Actor;
  if (userId || upn) actor = humanActor({ platform_user_id: userId, email: upn, name: str(field(user, 'displayName')) });
  else if (app) actor = { ...emptyActor('oauth_client'), oauth_client_id: str(field(app, 'appId')), name: str(field(app, 'displayName')) };
  else actor = emptyActor('unknown');

  // The client: the ServicePrincipal target (for a delegated grant, targets[0] is the API and [1] the client).
  const sps = targets.filter((t) => String(field(t, 'type') ?? '').toLowerCase() === 'serviceprincipal');
  const isDelegatedGrant = activity.toLowerCase().includes('delegated permission grant');
  const clientTarget = (isDelegatedGrant && sps.length >= 2 ? sps[1] : sps[0]) ?? targets[0];
  const objectId = str(field(clientTarget, 'id'));
  const flags: string[] = [];
  let appId =
    str(prop('ServicePrincipal.AppId')) ??
    str(details.get('appid')) ??
    (() => {
      const spns = prop('TargetId.ServicePrincipalNames') ?? props.get('targetid.serviceprincipalnames')?.newValue;
      const text = Array.isArray(spns) ? spns.join(';') : typeof spns === 'string' ? spns : '';
      return GUID.exec(text)?.[0] ?? null;
    })() ??
    (mapping.appRole ? null : str(prop('AppId'))) ??
    (objectId && ctx.appIdOf ? ctx.appIdOf(objectId) : null);
  if (mapping.kind === 'appRecord' && appId === null) appId = str(prop('AppId')) ?? str(props.get('appid')?.newValue);
  if (appId === null) {
    if (objectId === null) throw invalid(`${what}: ${activity} names no service principal`);
    appId = objectId;
    flags.push('client_id_is_object_id');
  }
  const appName = str(prop('ServicePrincipal.DisplayName')) ?? str(field(clientTarget, 'displayName'));

  // Scopes and whose grant.
  let scopes: string[] = [];
  let allPrincipals = false;
  let principalId: string | null = null;
  const extra: Json = {};
  const permissionsText = prop('ConsentAction.Permissions');
  if (typeof permissionsText === 'string') {
    const p = parseConsentPermissions(permissionsText);
    scopes = p.scopes;
    allPrincipals ||= p.allPrincipals;
    principalId = p.principalId;
    if (!p.parsed) flags.push('consent_permissions_unparsed');
  }
  const delegatedScope = prop('DelegatedPermissionGrant.Scope');
  if (scopes.length === 0 && delegatedScope !== undefined) scopes = scopeList(delegatedScope);
  const consentType = str(prop('DelegatedPermissionGrant.ConsentType'));
  if (consentType?.toLowerCase() === 'allprincipals') allPrincipals = true;
  principalId ??= str(prop('DelegatedPermissionGrant.PrincipalId'));
  if (mapping.appRole) {
    scopes = scopeList(prop('AppRole.Value'));
    allPrincipals = true;
  }
  const isAdminConsent = isTrue(prop('ConsentContext.IsAdminConsent'));
  if (isTrue(prop('ConsentContext.OnBehalfOfAll')) || isTrue(prop('ConsentContext.IsAppOnly'))) allPrincipals = true;
  extra.admin_consent = props.has('consentcontext.isadminconsent') ? isAdminConsent : null;
  extra.consent_type = allPrincipals ? 'AllPrincipals' : consentType ?? (props.has('consentaction.permissions') ? 'Principal' : null);

  const tenant = ctx.organizationId ?? null;
  const subject: GrantSubject | null = mapping.everyGrant
    ? { kind: 'every', scopeId: tenant ?? 'tenant' }
    : allPrincipals
    ? { kind: 'all', scopeId: tenant ?? 'tenant' }
    : principalId
      ? { kind: 'user', userId: principalId, email: principalId === userId ? upn : null }
      : userId || upn
        ? { kind: 'user', userId, email: upn }
        : null;

  const src = { ...emptySrc(), ip: str(field(user, 'ipAddress')), user_agent: str(details.get('user-agent')) };
  const otherTargets: Target[] = targets
    .filter((t) => t !== clientTarget)
    .flatMap((t) => {
      const tid = str(field(t, 'id'));
      return tid === null ? [] : [{ type: String(field(t, 'type') ?? 'resource').toLowerCase() || 'resource', id: tid, name: str(field(t, 'displayName')) }];
    });
  if (objectId !== null && objectId !== appId) otherTargets.push({ type: 'service_principal', id: objectId, name: appName });

  const event = grantEvent(
    {
      kind: mapping.kind,
      sourceEventId: id,
      time,
      timeRaw: timeText(timeValue)!,
      sourceType: activity,
      outcome: outcomeOf(field(rec, 'result')),
      actor,
      subject: mapping.kind === 'appRecord' ? null : subject,
      connector: { provider: 'entra', client_id: appId, app_name: appName, scopes },
      targets: otherTargets,
      scope: { ...emptyScope(), organization_id: tenant },
      src,
      unmapped: {
        ...rest(rec, ['id', 'activityDisplayName', 'activityDateTime', 'initiatedBy', 'targetResources', 'additionalDetails']),
        ...extra,
        modified_properties: Object.fromEntries(props),
        additional_details: Object.fromEntries([...details].filter(([k]) => k !== 'user-agent')),
        'initiatedBy.app': app ?? null,
      },
      flags,
    },
    ctx,
  );
  return { events: [event], skipped: [] };
}

