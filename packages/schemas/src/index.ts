export { loadSchemas, SCHEMA_DIR, NAMESPACE } from './avro-types.ts';
export type { LoadedSchemas } from './avro-types.ts';
export { generateTypes } from './typegen.ts';
export { createCodec, MAX_RECORD_BYTES } from './codec.ts';
export type { Codec, CodecOptions, RoleDecoder } from './codec.ts';
export { RECORD_FOR_TOPIC, SUBJECT_COMPATIBILITY, subjectFor, registerSchemas, createRegistryClient } from './registry.ts';
export type { RecordForTopic } from './registry.ts';
export type * from './generated-types.ts';
export { deriveEventId, versionKey } from './event-id.ts';
export {
  normaliseEmail, emailMatchKey, normaliseUpn, upnMatchKey, normaliseExternalId, normaliseLogin, aliasMatchKey,
  normaliseIp, normaliseSerial, PLACEHOLDER_SERIALS, hostnameKeys,
} from './identity-keys.ts';
export { stablePersonId, personIdPlatform, KnownPeopleIndex, EXTERNAL_ID_ALIAS_KINDS, EMPLOYEE_NUMBER_ALIAS_KIND } from './person-id.ts';
export type { PersonKeys, KnownPeople } from './person-id.ts';
export { FINDING_SEVERITIES, FINDING_KINDS, severitiesFrom } from './findings.ts';
export type { FindingSeverity, FindingKind } from './findings.ts';
