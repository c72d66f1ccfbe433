// Walks a non-human identity's owner chain as of the event's time: key ->
// service account or project -> project -> ... -> the first owner that
// resolves to a directory person (reference section 7: declared owner, stop
// at a person or after 5 hops). Each link reports its status at that time; an
// owner who had left by then is still named (whose key it is matters most to
// an analyst), in their inactive state, and the NHI is reported orphaned.
import type { ChainLink, NonHumanIdentityVersion, PersonVersion } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { nonBlank } from '../store/normalise.ts';
import { CONFIDENCE, MAX_CHAIN_HOPS, REASON, reason } from './policy.ts';
import { lifecycleOf, ownerInactive, resolvePersonRef, runStart, type PersonMatch } from './person.ts';

export interface ChainResolution {
  /** Links from what acted up to (not including) the owner person. */
  links: ChainLink[];
  /** The owner and at which link (0 = the acting identity) it was found. */
  owner: { match: PersonMatch; hops: number } | undefined;
  /** Which kind of identity acted, when one is known. */
  actedAs: 'api_key' | 'service_account' | undefined;
  reasons: string[];
  unknownRefs: string[];
}

export interface NhiActor {
  platform: string;
  apiKeyId: string | null;
  serviceAccountId: string | null;
}

const KEY_KINDS = ['api_key', 'admin_api_key'] as const;
const SERVICE_ACCOUNT_KINDS = ['service_account'] as const;

export function resolveNhiChain(view: IdentityView, actor: NhiActor, t: number): ChainResolution {
  const out: ChainResolution = { links: [], owner: undefined, actedAs: undefined, reasons: [], unknownRefs: [] };
  let startId: string | undefined;
  if (actor.apiKeyId) {
    startId = findNhi(view, actor.platform, actor.apiKeyId, KEY_KINDS, t, out, REASON.apiKeyUnknown, 'api_key');
    if (startId) out.actedAs = 'api_key';
  }
  if (!startId && actor.serviceAccountId) {
    startId = findNhi(view, actor.platform, actor.serviceAccountId, SERVICE_ACCOUNT_KINDS, t, out, REASON.serviceAccountUnknown, 'service_account');
    if (startId) out.actedAs = 'service_account';
  }
  if (!startId) return out;

  let fallback: { match: PersonMatch; hops: number } | undefined;
  const seen = new Set<string>();
  let id: string | null = startId;
  for (let hops = 0; id !== null; hops++) {
    if (hops >= MAX_CHAIN_HOPS) {
      out.reasons.push(reason(REASON.chainTooLong, id));
      break;
    }
    if (seen.has(id)) {
      out.reasons.push(reason(REASON.chainCycle, id));
      break;
    }
    seen.add(id);
    const v = view.nhi(id, t);
    if (!v) {
      if (view.nhiHistory(id).length === 0) out.unknownRefs.push(`nhi:${id}`);
      out.reasons.push(reason(view.nhiHistory(id).length === 0 ? REASON.nhiParentUnknown : REASON.nhiNotYetKnown, id));
      break;
    }
    out.links.push({ kind: v.kind, id, name: v.name, status: nhiStatus(v) });
    const ownerRef = { platformUserId: nonBlank(v.owner_platform_user_id), email: nonBlank(v.owner_email) };
    if (ownerRef.platformUserId || ownerRef.email) {
      const owner = resolvePersonRef(view, ownerRef, t, ownerAnchor(view.nhiHistory(id), v, t));
      if (owner.match && owner.match.via !== 'platform_account') {
        out.owner = { match: owner.match, hops };
        out.reasons.push(...owner.reasons);
        const orphaned = ownerInactive(id, owner.match);
        if (orphaned) out.reasons.push(orphaned);
        return out;
      }
      if (owner.match && !fallback) fallback = { match: owner.match, hops };
      out.reasons.push(reason(REASON.nhiOwnerUnresolved, id), ...owner.reasons);
      out.unknownRefs.push(...owner.unknownRefs);
    } else if (v.parent_nhi_id === null && (v.kind === 'project' || v.kind === 'workspace')) {
      out.reasons.push(reason(REASON.projectHasNoOwner, id));
    }
    id = v.parent_nhi_id;
  }
  // No directory person anywhere up the chain: an owner's platform account is the best lead.
  out.owner = fallback;
  return out;
}

/** Confidence of an owner found `hops` links above what acted. */
export function chainConfidence(match: PersonMatch, hops: number): number {
  return match.confidence * CONFIDENCE.perChainHop ** (hops + 1);
}

export function personLink(v: PersonVersion): ChainLink {
  return { kind: 'person', id: v.person_id, name: v.display_name ?? v.email, status: lifecycleOf(v) };
}

function nhiStatus(v: NonHumanIdentityVersion): string {
  const status = v.status.trim() === '' ? (v.active ? 'active' : 'inactive') : v.status;
  return !v.active && status === 'active' ? 'inactive' : status;
}

/**
 * When the owner reference was made: the start of the run of versions naming
 * the same owner, or the key's creation when that run is its whole history
 * (inventory often observes a key long after it was created).
 */
function ownerAnchor(history: readonly NonHumanIdentityVersion[], v: NonHumanIdentityVersion, t: number): number {
  const start = runStart(history, v, (a, b) => a.owner_platform_user_id === b.owner_platform_user_id && a.owner_email === b.owner_email);
  const created = history[0]?.valid_from === start ? v.created_at : null;
  return Math.min(created !== null && created < start ? created : start, t);
}

function findNhi(
  view: IdentityView, platform: string, platformId: string, kinds: readonly string[], t: number,
  out: ChainResolution, unknownCode: string, refKind: string,
): string | undefined {
  const exact = `${platform.toLowerCase()}:${kinds[0]}:${platformId}`;
  const ids = [...view.nhiIdsByPlatformId(platform, platformId)].sort((a, b) => (a === exact ? -1 : b === exact ? 1 : a < b ? -1 : 1));
  let later = false;
  for (const id of ids) {
    const v = view.nhi(id, t);
    if (v && kinds.includes(v.kind)) return id;
    if (!v && view.nhiHistory(id).some((h) => kinds.includes(h.kind))) later = true;
  }
  if (later) {
    out.reasons.push(reason(REASON.nhiNotYetKnown, exact));
  } else {
    out.unknownRefs.push(`${refKind}:${platform.toLowerCase()}:${platformId}`);
    out.reasons.push(reason(unknownCode, exact));
  }
  return undefined;
}
