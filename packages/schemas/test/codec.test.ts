// The codec's decode of records written with another schema version: the
// writer schema is fetched from the registry, and a registry that is down or
// silent is a transient condition (retriable), never a bad record.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { afterEach, describe, expect, it } from 'vitest';
import { isRetriable } from '#errors';
import { avroOptions } from '../src/avro-types.ts';
import { createCodec, loadSchemas } from '../src/index.ts';
import { personVersion } from './samples.ts';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A registry that answers /schemas/ids/:id with `statuses` in turn (the last repeats), serving `schema` on 200. */
async function registryServing(schema: object, statuses: number[]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    const status = statuses[Math.min(hits, statuses.length - 1)]!;
    hits += 1;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status === 200 ? JSON.stringify({ schema: JSON.stringify(schema) }) : '{"error_code":50001}');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

/** A checkpoint written by a newer producer (schema id `id`) whose schema added optional fields. */
function newerCheckpoint(id = 4242, added = ['added_later']): { schema: object; bytes: Buffer } {
  const schema = structuredClone(loadSchemas().schemas.get('IngestCheckpoint')) as { fields: object[] };
  for (const name of added) schema.fields.push({ name, type: ['null', 'string'], default: null });
  const value = { checkpoint_id: 'openai/audit_logs/poll', cursor: '{}', updated_at: 1, records_total: 2, ...Object.fromEntries(added.map((n) => [n, null])) };
  const body = avro.Type.forSchema(schema as avro.Schema, avroOptions()).toBuffer(value);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return { schema, bytes: Buffer.concat([header, body]) };
}

async function codecAt(registryUrl: string) {
  const registry = { register: async () => ({ id: 1 }) } as unknown as SchemaRegistry;
  return createCodec({ registry, registryUrl });
}

describe('codec decode of another schema version', () => {
  it('says a registry that is down or refuses is transient, then decodes once it answers', async () => {
    const { schema, bytes } = newerCheckpoint();
    const registry = await registryServing(schema, [503, 200]);
    const codec = await codecAt(registry.url);
    const down = await codec.decode('ingestCheckpoints', bytes).catch((err: unknown) => err);
    expect(down).toMatchObject({ code: 'TETHER_SCHEMA_REGISTRY' });
    expect(isRetriable(down)).toBe(true);
    await expect(codec.decode('ingestCheckpoints', bytes)).resolves.toMatchObject({ checkpoint_id: 'openai/audit_logs/poll', records_total: 2 });
  });

  it('says an unreachable registry is transient, and an unknown schema id is not', async () => {
    const { schema, bytes } = newerCheckpoint();
    const closed = await registryServing(schema, [200]);
    const url = closed.url;
    servers.splice(0).forEach((s) => s.close());
    const unreachable = await (await codecAt(url)).decode('ingestCheckpoints', bytes).catch((err: unknown) => err);
    expect(unreachable).toMatchObject({ code: 'TETHER_SCHEMA_REGISTRY' });
    expect(isRetriable(unreachable)).toBe(true);

    const missing = await registryServing(schema, [404]);
    const unknown = await (await codecAt(missing.url)).decode('ingestCheckpoints', bytes).catch((err: unknown) => err);
    expect(unknown).toMatchObject({ code: 'TETHER_SCHEMA_REGISTRY' });
    expect(isRetriable(unknown)).toBe(false);
  });

  it('decodes records of two later versions of one record, each with its own writer schema', async () => {
    const v2 = newerCheckpoint(5001, ['added_later']);
    const v3 = newerCheckpoint(5002, ['added_later', 'added_even_later']);
    let hits = 0;
    const server = createServer((req, res) => {
      hits += 1;
      const schema = req.url?.endsWith('/5002') ? v3.schema : v2.schema;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ schema: JSON.stringify(schema) }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const codec = await codecAt(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await expect(codec.decode('ingestCheckpoints', v2.bytes)).resolves.toMatchObject({ records_total: 2 });
    await expect(codec.decode('ingestCheckpoints', v3.bytes)).resolves.toMatchObject({ records_total: 2 });
    await expect(codec.decode('ingestCheckpoints', v3.bytes)).resolves.toMatchObject({ records_total: 2 });
    expect(hits).toBe(2);
  });
});

describe('codec wire bytes', () => {
  const checkpoint = (cursor: string) => ({ checkpoint_id: 'openai/audit_logs/poll', cursor, updated_at: 1, records_total: 2 });

  it('writes the Confluent header and body of every record, whatever its size, each in its own buffer', async () => {
    const codec = await codecAt('http://registry.invalid');
    const type = loadSchemas().types.get('IngestCheckpoint')!;
    // Small, then far past the encoder's first scratch buffer, then small again.
    const values = [checkpoint('{}'), checkpoint('x'.repeat(100_000)), checkpoint('{"after":"b"}')];
    const encoded = values.map((v) => codec.encode('ingestCheckpoints', v));
    encoded.forEach((bytes, i) => {
      expect(bytes[0]).toBe(0);
      expect(bytes.readUInt32BE(1)).toBe(codec.schemaId('ingestCheckpoints'));
      expect(bytes.subarray(5).equals(type.toBuffer(values[i]))).toBe(true);
    });
    await expect(Promise.all(encoded.map((b) => codec.decode('ingestCheckpoints', b)))).resolves.toEqual(values);
  });

  it('refuses a record over the record limit and one that does not match its schema, then encodes the next', async () => {
    const codec = await codecAt('http://registry.invalid');
    expect(() => codec.encode('ingestCheckpoints', checkpoint('x'.repeat(1024 * 1024)))).toThrow(expect.objectContaining({ code: 'TETHER_RECORD_TOO_LARGE' }));
    expect(() => codec.encode('ingestCheckpoints', { ...checkpoint('{}'), records_total: 'two' } as never)).toThrow(expect.objectContaining({ code: 'TETHER_SCHEMA_INVALID' }));
    await expect(codec.decode('ingestCheckpoints', codec.encode('ingestCheckpoints', checkpoint('{}')))).resolves.toEqual(checkpoint('{}'));
  });

  it('decodes without a promise what its own schema wrote, and says when the writer schema must be fetched first', async () => {
    const { schema, bytes } = newerCheckpoint();
    const registry = await registryServing(schema, [200]);
    const codec = await codecAt(registry.url);
    expect(codec.decodeKnown!('ingestCheckpoints', codec.encode('ingestCheckpoints', checkpoint('{}')))).toEqual(checkpoint('{}'));
    expect(codec.decodeKnown!('ingestCheckpoints', bytes)).toBeUndefined();
    await codec.decode('ingestCheckpoints', bytes);
    expect(codec.decodeKnown!('ingestCheckpoints', bytes)).toMatchObject({ records_total: 2 });
  });

  it('refuses truncated bytes, trailing bytes and bytes not in the wire format, both ways of decoding', async () => {
    const codec = await codecAt('http://registry.invalid');
    const good = codec.encode('ingestCheckpoints', checkpoint('{}'));
    for (const bad of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([0])]), Buffer.from([1, 0, 0, 0, 1, 2]), Buffer.alloc(3)]) {
      expect(() => codec.decodeKnown!('ingestCheckpoints', bad)).toThrow(expect.objectContaining({ code: 'TETHER_DECODE' }));
      await expect(codec.decode('ingestCheckpoints', bad)).rejects.toMatchObject({ code: 'TETHER_DECODE' });
    }
  });
});

describe('codec decoders that skip fields', () => {
  const scimPerson = {
    ...personVersion,
    groups: [{ group_id: 'g1', display_name: 'Legal' }],
    directory_record: JSON.stringify({ resource: { userName: 'kim@example.com', padding: 'x'.repeat(1000) } }),
  };

  it('reads skipped fields as null and every other field as decode() does, both ways', async () => {
    const codec = await codecAt('http://registry.invalid');
    const bytes = codec.encode('identityUsers', scimPerson);
    const decoder = codec.skipping!('identityUsers', ['directory_record', 'groups']);
    const expected = { ...(await codec.decode('identityUsers', bytes)), directory_record: null, groups: null };
    expect(decoder.decodeKnown(bytes)).toEqual(expected);
    await expect(decoder.decode(bytes)).resolves.toEqual(expected);
    expect(() => decoder.decodeKnown(bytes.subarray(0, bytes.length - 3))).toThrow(expect.objectContaining({ code: 'TETHER_DECODE' }));
  });

  it('refuses to skip a field that is not nullable or does not exist', async () => {
    const codec = await codecAt('http://registry.invalid');
    expect(() => codec.skipping!('identityUsers', ['person_id'])).toThrow(expect.objectContaining({ code: 'TETHER_SCHEMA_INVALID' }));
    expect(() => codec.skipping!('identityUsers', ['no_such_field' as never])).toThrow(expect.objectContaining({ code: 'TETHER_SCHEMA_INVALID' }));
  });

  it('decodes records of a newer writer schema once it was fetched', async () => {
    const schema = structuredClone(loadSchemas().schemas.get('PersonVersion')) as { fields: object[] };
    schema.fields.push({ name: 'added_later', type: ['null', 'string'], default: null });
    const body = avro.Type.forSchema(schema as avro.Schema, avroOptions()).toBuffer({ ...scimPerson, added_later: 'x' });
    const header = Buffer.alloc(5);
    header.writeUInt32BE(7007, 1);
    const bytes = Buffer.concat([header, body]);
    const registry = await registryServing(schema, [200]);
    const decoder = (await codecAt(registry.url)).skipping!('identityUsers', ['directory_record']);
    expect(decoder.decodeKnown(bytes)).toBeUndefined();
    await expect(decoder.decode(bytes)).resolves.toMatchObject({ person_id: personVersion.person_id, directory_record: null, groups: scimPerson.groups });
    expect(decoder.decodeKnown(bytes)).toMatchObject({ directory_record: null });
  });
});
