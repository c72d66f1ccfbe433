// Attribution methods, confidences and reason codes in one place: they are
// part of the output contract (ClickHouse columns, detection rules).

export const PERSON_METHOD = {
  directEmail: 'direct_email',
  platformUserAlias: 'platform_user_alias',
  apiKeyOwner: 'api_key_owner',
  serviceAccountOwner: 'service_account_owner',
  connectorGrant: 'connector_grant',
  platformAccountOnly: 'platform_account_only',
  /** The event names nobody; the person using the device it came from at that time. */
  deviceUser: 'device_user',
  unresolved: 'unresolved',
} as const;

export const DEVICE_METHOD = {
  deviceId: 'device_id',
  serial: 'serial',
  hostname: 'hostname',
  ipObservation: 'ip_observation',
  unresolved: 'unresolved',
} as const;

/**
 * Confidence of a person match by how it was made. An owner found through a
 * chain is worth less per hop (each hop is another record that may be stale);
 * a match that had to pick among several candidates is discounted.
 */
export const CONFIDENCE = {
  directoryAlias: 0.95,
  accountEmail: 0.9,
  email: 0.9,
  /**
   * An address nobody held at the time, matched to whoever held it last (a
   * rename the platform has not caught up with; a leaver whose record dropped
   * it): the best lead there is, but only a lead. Above a bare platform
   * account, which names no directory person at all.
   */
  formerEmail: 0.6,
  /**
   * An address nobody had held yet at the time, matched to its first holder
   * whose directory record appears within the provisioning lag after the event
   * (a joiner using AI tools before the IdP sync or HR import caught up): very
   * likely them, but it rests on a record dated after the event.
   */
  provisioningLag: 0.7,
  platformAccount: 0.5,
  perChainHop: 0.9,
  connectorGrant: 0.85,
  /** Of the device match: whoever used the device then is likely, not certain, to be who acted. */
  deviceUser: 0.8,
  ambiguousFactor: 0.6,
  device: { deviceId: 1, serial: 0.95, hostname: 0.7, ipAssignedToPerson: 0.8, ipSoleHolder: 0.6, ambiguousFactor: 0.6, ipStaleFactor: 0.5 },
} as const;

/**
 * An IP observation (a device version listing the address) is evidence near
 * the time it was made (reference A2.3/A4.3: match "as of seen_time", "near
 * lastContactTime"): DHCP leases and home or NAT addresses change on the scale
 * of days. Device inventories re-report a host at every check-in, so a version
 * older than this means the device has not been seen with the address since:
 * a fresh observation of the address on another device wins over it, and a
 * match resting on it alone is discounted (ipStaleFactor) and says how old it
 * is. A week spans a laptop left off over a weekend or a short holiday.
 */
export const IP_OBSERVATION_MAX_AGE_MS = 7 * 86_400_000;

/**
 * Sources that report when an address is released (osquery's interface_addresses
 * `removed` rows), not only when it is seen: their version holds the address
 * until the next version says otherwise, however old, so it is never stale.
 */
export const LEASE_SOURCES: ReadonlySet<string> = new Set(['osquery']);

/**
 * Rules of the join that are configuration, not code: the enrich service sets
 * them from its environment (TETHER_ENRICH_PROVISIONING_LAG_MS).
 */
export interface ResolveRules {
  /**
   * How long after an event the first holder of its address may appear in the
   * directory and still be named for it; 0 turns the rule off.
   */
  provisioningLagMs: number;
}

/** A joiner's directory record usually follows their first day within a week (IdP sync, HR import cadence). */
export const DEFAULT_RESOLVE_RULES: Readonly<ResolveRules> = Object.freeze({ provisioningLagMs: 7 * 86_400_000 });

/** An owner chain stops here even without a person (reference: stop after 5 hops). */
export const MAX_CHAIN_HOPS = 5;

/** Reason codes; a detail follows after ': ' where it helps an analyst. */
export const REASON = {
  noActorIdentifiers: 'no_actor_identifiers',
  platformUserUnknown: 'platform_user_unknown',
  platformUserNotYetKnown: 'platform_user_not_known_at_event_time',
  emailUnknown: 'email_unknown',
  emailNotHeldAtEventTime: 'email_not_held_at_event_time',
  emailFormerlyHeld: 'email_formerly_held',
  /** Nobody held the address at the event's time; its first holder's record appears later, within the provisioning lag. */
  provisioningLag: 'address_first_held_after_event',
  actorEmailNamesAnotherPerson: 'actor_email_names_another_person',
  noDirectoryPerson: 'no_directory_person_for_platform_account',
  ambiguousPerson: 'ambiguous_person_match',
  apiKeyUnknown: 'api_key_unknown',
  serviceAccountUnknown: 'service_account_unknown',
  nhiNotYetKnown: 'nhi_not_known_at_event_time',
  nhiParentUnknown: 'nhi_parent_unknown',
  nhiOwnerUnresolved: 'nhi_owner_unresolved',
  /** The owner (or grantor) was no longer active at the event: the NHI is orphaned (reference section 7). */
  nhiOwnerInactive: 'nhi_owner_inactive',
  projectHasNoOwner: 'project_has_no_owner',
  chainTooLong: 'nhi_chain_too_long',
  chainCycle: 'nhi_chain_cycle',
  keyOwnerDiffersFromActor: 'key_owner_differs_from_actor',
  connectorUnknown: 'connector_unknown',
  connectorNotGrantedAtEventTime: 'connector_not_granted_at_event_time',
  connectorNotGrantedByActor: 'connector_not_granted_by_actor',
  connectorGrantAmbiguous: 'connector_grant_ambiguous',
  connectorGrantorUnresolved: 'connector_grantor_unresolved',
  deviceNoHint: 'device_no_hint',
  deviceIdUnknown: 'device_id_unknown',
  deviceSerialUnknown: 'device_serial_unknown',
  /** Several device records carry the serial (a re-enrolment under a new id, two MDMs) and none is the person's. */
  deviceSerialAmbiguous: 'device_serial_ambiguous',
  deviceHostnameUnknown: 'device_hostname_unknown',
  deviceHostnameAmbiguous: 'device_hostname_ambiguous',
  /** No device held the event's address at its time. */
  deviceIpUnknown: 'ip_not_observed',
  /** The event's address text is not an IP address. */
  deviceIpInvalid: 'device_ip_invalid',
  /** A token used by an app: the address is the vendor's servers, never a managed device. */
  deviceTokenUse: 'device_not_applicable_token_use',
  /** The person was taken from the device's user at the event's time. */
  personFromDeviceUser: 'person_from_device_user',
  /** The device resolved, but nobody is recorded as using it at the event's time. */
  deviceHasNoUser: 'device_has_no_user_at_event_time',
  deviceIpAmbiguous: 'device_ip_ambiguous',
  deviceIpStale: 'device_ip_observation_stale',
  deviceAssignedToAnotherPerson: 'device_assigned_to_another_person',
  deviceRetired: 'device_retired_at_event_time',
  waitTimeout: 'identity_wait_timeout',
  waitBufferFull: 'late_buffer_full',
  waitCutShort: 'late_wait_cut_short_by_shutdown',
  gaveUpEarlier: 'identity_unknown_gave_up_earlier',
  /** Emitted again: identity data that arrived after the first emit now names a person. */
  reattributed: 'reattributed_after_late_identity',
} as const;

/** Details quote identifiers from the records and events, which may be hostile: a reason stays short. */
const MAX_DETAIL_CHARS = 240;

export function reason(code: string, detail?: string): string {
  if (detail === undefined) return code;
  return `${code}: ${detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…` : detail}`;
}

/** A value quoted inside a longer detail, cut so the rest of the detail survives. */
export function quote(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}
