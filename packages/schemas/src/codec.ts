// Encodes and decodes records in the Confluent wire format: magic byte 0,
// 4-byte big-endian schema id, Avro body. Decoding resolves the writer's
// schema (fetched by id, cached) against ours, so older and newer writers
// both decode into the current types.
import avro from 'avsc';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { TopicRole } from '#config';
import { tetherError } from '#errors';
import { avroOptions, loadSchemas, type LoadedSchemas } from './avro-types.ts';
import { RECORD_FOR_TOPIC, registerSchemas, type RecordForTopic } from './registry.ts';

const MAGIC = 0;
const HEADER_BYTES = 5;
/**
 * Kafka's default message.max.bytes is 1 MiB per record batch: a bigger
 * record would be refused by the broker and stall whatever sent it, so the
 * codec refuses it first (the sender dead-letters it and moves on).
 */
export const MAX_RECORD_BYTES = 900 * 1024;

/** One writer-schema lookup; a registry that accepts the connection and never answers must not stall a consumer forever. */
const REGISTRY_TIMEOUT_MS = 15_000;

export interface Codec {
  encode<R extends TopicRole>(role: R, value: RecordForTopic[R]): Buffer;
  decode<R extends TopicRole>(role: R, bytes: Buffer): Promise<RecordForTopic[R]>;
  /** The schema id values of a role are stamped with. */
  schemaId(role: TopicRole): number;
}

export interface CodecOptions {
  registry: SchemaRegistry;
  registryUrl: string;
  topicPrefix?: string;
  loaded?: LoadedSchemas;
}

/** Registers the schemas (idempotent) and returns a codec bound to their ids. */
export async function createCodec(options: CodecOptions): Promise<Codec> {
  const loaded = options.loaded ?? loadSchemas();
  const ids = await registerSchemas(options.registry, loaded, options.topicPrefix);
  const writerTypes = new Map<number, Promise<avro.Type>>();
  const resolvers = new Map<string, avro.Resolver>();
  const baseUrl = options.registryUrl.replace(/\/+$/, '');

  function readerType(role: TopicRole): avro.Type {
    return loaded.types.get(RECORD_FOR_TOPIC[role])!;
  }

  function fetchWriterType(id: number): Promise<avro.Type> {
    let pending = writerTypes.get(id);
    if (!pending) {
      pending = (async () => {
        let res: Response;
        try {
          res = await fetch(`${baseUrl}/schemas/ids/${id}`, { signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS) });
        } catch (err) {
          // Unreachable or silent says nothing about the record: the caller retries, never dead-letters.
          throw tetherError('TETHER_SCHEMA_REGISTRY', `registry unreachable fetching schema ${id}: ${(err as Error).message}`, { retriable: true, cause: err });
        }
        if (!res.ok) {
          throw tetherError('TETHER_SCHEMA_REGISTRY', `registry has no schema ${id} (HTTP ${res.status})`, { retriable: res.status >= 500 || res.status === 429 });
        }
        const body = (await res.json()) as { schema: string };
        return avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema, avroOptions());
      })();
      pending.catch(() => writerTypes.delete(id));
      writerTypes.set(id, pending);
    }
    return pending;
  }

  return {
    schemaId(role) {
      return ids.get(role)!;
    },
    encode(role, value) {
      const type = readerType(role);
      let body: Buffer;
      try {
        body = type.toBuffer(value);
      } catch (err) {
        const problems: string[] = [];
        type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(root)') });
        throw tetherError('TETHER_SCHEMA_INVALID', `${RECORD_FOR_TOPIC[role]} does not match its schema at: ${problems.join(', ') || (err as Error).message}`, { cause: err });
      }
      if (body.length + HEADER_BYTES > MAX_RECORD_BYTES) {
        throw tetherError('TETHER_RECORD_TOO_LARGE', `${RECORD_FOR_TOPIC[role]} is ${body.length + HEADER_BYTES} bytes encoded, over the ${MAX_RECORD_BYTES}-byte record limit`);
      }
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt8(MAGIC, 0);
      header.writeUInt32BE(ids.get(role)!, 1);
      return Buffer.concat([header, body]);
    },
    async decode(role, bytes) {
      if (bytes.length < HEADER_BYTES || bytes.readUInt8(0) !== MAGIC) {
        throw tetherError('TETHER_DECODE', `not in the Confluent wire format (${bytes.length} bytes, first byte ${bytes[0] ?? 'none'})`);
      }
      const id = bytes.readUInt32BE(1);
      const reader = readerType(role);
      try {
        if (id === ids.get(role)) return reader.fromBuffer(bytes.subarray(HEADER_BYTES)) as RecordForTopic[typeof role];
        const key = `${role}:${id}`;
        let resolver = resolvers.get(key);
        if (!resolver) {
          resolver = reader.createResolver(await fetchWriterType(id));
          resolvers.set(key, resolver);
        }
        return reader.fromBuffer(bytes.subarray(HEADER_BYTES), resolver) as RecordForTopic[typeof role];
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('TETHER_')) throw err;
        throw tetherError('TETHER_DECODE', `cannot decode ${RECORD_FOR_TOPIC[role]} written with schema ${id}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
}
