// Loads schemas/*.avsc into avsc types. Files may use record types another
// file defines (by full name); each top-level record is exported as a
// self-contained schema, which is what the registry is given.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import avro from 'avsc';

export const SCHEMA_DIR = path.resolve(import.meta.dirname, '../../../schemas');
export const NAMESPACE = 'io.tether.v1';

/**
 * timestamp-millis kept as a plain number of epoch ms: no Date conversion
 * (a Date would make every consumer convert back), but the annotation stays
 * in the registered schema for other languages' readers.
 */
class EpochMillisType extends avro.types.LogicalType {
  override _fromValue(value: unknown): unknown {
    return value;
  }
  override _toValue(value: unknown): unknown {
    return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
  }
  override _resolve(type: avro.Type): ((x: unknown) => unknown) | undefined {
    return avro.Type.isType(type, 'long', 'int', 'logical:timestamp-millis') ? (x) => x : undefined;
  }
}

/**
 * Options for avro.Type.forSchema, fresh on every call: avsc stores every
 * named type in `options.registry`, creating it on the options object it was
 * given, so one shared object would make the second schema naming a type
 * (the next writer version of the same record) fail as a duplicate.
 */
export function avroOptions(registry: Record<string, avro.Type> = {}) {
  return { logicalTypes: { 'timestamp-millis': EpochMillisType }, registry };
}

export interface LoadedSchemas {
  /** Top-level record name (short) -> avsc type. */
  types: Map<string, avro.Type>;
  /** Top-level record name (short) -> self-contained schema JSON. */
  schemas: Map<string, object>;
}

export function loadSchemas(dir: string = SCHEMA_DIR): LoadedSchemas {
  const pending = readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { name: string } }));
  const registry: Record<string, avro.Type> = {};
  const types = new Map<string, avro.Type>();
  // A file may use a type another file defines: parse in passes until every
  // file resolves; a pass that resolves nothing means a name is missing.
  while (pending.length > 0) {
    const errors: string[] = [];
    const before = pending.length;
    for (let i = 0; i < pending.length; ) {
      const { file, json } = pending[i]!;
      try {
        const scratch = { ...registry };
        const type = avro.Type.forSchema(json as avro.Schema, avroOptions(scratch));
        Object.assign(registry, scratch);
        types.set(json.name, type);
        pending.splice(i, 1);
      } catch (err) {
        errors.push(`${file}: ${(err as Error).message}`);
        i++;
      }
    }
    if (pending.length === before) {
      throw new Error(`schemas do not resolve:\n${errors.join('\n')}`);
    }
  }
  const schemas = new Map<string, object>();
  for (const [name, type] of types) schemas.set(name, type.schema({ exportAttrs: true }) as object);
  return { types, schemas };
}
