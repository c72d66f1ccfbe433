// RFC 7644 §3.5.2 PATCH on a canonical resource, in both dialects real IdPs
// send (reference §5.4):
// - Okta: operations without a path whose value is an attribute object
//   (`{"op":"replace","value":{"active":false}}`, a group rename carrying its
//   own id);
// - Entra: capitalised ops (`Replace`), paths with value filters
//   (`emails[type eq "work"].value`, no match creates the item), string
//   booleans ("False"), dotted and URN keys inside a path-less value
//   (aadOptscim062020), the legacy `manager` path with a one-element list,
//   and legacy member removal by value list.
// All operations apply to a copy, or none do: any error leaves the resource
// as it was. Pure: resource and operations in, the new resource out.
import { canonicalValue, clone, isObject, locate, sameJson, writable, type Json, type JsonObject } from './canonical.ts';
import { parsePatchPath, type Filter, type PatchPath } from './filter.ts';
import { matches } from './match.ts';
import { badRequest } from './scim-error.ts';
import { PATCH_SCHEMA, findAttr, type AttrDef, type ResourceSchema } from './schema.ts';

export type PatchOpName = 'add' | 'replace' | 'remove';

/** Most operations in one request; Okta and Entra send a handful. */
export const MAX_OPERATIONS = 1_000;

interface Operation {
  op: PatchOpName;
  path: string | null;
  value: unknown;
}

/** Checks the PatchOp envelope; ops are lower-cased (Entra sends `Replace`). */
export function readPatchRequest(body: unknown): Operation[] {
  if (!isObject(body)) throw badRequest('invalidSyntax', 'the body must be a JSON object');
  const schemas = body.schemas;
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase())) {
    throw badRequest('invalidSyntax', `schemas must list ${PATCH_SCHEMA}`);
  }
  const operations = Object.entries(body).find(([k]) => k.toLowerCase() === 'operations')?.[1];
  if (!Array.isArray(operations) || operations.length === 0) throw badRequest('invalidSyntax', 'Operations must be a non-empty list');
  if (operations.length > MAX_OPERATIONS) throw badRequest('invalidSyntax', `at most ${MAX_OPERATIONS} operations are applied in one request`);
  return operations.map((raw, i) => {
    if (!isObject(raw)) throw badRequest('invalidSyntax', `Operations[${i}] must be an object`);
    const field = (name: string) => Object.entries(raw).find(([k]) => k.toLowerCase() === name)?.[1];
    const op = field('op');
    if (typeof op !== 'string' || !['add', 'replace', 'remove'].includes(op.toLowerCase())) {
      throw badRequest('invalidSyntax', `Operations[${i}].op must be add, replace or remove`);
    }
    const path = field('path');
    if (path !== undefined && path !== null && typeof path !== 'string') throw badRequest('invalidPath', `Operations[${i}].path must be a string`);
    return { op: op.toLowerCase() as PatchOpName, path: typeof path === 'string' && path.trim() !== '' ? path : null, value: field('value') };
  });
}

export function applyPatch(schema: ResourceSchema, resource: JsonObject, body: unknown): JsonObject {
  const operations = readPatchRequest(body);
  const out = clone(resource);
  for (const [i, operation] of operations.entries()) {
    try {
      applyOne(schema, out, operation);
    } catch (err) {
      if (err instanceof Error) err.message = `Operations[${i}]: ${err.message}`;
      throw err;
    }
  }
  return out;
}

function applyOne(schema: ResourceSchema, resource: JsonObject, { op, path, value }: Operation): void {
  if (path === null) {
    if (op === 'remove') throw badRequest('noTarget', 'remove needs a path');
    if (!isObject(value)) throw badRequest('invalidValue', `${op} without a path needs an object of attributes as its value`);
    // Each key is a path of its own: a plain name, a dotted sub-attribute, a URN-qualified one, or an extension URN with an object.
    for (const [key, inner] of Object.entries(value)) {
      const urn = schema.extensions.has(key) ? key : [...schema.extensions.keys()].find((u) => u.toLowerCase() === key.toLowerCase());
      if (urn !== undefined && isObject(inner)) {
        for (const [extKey, extValue] of Object.entries(inner)) applyPath(schema, resource, op, { path: { urn, attr: extKey, sub: null }, filter: null, sub: null }, extValue);
        continue;
      }
      applyPath(schema, resource, op, parsePatchPath(key), inner);
    }
    return;
  }
  applyPath(schema, resource, op, parsePatchPath(path), value);
}

function applyPath(schema: ResourceSchema, resource: JsonObject, op: PatchOpName, target: PatchPath, value: unknown): void {
  const at = locate(schema, target.path.urn, target.path.attr);
  if (!at) throw badRequest('invalidPath', `${schema.type} has no attribute ${[target.path.urn, target.path.attr].filter(Boolean).join(':')}`);
  const def = at.def;
  if (def.mutability === 'writeOnly') return; // the password: accepted, never kept
  if (def.mutability === 'readOnly') {
    // Okta renames a group with {"id": "<its id>", "displayName": …}: naming a read-only value as it is changes nothing.
    const current = resource[def.name];
    if (op !== 'remove' && (current === undefined || sameJson(current, value as Json))) return;
    if (def.name === 'meta' || def.name === 'groups') return;
    throw badRequest('mutability', `${def.name} is read-only`);
  }
  const holder = holderFor(resource, at.extension, op !== 'remove');
  if (!holder) return;

  const subName = target.path.sub ?? target.sub;
  const sub = subName === null ? null : (findAttr(def.subAttributes, subName) ?? null);
  if (subName !== null && sub === null) throw badRequest('invalidPath', `${def.name} has no sub-attribute ${subName}`);
  if (sub && !writable(sub)) return;

  if (target.filter !== null) {
    if (!def.multiValued) throw badRequest('invalidPath', `${def.name} is not multi-valued: it takes no value filter`);
    filtered(schema, holder, def, target.filter, sub, op, value);
  } else if (sub) {
    subAttribute(holder, def, sub, op, value);
  } else {
    whole(holder, def, op, value);
  }
  if (at.extension !== null) tidyExtension(resource, at.extension);
}

function holderFor(resource: JsonObject, extension: string | null, create: boolean): JsonObject | undefined {
  if (extension === null) return resource;
  if (!isObject(resource[extension])) {
    if (!create) return undefined;
    resource[extension] = {};
  }
  return resource[extension] as JsonObject;
}

function tidyExtension(resource: JsonObject, extension: string): void {
  const ext = resource[extension];
  const schemas = (resource.schemas as string[] | undefined) ?? [];
  if (isObject(ext) && Object.keys(ext).length === 0) {
    delete resource[extension];
    resource.schemas = schemas.filter((s) => s !== extension);
  } else if (!schemas.includes(extension)) {
    resource.schemas = [...schemas, extension];
  }
}

/** add / replace / remove of a whole attribute. */
function whole(holder: JsonObject, def: AttrDef, op: PatchOpName, value: unknown): void {
  if (op === 'remove') {
    if (def.multiValued && value !== undefined && value !== null) {
      // Entra's legacy member removal: {"op":"Remove","path":"members","value":[{"value":"<id>"}]}.
      const gone = canonicalValue(def, value, def.name) as Json[] | undefined;
      const current = (holder[def.name] as Json[] | undefined) ?? [];
      const kept = current.filter((item) => !(gone ?? []).some((g) => sameItem(def, g, item)));
      setOrDelete(holder, def.name, kept);
      return;
    }
    if (def.required) throw badRequest('mutability', `${def.name} is required and cannot be removed`);
    delete holder[def.name];
    return;
  }
  const v = canonicalValue(def, value, def.name);
  if (v === undefined) {
    if (op === 'replace' && !def.required) delete holder[def.name];
    else if (op === 'replace') throw badRequest('invalidValue', `${def.name} is required`);
    return;
  }
  if (def.multiValued) {
    const items = v as Json[];
    if (op === 'replace') {
      holder[def.name] = dedupe(def, items);
    } else {
      const current = (holder[def.name] as Json[] | undefined) ?? [];
      holder[def.name] = dedupe(def, [...current, ...items]);
    }
    settlePrimary(holder, def);
  } else if (def.type === 'complex' && isObject(v) && isObject(holder[def.name])) {
    // A complex single value: the given sub-attributes replace theirs, the others stay (RFC 7644 §3.5.2.3).
    holder[def.name] = { ...(holder[def.name] as JsonObject), ...v };
  } else {
    holder[def.name] = v;
  }
}

/** `name.familyName`: a sub-attribute of a single complex attribute (of every value, for a multi-valued one). */
function subAttribute(holder: JsonObject, def: AttrDef, sub: AttrDef, op: PatchOpName, value: unknown): void {
  if (def.multiValued) {
    const items = ((holder[def.name] as Json[] | undefined) ?? []).filter(isObject);
    for (const item of items) setSub(item, sub, op, value);
    setOrDelete(holder, def.name, items.filter((i) => Object.keys(i).length > 0));
    return;
  }
  const current = isObject(holder[def.name]) ? (holder[def.name] as JsonObject) : {};
  setSub(current, sub, op, value);
  if (Object.keys(current).length === 0) delete holder[def.name];
  else holder[def.name] = current;
}

function setSub(item: JsonObject, sub: AttrDef, op: PatchOpName, value: unknown): void {
  if (op === 'remove') {
    delete item[sub.name];
    return;
  }
  const v = canonicalValue({ ...sub, multiValued: false }, value, sub.name);
  if (v === undefined) delete item[sub.name];
  else item[sub.name] = v;
}

/** `emails[type eq "work"]` and `emails[type eq "work"].value`. */
function filtered(schema: ResourceSchema, holder: JsonObject, def: AttrDef, filter: Filter, sub: AttrDef | null, op: PatchOpName, value: unknown): void {
  const items = ((holder[def.name] as Json[] | undefined) ?? []).map((i) => (isObject(i) ? i : { value: i }));
  const elementSchema: ResourceSchema = { ...schema, attrs: def.subAttributes ?? [], extensions: new Map() };
  const hit = items.map((item) => matches(filter, item, elementSchema));
  if (op === 'remove') {
    const kept = items.flatMap((item, i) => {
      if (!hit[i]) return [item];
      if (sub === null) return [];
      delete item[sub.name];
      return Object.keys(item).length > 0 ? [item] : [];
    });
    setOrDelete(holder, def.name, kept);
    return;
  }
  if (!hit.some(Boolean)) {
    // Entra: no match creates the item the filter describes (reference §5.4); the RFC would answer noTarget.
    const seed = seedFromFilter(filter);
    if (seed === undefined) throw badRequest('noTarget', `no ${def.name} value matches the filter`);
    const created = sub === null ? { ...seed, ...(canonicalValue({ ...def, multiValued: false }, value, def.name) as JsonObject | undefined) } : seed;
    if (sub !== null) setSub(created, sub, op, value);
    items.push(created);
    holder[def.name] = dedupe(def, items);
    settlePrimary(holder, def);
    return;
  }
  items.forEach((item, i) => {
    if (!hit[i]) return;
    if (sub !== null) setSub(item, sub, op, value);
    else {
      const v = canonicalValue({ ...def, multiValued: false }, value, def.name);
      if (!isObject(v)) throw badRequest('invalidValue', `${def.name} values are objects`);
      if (op === 'replace') {
        for (const key of Object.keys(item)) delete item[key];
      }
      Object.assign(item, v);
    }
  });
  holder[def.name] = dedupe(def, items);
  settlePrimary(holder, def);
}

/** The item a filter of and-ed equalities describes (`type eq "work"` -> {type: "work"}); undefined for anything else. */
function seedFromFilter(filter: Filter): JsonObject | undefined {
  if (filter.kind === 'and') {
    const left = seedFromFilter(filter.left);
    const right = seedFromFilter(filter.right);
    return left && right ? { ...left, ...right } : undefined;
  }
  if (filter.kind === 'compare' && filter.op === 'eq' && filter.path.sub === null && filter.value !== null) {
    return { [filter.path.attr]: filter.value };
  }
  return undefined;
}

function sameItem(def: AttrDef, a: Json, b: Json): boolean {
  // Members and multi-valued values are the same item when their values are (display, $ref may differ).
  if (isObject(a) && isObject(b) && a.value !== undefined && b.value !== undefined) {
    const caseExact = findAttr(def.subAttributes, 'value')?.caseExact ?? false;
    return caseExact || typeof a.value !== 'string' || typeof b.value !== 'string' ? sameJson(a.value, b.value) && (def.name === 'members' || sameJson(a.type, b.type)) : a.value.toLowerCase() === b.value.toLowerCase() && (def.name === 'members' || sameJson(a.type, b.type));
  }
  return sameJson(a, b);
}

/** Adding a value already there changes nothing (RFC 7644 §3.5.2.1): later copies of an item fold into the first. */
function dedupe(def: AttrDef, items: Json[]): Json[] {
  const out: Json[] = [];
  for (const item of items) {
    const at = out.findIndex((o) => sameItem(def, o, item));
    if (at < 0) out.push(item);
    else if (isObject(out[at]) && isObject(item)) out[at] = { ...(out[at] as JsonObject), ...item };
  }
  return out;
}

/** At most one value is primary: the last one set wins (RFC 7643 §2.4). */
function settlePrimary(holder: JsonObject, def: AttrDef): void {
  const items = holder[def.name];
  if (!Array.isArray(items)) return;
  const primaries = items.filter((i) => isObject(i) && i.primary === true);
  for (const p of primaries.slice(0, -1)) (p as JsonObject).primary = false;
}

function setOrDelete(holder: JsonObject, name: string, items: Json[]): void {
  if (items.length === 0) delete holder[name];
  else holder[name] = items;
}
