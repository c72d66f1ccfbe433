// Client JSON to the canonical resource Tether keeps: attribute names spelt
// as the schema spells them (clients may use any case), values checked
// against their type, Entra's string booleans ("False") coerced, nulls
// meaning "absent" dropped, read-only attributes ignored (RFC 7643 §2.2),
// and the write-only password dropped here, at the first step, so it can
// reach no store, log, topic or response. Pure.
import { badRequest } from './scim-error.ts';
import { canonicalUrn, findAttr, type AttrDef, type ResourceSchema } from './schema.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Longest string value kept; beyond is a broken or hostile client. */
export const MAX_STRING_CHARS = 4_096;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Where the attribute a (possibly URN-qualified) name points at lives: the core or an extension. */
export interface AttrLocation {
  /** null for the core schema, else the extension URN as the schema spells it. */
  extension: string | null;
  def: AttrDef;
}

/**
 * Finds an attribute by name within a schema: `urn` qualifies it (core or an
 * extension); unqualified names are the core's first, then an extension's
 * (Entra's legacy `manager` path names the enterprise attribute unqualified).
 */
export function locate(schema: ResourceSchema, urn: string | null, attr: string): AttrLocation | undefined {
  if (urn !== null) {
    const canonical = canonicalUrn(schema, urn);
    if (canonical === undefined) return undefined;
    const defs = canonical === schema.core ? schema.attrs : schema.extensions.get(canonical)!;
    const def = findAttr(defs, attr);
    return def && { extension: canonical === schema.core ? null : canonical, def };
  }
  const core = findAttr(schema.attrs, attr);
  if (core) return { extension: null, def: core };
  for (const [extension, defs] of schema.extensions) {
    const def = findAttr(defs, attr);
    if (def) return { extension, def };
  }
  return undefined;
}

/** A value of one attribute (single or multi-valued), canonical; undefined means absent. */
export function canonicalValue(def: AttrDef, value: unknown, where: string): Json | undefined {
  if (value === null || value === undefined) return undefined;
  if (def.multiValued) {
    const items = Array.isArray(value) ? value : [value];
    const out: Json[] = [];
    for (const [i, item] of items.entries()) {
      const v = single(def, item, `${where}[${i}]`);
      if (v !== undefined) out.push(v);
    }
    return out.length === 0 ? undefined : out;
  }
  // A one-element list for a single-valued complex attribute: Entra's legacy manager update.
  if (Array.isArray(value) && def.type === 'complex' && value.length <= 1) return value.length === 0 ? undefined : single(def, value[0], where);
  return single(def, value, where);
}

function single(def: AttrDef, value: unknown, where: string): Json | undefined {
  if (value === null || value === undefined) return undefined;
  switch (def.type) {
    case 'complex': {
      // A bare string for a complex attribute names its value (`manager: "<id>"`).
      const object = typeof value === 'string' && findAttr(def.subAttributes, 'value') ? { value } : value;
      if (!isObject(object)) throw badRequest('invalidValue', `${where} must be an object`);
      const out: JsonObject = {};
      for (const [key, inner] of Object.entries(object)) {
        const sub = findAttr(def.subAttributes, key);
        if (!sub || sub.mutability === 'readOnly' && def.mutability !== 'readOnly') continue;
        const v = single({ ...sub, multiValued: false }, inner, `${where}.${sub.name}`);
        if (v !== undefined) out[sub.name] = v;
      }
      return Object.keys(out).length === 0 ? undefined : out;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      // Entra without aadOptscim062020 sends "True"/"False".
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      throw badRequest('invalidValue', `${where} must be a boolean, not ${show(value)}`);
    case 'integer':
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      throw badRequest('invalidValue', `${where} must be an integer, not ${show(value)}`);
    case 'decimal':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      throw badRequest('invalidValue', `${where} must be a number, not ${show(value)}`);
    case 'dateTime':
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      throw badRequest('invalidValue', `${where} must be an xsd:dateTime, not ${show(value)}`);
    default:
      if (typeof value !== 'string') throw badRequest('invalidValue', `${where} must be a string, not ${show(value)}`);
      if (value.length > MAX_STRING_CHARS) throw badRequest('invalidValue', `${where} is ${value.length} characters long; at most ${MAX_STRING_CHARS} are kept`);
      return value;
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Whether an attribute is one a client may write (read-only ones are ignored, the password is dropped). */
export function writable(def: AttrDef): boolean {
  return def.mutability !== 'readOnly' && def.mutability !== 'writeOnly';
}

/**
 * A POST or PUT body to the canonical resource attributes (no id, meta or
 * groups: the server sets those). The `schemas` list must name the core
 * schema and nothing Tether does not serve.
 */
export function canonicalResource(schema: ResourceSchema, body: unknown): JsonObject {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'the body must be a JSON object');
  const listed = body.schemas;
  if (!Array.isArray(listed) || listed.length === 0 || !listed.every((s) => typeof s === 'string')) {
    throw badRequest('invalidSyntax', `schemas must list ${schema.core}`);
  }
  const urns = new Set<string>();
  for (const urn of listed as string[]) {
    const canonical = canonicalUrn(schema, urn);
    if (canonical === undefined) throw badRequest('invalidSyntax', `schema ${show(urn)} is not one Tether serves for ${schema.type} (${[schema.core, ...schema.extensions.keys()].join(', ')})`);
    urns.add(canonical);
  }
  if (!urns.has(schema.core)) throw badRequest('invalidSyntax', `schemas must list ${schema.core}`);

  const out: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.toLowerCase() === 'schemas') continue;
    const extension = canonicalUrn(schema, key);
    if (extension !== undefined && extension !== schema.core) {
      if (value === null) continue;
      if (!isObject(value)) throw badRequest('invalidValue', `${key} must be an object`);
      const ext = canonicalAttributes(schema.extensions.get(extension)!, value, extension);
      if (Object.keys(ext).length > 0) {
        out[extension] = ext;
        urns.add(extension);
      }
      continue;
    }
    const def = findAttr(schema.attrs, key);
    if (!def || !writable(def)) continue;
    const v = canonicalValue(def, value, def.name);
    if (v !== undefined) out[def.name] = v;
  }
  out.schemas = [...urns].filter((u) => u === schema.core || out[u] !== undefined);
  for (const def of schema.attrs) {
    if (def.required && (typeof out[def.name] !== 'string' || (out[def.name] as string).trim() === '')) {
      throw badRequest('invalidValue', `${def.name} is required`);
    }
  }
  return out;
}

function canonicalAttributes(defs: readonly AttrDef[], body: JsonObject, where: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    const def = findAttr(defs, key);
    if (!def || !writable(def)) continue;
    const v = canonicalValue(def, value, `${where}:${def.name}`);
    if (v !== undefined) out[def.name] = v;
  }
  return out;
}

/** A deep copy of JSON data. */
export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Deep equality of JSON data, object key order ignored. */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}
