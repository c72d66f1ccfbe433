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

function decodeError(role: TopicRole, id: number, err: unknown) {
  if ((err as { code?: string }).code?.startsWith('TETHER_')) return err;
  return tetherError('TETHER_DECODE', `cannot decode ${RECORD_FOR_TOPIC[role]} written with schema ${id}: ${(err as Error).message}`, { cause: err });
}

/** A buffer records are encoded into before being copied out (never handed out itself). */
function newScratch(bytes: number): Buffer {
  return Buffer.allocUnsafeSlow(Math.min(bytes, MAX_RECORD_BYTES + HEADER_BYTES));
}

/** One writer-schema lookup; a registry that accepts the connection and never answers must not stall a consumer forever. */
const REGISTRY_TIMEOUT_MS = 15_000;

export interface Codec {
  encode<R extends TopicRole>(role: R, value: RecordForTopic[R]): Buffer;
  decode<R extends TopicRole>(role: R, bytes: Buffer): Promise<RecordForTopic[R]>;
  /**
   * decode() without a promise when the writer's schema is already known (ours, or
   * fetched before): undefined when it must first be fetched (then await decode()).
   * Throws as decode() does. Optional so stand-in codecs in tests need not implement it.
   */
  decodeKnown?<R extends TopicRole>(role: R, bytes: Buffer): RecordForTopic[R] | undefined;
  /**
   * A decoder of one role that skips top-level fields its caller never reads:
   * they are not decoded at all (a kilobyte of directory record costs nothing)
   * and read as null, so each must be a nullable field. Optional as decodeKnown.
   */
  skipping?<R extends TopicRole>(role: R, fields: readonly (keyof RecordForTopic[R] & string)[]): RoleDecoder<R>;
  /** The schema id values of a role are stamped with. */
  schemaId(role: TopicRole): number;
}

/** decode() and decodeKnown() of one role. */
export interface RoleDecoder<R extends TopicRole> {
  decode(bytes: Buffer): Promise<RecordForTopic[R]>;
  decodeKnown(bytes: Buffer): RecordForTopic[R] | undefined;
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
  let scratch = newScratch(16 * 1024);

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

  function writerId(role: TopicRole, bytes: Buffer): number {
    if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC) {
      throw tetherError('TETHER_DECODE', `not in the Confluent wire format (${bytes.length} bytes, first byte ${bytes[0] ?? 'none'})`);
    }
    return bytes.readUInt32BE(1);
  }

  /** The body after the header, read in place (as fromBuffer would, without a subarray per record). */
  function read<R extends TopicRole>(role: R, id: number, bytes: Buffer, resolver: avro.Resolver | undefined, reader = readerType(role)): RecordForTopic[R] {
    let decoded: { value: unknown; offset: number };
    try {
      decoded = reader.decode(bytes, HEADER_BYTES, resolver);
    } catch (err) {
      throw decodeError(role, id, err);
    }
    if (decoded.offset < 0) throw decodeError(role, id, new Error('truncated buffer'));
    if (decoded.offset < bytes.length) throw decodeError(role, id, new Error('trailing data'));
    return decoded.value as RecordForTopic[R];
  }

  function skipping<R extends TopicRole>(role: R, skipped: readonly string[]): RoleDecoder<R> {
    const schema = loaded.schemas.get(RECORD_FOR_TOPIC[role]) as { fields: Array<{ name: string; type: unknown }> };
    for (const name of skipped) {
      const field = schema.fields.find((f) => f.name === name);
      if (!field || !Array.isArray(field.type) || !field.type.includes('null')) {
        throw tetherError('TETHER_SCHEMA_INVALID', `${RECORD_FOR_TOPIC[role]} has no nullable field ${name} to skip`);
      }
    }
    const projected = avro.Type.forSchema({ ...schema, fields: schema.fields.filter((f) => !skipped.includes(f.name)) } as avro.Schema, avroOptions());
    const byWriter = new Map<number, avro.Resolver>([[ids.get(role)!, projected.createResolver(readerType(role))]]);
    const withNulls = (value: RecordForTopic[R]): RecordForTopic[R] => {
      for (const name of skipped) (value as unknown as Record<string, unknown>)[name] = null;
      return value;
    };
    return {
      decodeKnown(bytes) {
        const id = writerId(role, bytes);
        const resolver = byWriter.get(id);
        return resolver ? withNulls(read(role, id, bytes, resolver, projected)) : undefined;
      },
      async decode(bytes) {
        const id = writerId(role, bytes);
        let resolver = byWriter.get(id);
        if (!resolver) {
          try {
            resolver = projected.createResolver(await fetchWriterType(id));
          } catch (err) {
            throw decodeError(role, id, err);
          }
          byWriter.set(id, resolver);
        }
        return withNulls(read(role, id, bytes, resolver, projected));
      },
    };
  }

  return {
    skipping,
    schemaId(role) {
      return ids.get(role)!;
    },
    encode(role, value) {
      const type = readerType(role);
      // Written straight after the header in a scratch buffer that grows to the largest record
      // seen, then copied out once: avsc's own toBuffer writes twice (into a zeroed buffer) any
      // record over its 1 KB scratch, and the header would cost another allocation and copy.
      let end: number;
      try {
        for (;;) {
          end = type.encode(value, scratch, HEADER_BYTES);
          if (end >= 0) break;
          const needed = scratch.length - end;
          if (needed > MAX_RECORD_BYTES) {
            end = needed;
            break;
          }
          scratch = newScratch(Math.max(needed, 2 * scratch.length));
        }
      } catch (err) {
        const problems: string[] = [];
        type.isValid(value, { errorHook: (path) => problems.push(path.join('.') || '(root)') });
        throw tetherError('TETHER_SCHEMA_INVALID', `${RECORD_FOR_TOPIC[role]} does not match its schema at: ${problems.join(', ') || (err as Error).message}`, { cause: err });
      }
      if (end > MAX_RECORD_BYTES) {
        throw tetherError('TETHER_RECORD_TOO_LARGE', `${RECORD_FOR_TOPIC[role]} is ${end} bytes encoded, over the ${MAX_RECORD_BYTES}-byte record limit`);
      }
      const out = Buffer.allocUnsafe(end);
      scratch.copy(out, 0, 0, end);
      out.writeUInt8(MAGIC, 0);
      out.writeUInt32BE(ids.get(role)!, 1);
      return out;
    },
    decodeKnown(role, bytes) {
      const id = writerId(role, bytes);
      if (id === ids.get(role)) return read(role, id, bytes, undefined);
      const resolver = resolvers.get(`${role}:${id}`);
      return resolver ? read(role, id, bytes, resolver) : undefined;
    },
    async decode(role, bytes) {
      const id = writerId(role, bytes);
      if (id === ids.get(role)) return read(role, id, bytes, undefined);
      const key = `${role}:${id}`;
      let resolver = resolvers.get(key);
      if (!resolver) {
        try {
          resolver = readerType(role).createResolver(await fetchWriterType(id));
        } catch (err) {
          throw decodeError(role, id, err);
        }
        resolvers.set(key, resolver);
      }
      return read(role, id, bytes, resolver);
    },
  };
}
