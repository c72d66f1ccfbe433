// Which record each topic carries, and registration of those records in a
// Confluent-compatible registry (TopicNameStrategy subjects).
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { topicNames, type TopicRole } from '#config';
import { tetherError } from '#errors';
import type { LoadedSchemas } from './avro-types.ts';
import type { RecordTypes } from './generated-types.ts';

export const RECORD_FOR_TOPIC = {
  accessRaw: 'AccessEvent',
  accessEnriched: 'EnrichedAccessEvent',
  identityUsers: 'PersonVersion',
  identityDevices: 'DeviceVersion',
  identityNhi: 'NonHumanIdentityVersion',
  identityConnectors: 'ConnectorVersion',
  identityGroups: 'GroupVersion',
  dlq: 'DeadLetter',
  ingestCheckpoints: 'IngestCheckpoint',
  findings: 'Finding',
  detectState: 'DetectState',
  enrichReattribution: 'EnrichedAccessEvent',
} as const satisfies Record<TopicRole, keyof RecordTypes>;

export type RecordForTopic = { [R in TopicRole]: RecordTypes[(typeof RECORD_FOR_TOPIC)[R]] };

/**
 * FULL = BACKWARD + FORWARD: new readers read old data and old readers read
 * new data. BACKWARD alone would accept dropping a required field, which
 * breaks every detection rule still on the old schema.
 */
export const SUBJECT_COMPATIBILITY = COMPATIBILITY.FULL;

export function subjectFor(topic: string): string {
  return `${topic}-value`;
}

export interface RegisteredIds {
  /** Topic role -> schema id the producer stamps. */
  ids: Map<TopicRole, number>;
}

/**
 * Waits before registering again after a compatibility mismatch. Services
 * starting together race on a new subject: the first registers it (the
 * registry's default level) and sets FULL a moment later, and the client
 * library refuses to register under the default level meanwhile. A level
 * that stays different was set by someone else, and is refused.
 */
const MISMATCH_RETRY_DELAYS_MS = [100, 200, 400, 800, 1_600, 3_200];

/** Registers every topic's record; idempotent (the registry returns the existing id). */
export async function registerSchemas(
  registry: SchemaRegistry,
  loaded: LoadedSchemas,
  topicPrefix = '',
  retryDelaysMs: readonly number[] = MISMATCH_RETRY_DELAYS_MS,
): Promise<Map<TopicRole, number>> {
  const topics = topicNames(topicPrefix);
  const ids = new Map<TopicRole, number>();
  for (const [role, recordName] of Object.entries(RECORD_FOR_TOPIC) as [TopicRole, keyof RecordTypes][]) {
    const schema = loaded.schemas.get(recordName);
    if (!schema) throw tetherError('TETHER_SCHEMA_INVALID', `no schema file defines ${recordName}`);
    const subject = subjectFor(topics[role]);
    for (let attempt = 0; ; attempt++) {
      try {
        const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: SUBJECT_COMPATIBILITY });
        ids.set(role, id);
        break;
      } catch (err) {
        const delay = retryDelaysMs[attempt];
        if (isCompatibilityMismatch(err) && delay !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          continue;
        }
        throw tetherError('TETHER_SCHEMA_REGISTRY', `registering ${recordName} under ${subject} failed: ${(err as Error).message}`, { cause: err, retriable: false });
      }
    }
  }
  return ids;
}

/**
 * The two faces of that race: the level is still the registry's default, or
 * (Apicurio) both set it and the second is refused as a rule that exists.
 */
function isCompatibilityMismatch(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'ConfluentSchemaRegistryCompatibilityError'
    || err.message.startsWith('Compatibility does not match')
    || /rule named 'COMPATIBILITY' already exists/i.test(err.message);
}

export function createRegistryClient(url: string): SchemaRegistry {
  return new SchemaRegistry({ host: url, clientId: 'tether', retry: { retries: 5, maxRetryTimeInSecs: 10 } });
}
