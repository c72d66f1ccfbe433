// The contract in the real registry: every subject registers (idempotently),
// and the registry itself enforces the compatibility we set.
import { describe, expect, it } from 'vitest';
import { COMPATIBILITY, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createCodec, createRegistryClient, loadSchemas, RECORD_FOR_TOPIC, subjectFor, SUBJECT_COMPATIBILITY } from '#schemas';
import { topicNames, type TopicRole } from '#config';
import { testConfig, uniqueTopicPrefix } from '#testkit';

const { TETHER_SCHEMA_REGISTRY_URL: url } = testConfig();

describe('schema registry', () => {
  it('registers every record under its topic subject, idempotently, with the subject compatibility set', async () => {
    const prefix = uniqueTopicPrefix();
    const registry = createRegistryClient(url);
    const first = await createCodec({ registry, registryUrl: url, topicPrefix: prefix });
    const second = await createCodec({ registry: createRegistryClient(url), registryUrl: url, topicPrefix: prefix });
    const topics = topicNames(prefix);
    for (const role of Object.keys(RECORD_FOR_TOPIC) as TopicRole[]) {
      expect(second.schemaId(role)).toBe(first.schemaId(role));
      const res = await fetch(`${url}/config/${encodeURIComponent(subjectFor(topics[role]))}`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe(SUBJECT_COMPATIBILITY);
      const latest = await fetch(`${url}/subjects/${encodeURIComponent(subjectFor(topics[role]))}/versions/latest`);
      expect(((await latest.json()) as { id: number }).id).toBe(first.schemaId(role));
    }
  });

  it('registers the same new subjects from services starting at once', async () => {
    // Each service registers the contract at start; on new subjects they race the first one's compatibility setting.
    const prefix = uniqueTopicPrefix();
    const codecs = await Promise.all(Array.from({ length: 6 }, () => createCodec({ registry: createRegistryClient(url), registryUrl: url, topicPrefix: prefix })));
    for (const role of Object.keys(RECORD_FOR_TOPIC) as TopicRole[]) {
      expect(new Set(codecs.map((c) => c.schemaId(role))).size).toBe(1);
      const res = await fetch(`${url}/config/${encodeURIComponent(subjectFor(topicNames(prefix)[role]))}`);
      expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe(SUBJECT_COMPATIBILITY);
    }
  });

  it('accepts an optional field with a default and rejects removing a required field', async () => {
    const prefix = uniqueTopicPrefix();
    const registry = createRegistryClient(url);
    await createCodec({ registry, registryUrl: url, topicPrefix: prefix });
    const subject = subjectFor(topicNames(prefix).accessRaw);
    const current = loadSchemas().schemas.get('AccessEvent') as { fields: { name: string }[] };
    const register = (schema: object) =>
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject, compatibility: COMPATIBILITY.FULL });

    const added = { ...current, fields: [...current.fields, { name: 'risk_hint', type: ['null', 'string'], default: null, doc: 'new' }] };
    const { id } = await register(added);
    expect(id).toBeGreaterThan(0);

    const removed = { ...added, fields: added.fields.filter((f) => f.name !== 'action') };
    await expect(register(removed)).rejects.toThrow();
    const versions = (await (await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`)).json()) as number[];
    expect(versions).toHaveLength(2);
  });
});
