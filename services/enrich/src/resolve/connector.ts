// Resolves the OAuth grant an event went through, and the person who granted
// it, as of the event's time. With the acting person known, the grant is the
// one that person made; without, the client id alone decides only when one
// person stands behind every grant of it.
import { emailMatchKey, type ChainLink, type ConnectorVersion } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { REASON, reason } from './policy.ts';
import { isActive, ownerInactive, resolvePersonRef, runStart, type Lookup, type PersonMatch } from './person.ts';

export interface ConnectorResolution {
  link: ChainLink | undefined;
  grantor: PersonMatch | undefined;
  reasons: string[];
  unknownRefs: string[];
}

export interface ConnectorUse {
  provider: string;
  clientId: string;
  /** The acting person when the event names one, to pick that person's grant. */
  actor: PersonMatch | undefined;
  actorPlatformUserId: string | null;
  actorEmail: string | null;
}

export function resolveConnector(view: IdentityView, use: ConnectorUse, t: number): ConnectorResolution {
  const out: ConnectorResolution = { link: undefined, grantor: undefined, reasons: [], unknownRefs: [] };
  const ids = view.connectorIdsByClient(use.provider, use.clientId);
  const ref = `${use.provider.toLowerCase()}:${use.clientId}`;
  if (ids.length === 0) {
    out.unknownRefs.push(`connector:${ref}`);
    out.reasons.push(reason(REASON.connectorUnknown, ref));
    return out;
  }
  const grants = ids.map((id) => view.connector(id, t)).filter((g): g is ConnectorVersion => g !== undefined);
  if (grants.length === 0) {
    out.reasons.push(reason(REASON.connectorNotGrantedAtEventTime, ref));
    return out;
  }
  const resolved = grants.map((grant) => ({ grant, grantor: grantorOf(view, grant, t) }));

  let chosen: (typeof resolved)[number] | undefined;
  if (use.actor || use.actorPlatformUserId || use.actorEmail) {
    const mine = resolved.filter(({ grant, grantor }) => grantedBy(grant, grantor.match, use));
    chosen = pick(mine);
    if (!chosen) out.reasons.push(reason(REASON.connectorNotGrantedByActor, ref));
  } else {
    // Live grants speak for the present; revoked ones only when nothing is live.
    const live = resolved.filter(({ grant }) => isActive(grant));
    const pool = live.length > 0 ? live : resolved;
    const people = new Set(pool.map(({ grant, grantor }) => grantor.match?.version.person_id ?? `?${grant.connector_id}`));
    if (people.size === 1) chosen = pick(pool);
    else out.reasons.push(reason(REASON.connectorGrantAmbiguous, `${ref} granted by ${people.size} people`));
  }
  if (!chosen) return out;

  const { grant, grantor } = chosen;
  out.link = {
    kind: 'connector',
    id: grant.connector_id,
    name: grant.app_name,
    status: grant.status.trim() === '' ? (grant.active ? 'granted' : 'revoked') : grant.status,
  };
  out.grantor = grantor.match;
  if (!grantor.match) out.reasons.push(reason(REASON.connectorGrantorUnresolved, grant.connector_id));
  out.reasons.push(...grantor.reasons);
  const orphaned = grantor.match && ownerInactive(grant.connector_id, grantor.match);
  if (orphaned) out.reasons.push(orphaned);
  out.unknownRefs.push(...grantor.unknownRefs);
  return out;
}

function grantorOf(view: IdentityView, grant: ConnectorVersion, t: number): Lookup<PersonMatch> {
  const anchor = runStart(
    view.connectorHistory(grant.connector_id), grant,
    (a, b) => a.granted_by_platform_user_id === b.granted_by_platform_user_id && a.granted_by_email === b.granted_by_email,
  );
  return resolvePersonRef(view, { platformUserId: grant.granted_by_platform_user_id, email: grant.granted_by_email }, t, anchor);
}

function grantedBy(grant: ConnectorVersion, grantor: PersonMatch | undefined, use: ConnectorUse): boolean {
  if (use.actor && grantor && grantor.version.person_id === use.actor.version.person_id) return true;
  if (use.actorPlatformUserId && grant.granted_by_platform_user_id === use.actorPlatformUserId) return true;
  const granted = grant.granted_by_email === null ? null : emailMatchKey(grant.granted_by_email);
  if (granted === null) return false;
  return [use.actorEmail, use.actor?.version.email ?? null].some((e) => e !== null && emailMatchKey(e) === granted);
}

/** Live before revoked, then the most recent grant. */
function pick<T extends { grant: ConnectorVersion }>(items: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (!best) best = item;
    else {
      const a = isActive(item.grant) ? 1 : 0;
      const b = isActive(best.grant) ? 1 : 0;
      if (a > b || (a === b && item.grant.valid_from > best.grant.valid_from)) best = item;
    }
  }
  return best;
}
