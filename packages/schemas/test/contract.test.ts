import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateTypes, loadSchemas, RECORD_FOR_TOPIC } from '#schemas';
import * as samples from './samples.ts';

const loaded = loadSchemas();

const SAMPLE_FOR_RECORD: Record<string, unknown> = {
  AccessEvent: samples.accessEvent,
  EnrichedAccessEvent: samples.enrichedAccessEvent,
  PersonVersion: samples.personVersion,
  DeviceVersion: samples.deviceVersion,
  NonHumanIdentityVersion: samples.nhiVersion,
  ConnectorVersion: samples.connectorVersion,
  GroupVersion: samples.groupVersion,
  DeadLetter: samples.deadLetter,
  IngestCheckpoint: samples.checkpoint,
  Finding: samples.finding,
  DetectState: samples.detectState,
};

describe('Avro contract', () => {
  it('generated TypeScript types match schemas/*.avsc (run npm run gen:types after a schema change)', () => {
    const committed = readFileSync(path.resolve(import.meta.dirname, '../src/generated-types.ts'), 'utf8');
    expect(committed).toBe(generateTypes(loaded));
  });

  it('every topic maps to a record that has a schema, and every record has a sample', () => {
    for (const record of Object.values(RECORD_FOR_TOPIC)) expect(loaded.types.has(record)).toBe(true);
    expect([...loaded.types.keys()].sort()).toEqual(Object.keys(SAMPLE_FOR_RECORD).sort());
  });

  it.each(Object.entries(SAMPLE_FOR_RECORD))('%s round-trips through Avro to a deep-equal value', (name, sample) => {
    const type = loaded.types.get(name)!;
    expect(type.isValid(sample)).toBe(true);
    expect(type.fromBuffer(type.toBuffer(sample))).toEqual(sample);
  });

  it('documents every field', () => {
    const undocumented: string[] = [];
    const walk = (schema: unknown, where: string): void => {
      if (Array.isArray(schema)) return schema.forEach((s) => walk(s, where));
      if (!schema || typeof schema !== 'object') return;
      const s = schema as { type?: unknown; fields?: { name: string; doc?: string; type: unknown }[]; items?: unknown; name?: string };
      for (const field of s.fields ?? []) {
        if (!field.doc) undocumented.push(`${where}.${field.name}`);
        walk(field.type, `${where}.${field.name}`);
      }
      if (s.items) walk(s.items, where);
      if (typeof s.type === 'object') walk(s.type, where);
    };
    for (const [name, schema] of loaded.schemas) walk(schema, name);
    expect(undocumented).toEqual([]);
  });

  it('rejects a value that drifts from the schema', () => {
    const type = loaded.types.get('AccessEvent')!;
    expect(type.isValid({ ...samples.accessEvent, time: '2026-11-20T09:30:00Z' })).toBe(false);
    expect(type.isValid({ ...samples.accessEvent, actor: { ...samples.accessEvent.actor, email: 42 } })).toBe(false);
  });
});
