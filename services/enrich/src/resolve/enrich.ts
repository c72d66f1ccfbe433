// The pure temporal join: an AccessEvent and the identity state in, the
// EnrichedAccessEvent out, as of the event's time. Person: a direct
// identifier on the event (platform user id, email), else the owner chain of
// the key or service account that acted, else the grantor of the connector;
// a platform account with no directory person is the last resort. Device:
// explicit hints, else the IP observation. Every step records its method,
// confidence and, when it fails or doubts, why.
import type { AccessEvent, ChainLink, DeviceAtTime, DeviceVersion, EnrichedAccessEvent, PersonAtTime, PersonVersion } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { nonBlank, qualifyPlatformUserId } from '../store/normalise.ts';
import { chainConfidence, personLink, resolveNhiChain } from './chain.ts';
import { resolveConnector } from './connector.ts';
import { assigneeOf, resolveDevice } from './device.ts';
import { addressHolderAt, carriesAddress, lifecycleOf, resolvePersonRef, type PersonMatch } from './person.ts';
import { CONFIDENCE, DEFAULT_RESOLVE_RULES, PERSON_METHOD, REASON, quote, reason, type ResolveRules } from './policy.ts';

/** Version of the enrichment logic, stamped on every output. */
export const ENRICH_VERSION = 'enrich/1.2';

export interface Resolution {
  person: PersonVersion | undefined;
  device: DeviceAtTime | null;
  chain: ChainLink[];
  method: string;
  confidence: number;
  deviceMethod: string;
  deviceConfidence: number;
  reasons: string[];
  /** References no identity record names yet: while the person is unresolved, the event may wait for them. */
  unknownRefs: string[];
  /** The event carries a device hint (id, serial, hostname, address): device data arriving later could still name its person. */
  deviceHint: boolean;
}

export interface EnrichOptions {
  waitedMs?: number;
  /** Extra reasons, e.g. why a wait for late identity data ended. */
  reasons?: readonly string[];
  rules?: Readonly<ResolveRules>;
}

export function enrich(event: AccessEvent, view: IdentityView, now: number, options: EnrichOptions = {}): EnrichedAccessEvent {
  return toEnriched(event, resolveEvent(event, view, options.rules), now, options);
}

export function resolveEvent(event: AccessEvent, view: IdentityView, rules: Readonly<ResolveRules> = DEFAULT_RESOLVE_RULES): Resolution {
  const t = event.time;
  const platform = event.source.platform.toLowerCase();
  const { actor } = event;
  const reasons: string[] = [];
  const unknownRefs: string[] = [];
  const collect = (r: { reasons: string[]; unknownRefs: string[] }) => {
    reasons.push(...r.reasons);
    unknownRefs.push(...r.unknownRefs);
  };

  // Blank identifiers (empty strings, whitespace) name nobody: treated as absent.
  const puid = qualifyPlatformUserId(platform, actor.platform_user_id);
  const email = nonBlank(actor.email);
  const apiKeyId = nonBlank(actor.api_key_id);
  const serviceAccountId = nonBlank(actor.service_account_id);
  const direct = puid || email ? resolvePersonRef(view, { platformUserId: puid, email }, t, t, rules.provisioningLagMs) : undefined;
  if (direct) collect(direct);
  const byAccount = direct?.match?.via === 'directory_alias' || direct?.match?.via === 'account_email' ? direct.match : undefined;
  if (byAccount && email && !carriesAddress(byAccount.version, email)) {
    // The account decides; an email on the event that is someone else's says the link moved (or was taken over).
    const holder = addressHolderAt(view, email, t);
    if (holder !== undefined && holder !== byAccount.version.person_id) {
      reasons.push(reason(REASON.actorEmailNamesAnotherPerson, `${quote(email.trim())} held by ${holder}`));
    }
  }

  const chain = apiKeyId || serviceAccountId ? resolveNhiChain(view, { platform, apiKeyId, serviceAccountId }, t) : undefined;
  if (chain) collect(chain);

  const clientId = nonBlank(event.connector?.client_id ?? null) ?? nonBlank(actor.oauth_client_id);
  const connector = clientId
    ? resolveConnector(view, {
        provider: event.connector?.provider ?? platform,
        clientId,
        actor: direct?.match,
        actorPlatformUserId: puid,
        actorEmail: email,
      }, t)
    : undefined;
  if (connector) collect(connector);

  const inDirectory = (m: PersonMatch | undefined) => m !== undefined && m.via !== 'platform_account';
  let match: PersonMatch | undefined;
  let method: string = PERSON_METHOD.unresolved;
  let confidence = 0;
  // A token acting as the app (a connector's token use) is the grant's: the person who granted it, as
  // of the grant, is who acted, even when an address on the event has been handed to someone since.
  const tokenOfGrantor = actor.kind === 'oauth_client' && inDirectory(connector?.grantor);
  if (tokenOfGrantor) {
    match = connector!.grantor!;
    method = PERSON_METHOD.connectorGrant;
    confidence = match.confidence * CONFIDENCE.connectorGrant;
  } else if (inDirectory(direct?.match)) {
    match = direct!.match!;
    method = match.via === 'email' ? PERSON_METHOD.directEmail : PERSON_METHOD.platformUserAlias;
    confidence = match.confidence;
  } else if (chain?.owner && inDirectory(chain.owner.match)) {
    match = chain.owner.match;
    method = chain.actedAs === 'service_account' ? PERSON_METHOD.serviceAccountOwner : PERSON_METHOD.apiKeyOwner;
    confidence = chainConfidence(match, chain.owner.hops);
  } else if (inDirectory(connector?.grantor)) {
    match = connector!.grantor!;
    method = PERSON_METHOD.connectorGrant;
    confidence = match.confidence * CONFIDENCE.connectorGrant;
  } else {
    match = direct?.match ?? chain?.owner?.match ?? connector?.grantor;
    if (match) {
      method = PERSON_METHOD.platformAccountOnly;
      confidence = CONFIDENCE.platformAccount;
    }
  }

  const nhiChain: ChainLink[] = [];
  if (chain && chain.links.length > 0) {
    nhiChain.push(...chain.links);
    if (chain.owner) nhiChain.push(personLink(chain.owner.match.version));
    if (chain.owner && inDirectory(direct?.match) && chain.owner.match.version.person_id !== direct!.match!.version.person_id) {
      reasons.push(REASON.keyOwnerDiffersFromActor);
    }
  } else if (connector?.link) {
    nhiChain.push(connector.link);
    if (connector.grantor) nhiChain.push(personLink(connector.grantor.version));
  }

  if (!puid && !email && !apiKeyId && !serviceAccountId && !clientId) reasons.push(REASON.noActorIdentifiers);

  // A token used by an app acts from the vendor's servers: no device of ours is behind it.
  const tokenUse = actor.kind === 'oauth_client';
  const device = resolveDevice(view, event.src, t, match?.version, { tokenUse });
  reasons.push(...device.reasons);

  // The event names nobody (an unauthenticated SSO attempt, a login as "unknown", an endpoint's own evidence):
  // whoever used the device it came from at that time, as of that time, so a handover splits the events.
  if (method === PERSON_METHOD.unresolved && device.device) {
    const userId = assigneeOf(view, device.device, t);
    const user = userId === null ? undefined : view.person(userId, t);
    if (user) {
      match = { version: user, via: 'device_user', confidence: device.confidence * CONFIDENCE.deviceUser };
      method = PERSON_METHOD.deviceUser;
      confidence = match.confidence;
      reasons.push(reason(REASON.personFromDeviceUser, `${device.device.device_id} used by ${user.person_id}`));
    } else {
      reasons.push(reason(REASON.deviceHasNoUser, device.device.device_id));
    }
  }

  return {
    person: match?.version,
    device: device.device ? deviceAtTime(view, device.device, t) : null,
    chain: nhiChain,
    method,
    confidence: round(confidence),
    deviceMethod: device.method,
    deviceConfidence: round(device.confidence),
    reasons: [...new Set(reasons)],
    unknownRefs: [...new Set(unknownRefs)],
    deviceHint: !tokenUse && [event.src.device_id, event.src.device_serial, event.src.hostname, event.src.ip].some((h) => nonBlank(h) !== null),
  };
}

/** Whether the event should wait for late identity data: no person, and a reference nothing names yet. */
export function awaitsIdentity(resolution: Resolution): boolean {
  return resolution.method === PERSON_METHOD.unresolved && resolution.unknownRefs.length > 0;
}

export function toEnriched(event: AccessEvent, r: Resolution, now: number, options: EnrichOptions = {}): EnrichedAccessEvent {
  return {
    event,
    person: r.person ? personAtTime(r.person) : null,
    device: r.device,
    nhi_chain: r.chain,
    attribution: {
      method: r.method,
      confidence: r.confidence,
      device_method: r.deviceMethod,
      device_confidence: r.deviceConfidence,
      reasons: options.reasons && options.reasons.length > 0 ? [...options.reasons, ...r.reasons] : r.reasons,
    },
    enrichment: { version: ENRICH_VERSION, enriched_at: now, waited_ms: Math.max(0, Math.round(options.waitedMs ?? 0)) },
  };
}

/** The output key: the person, else the first identity of the chain, else the event. */
export function outputKey(enriched: EnrichedAccessEvent): string {
  return enriched.person?.person_id ?? enriched.nhi_chain[0]?.id ?? enriched.event.event_id;
}

function personAtTime(v: PersonVersion): PersonAtTime {
  return {
    person_id: v.person_id,
    email: v.email,
    display_name: v.display_name,
    department: v.department,
    title: v.title,
    manager_person_id: v.manager_person_id,
    lifecycle_state: lifecycleOf(v),
    version_valid_from: v.valid_from,
    version_source: `${v.source.platform}/${v.source.feed}`,
  };
}

function deviceAtTime(view: IdentityView, d: DeviceVersion, t: number): DeviceAtTime {
  return {
    device_id: d.device_id,
    serial: d.serial,
    hostname: d.hostname,
    os: d.os,
    managed: d.managed,
    compliant: d.compliant,
    assigned_person_id: assigneeOf(view, d, t),
    version_valid_from: d.valid_from,
  };
}

/** Three decimals: a confidence is a judgement, and float32 on the wire would show noise anyway. */
function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
