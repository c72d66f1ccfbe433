// Microsoft Graph oauth2PermissionGrants (reference section 2.5) as an
// inventory: each listed delegated grant is an entity; what a snapshot finds
// new or changed becomes a grant event, what disappeared a revoke, both
// through the same connector fold as the audit log's, so grants older than
// the audit retention are in the inventory and a grant seen both ways is one
// version. The client is named by its service principal's object id: the
// listing pairs each grant with the app id looked up for it.
import type { AccessEvent } from '#schemas';
import { accessEventRecord, type EntityChange, type EntityResult, type OutRecord } from '#source';
import { asObject, emptyActor, emptyScope, emptySrc, str } from '../../../../ingest-ai/src/normalise/common.ts';
import { grantContext, grantEvent, humanActor, scopeList, type GrantSubject } from '../../normalise/grant-event.ts';
import { badEntity } from '../../../../ingest-ai/src/identity.ts';

export const ENTRA_GRANTS_FEED = 'permission_grants';

/** A listed grant and what its client's service principal resolved to. */
export interface ListedGrant {
  grant: unknown;
  appId: string | null;
  appName: string | null;
}

export interface PermissionGrant {
  grantId: string;
  /** The app id when the service principal was found, else its object id (flagged). */
  clientId: string;
  clientIsObjectId: boolean;
  appName: string | null;
  allPrincipals: boolean;
  principalId: string | null;
  resourceId: string | null;
  scopes: string[];
}

export function permissionGrantEntity(item: unknown): EntityResult<PermissionGrant> {
  const listed = item as ListedGrant;
  const g = asObject(listed?.grant);
  if (!g) return badEntity('oauth2PermissionGrant is not a JSON object');
  const grantId = str(g.id);
  const objectId = str(g.clientId);
  if (grantId === null || objectId === null) return badEntity('oauth2PermissionGrant without id or clientId');
  const consentType = str(g.consentType)?.toLowerCase() ?? '';
  const principalId = str(g.principalId);
  if (consentType !== 'allprincipals' && principalId === null) return badEntity(`oauth2PermissionGrant ${grantId}: consentType ${consentType || '(none)'} names no principalId`);
  const content: PermissionGrant = {
    grantId,
    clientId: listed.appId ?? objectId,
    clientIsObjectId: listed.appId === null,
    appName: listed.appName,
    allPrincipals: consentType === 'allprincipals',
    principalId: consentType === 'allprincipals' ? null : principalId,
    resourceId: str(g.resourceId),
    scopes: scopeList(g.scope),
  };
  const { appName: _n, ...tracked } = content;
  return { ok: true, entities: [{ id: grantId, content, tracked, createdAt: null }] };
}

/** A change of a listed grant as the event the connector fold reads. */
export function permissionGrantEvent(change: EntityChange<PermissionGrant>, tenantId: string): AccessEvent {
  const g = change.current;
  const gone = change.kind === 'gone';
  const subject: GrantSubject = g.allPrincipals ? { kind: 'all', scopeId: tenantId } : { kind: 'user', userId: g.principalId, email: null };
  const raw = change.raw ?? Buffer.from(JSON.stringify(g));
  const ctx = grantContext('entra', ENTRA_GRANTS_FEED, change.observedAt, raw);
  return grantEvent(
    {
      kind: gone ? 'revoke' : 'grant',
      sourceEventId: `oauth2PermissionGrant:${g.grantId}:${change.kind}@${change.validFrom}`,
      time: change.validFrom,
      timeRaw: new Date(change.validFrom).toISOString(),
      sourceType: `oauth2PermissionGrant.${gone ? 'gone' : change.kind === 'new' ? 'listed' : 'changed'}`,
      outcome: 'success',
      // A user's own grant is that user's consent; a tenant-wide one names no one.
      actor: g.allPrincipals ? emptyActor('unknown') : humanActor({ platform_user_id: g.principalId }),
      subject,
      connector: { provider: 'entra', client_id: g.clientId, app_name: g.appName, scopes: g.scopes },
      targets: g.resourceId ? [{ type: 'resource_service_principal', id: g.resourceId, name: null }] : [],
      scope: { ...emptyScope(), organization_id: tenantId },
      src: emptySrc(),
      unmapped: { grant_id: g.grantId, baseline: change.baseline, observed_at: change.observedAt },
      flags: g.clientIsObjectId ? ['client_id_is_object_id'] : [],
    },
    ctx,
  );
}

export function permissionGrantRecords(change: EntityChange<PermissionGrant>, tenantId: string): OutRecord[] {
  return [accessEventRecord(permissionGrantEvent(change, tenantId))];
}
