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
export { FINDING_SEVERITIES, FINDING_KINDS, severitiesFrom } from './findings.ts';
export type { FindingSeverity, FindingKind } from './findings.ts';
