// Attribution methods, confidences and reason codes in one place: they are
// part of the output contract (ClickHouse columns, detection rules).

export const PERSON_METHOD = {
  directEmail: 'direct_email',
  platformUserAlias: 'platform_user_alias',
  apiKeyOwner: 'api_key_owner',
  serviceAccountOwner: 'service_account_owner',
  connectorGrant: 'connector_grant',
  platformAccountOnly: 'platform_account_only',
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
  platformAccount: 0.5,
  perChainHop: 0.9,
  connectorGrant: 0.85,
  ambiguousFactor: 0.6,
  device: { deviceId: 1, serial: 0.95, hostname: 0.7, ipAssignedToPerson: 0.8, ipSoleHolder: 0.6, ambiguousFactor: 0.6 },
} as const;

/** An owner chain stops here even without a person (reference: stop after 5 hops). */
export const MAX_CHAIN_HOPS = 5;

/** Reason codes; a detail follows after ': ' where it helps an analyst. */
export const REASON = {
  noActorIdentifiers: 'no_actor_identifiers',
  platformUserUnknown: 'platform_user_unknown',
  platformUserNotYetKnown: 'platform_user_not_known_at_event_time',
  emailUnknown: 'email_unknown',
  emailNotHeldAtEventTime: 'email_not_held_at_event_time',
  noDirectoryPerson: 'no_directory_person_for_platform_account',
  ambiguousPerson: 'ambiguous_person_match',
  apiKeyUnknown: 'api_key_unknown',
  serviceAccountUnknown: 'service_account_unknown',
  nhiNotYetKnown: 'nhi_not_known_at_event_time',
  nhiParentUnknown: 'nhi_parent_unknown',
  nhiOwnerUnresolved: 'nhi_owner_unresolved',
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
  deviceHostnameUnknown: 'device_hostname_unknown',
  deviceHostnameAmbiguous: 'device_hostname_ambiguous',
  deviceIpUnknown: 'device_ip_unknown',
  deviceIpAmbiguous: 'device_ip_ambiguous',
  deviceAssignedToAnotherPerson: 'device_assigned_to_another_person',
  deviceRetired: 'device_retired_at_event_time',
  waitTimeout: 'identity_wait_timeout',
  waitBufferFull: 'late_buffer_full',
  waitCutShort: 'late_wait_cut_short_by_shutdown',
  gaveUpEarlier: 'identity_unknown_gave_up_earlier',
  /** Emitted again: identity data that arrived after the first emit now names a person. */
  reattributed: 'reattributed_after_late_identity',
} as const;

export function reason(code: string, detail?: string): string {
  return detail === undefined ? code : `${code}: ${detail}`;
}
