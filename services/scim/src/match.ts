// Evaluates a parsed filter against a canonical resource (RFC 7644
// §3.4.2.2): a multi-valued attribute matches when any value does (a
// complex one through its `value`), strings compare case-insensitively
// unless the attribute is caseExact, gt/ge/lt/le on dateTime attributes
// compare instants, and an unassigned attribute only matches `ne` and
// `eq null`. Pure.
import { isObject, locate, type Json, type JsonObject } from './canonical.ts';
import type { AttrPath, CompareOp, Filter, Scalar } from './filter.ts';
import { badRequest } from './scim-error.ts';
import { findAttr, type AttrDef, type ResourceSchema } from './schema.ts';

export function matches(filter: Filter, resource: JsonObject, schema: ResourceSchema): boolean {
  return evaluate(filter, { resource, schema, defs: null });
}

interface Scope {
  resource: JsonObject;
  schema: ResourceSchema;
  /** Inside a value filter: the element's sub-attributes (names resolve there, not at the top). */
  defs: readonly AttrDef[] | null;
}

function evaluate(filter: Filter, scope: Scope): boolean {
  switch (filter.kind) {
    case 'and': return evaluate(filter.left, scope) && evaluate(filter.right, scope);
    case 'or': return evaluate(filter.left, scope) || evaluate(filter.right, scope);
    case 'not': return !evaluate(filter.filter, scope);
    case 'present': {
      const { values } = resolve(filter.path, scope);
      return values.some(present);
    }
    case 'compare': {
      const { def, values } = resolve(filter.path, scope);
      return compareAll(def, values, filter.op, filter.value);
    }
    case 'valuePath': {
      const { def, values } = resolve(filter.path, scope, true);
      if (def.type !== 'complex') throw badRequest('invalidFilter', `${def.name} has no sub-attributes to filter on`);
      const elements = values.filter(isObject);
      return elements.some((element) => {
        if (!evaluate(filter.filter, { resource: element, schema: scope.schema, defs: def.subAttributes ?? [] })) return false;
        if (filter.then === null) return true;
        const sub = findAttr(def.subAttributes, filter.then.sub);
        if (!sub) throw badRequest('invalidFilter', `${def.name} has no sub-attribute ${filter.then.sub}`);
        const value = lookup(element, sub.name);
        const test = filter.then.test;
        return test === 'pr' ? value.some(present) : compareAll(sub, value, test.op, test.value);
      });
    }
  }
}

/** The attribute's definition and its values (flattened across a multi-valued attribute). */
function resolve(path: AttrPath, scope: Scope, elements = false): { def: AttrDef; values: Json[] } {
  let def: AttrDef | undefined;
  let holder: JsonObject | undefined;
  if (scope.defs !== null) {
    def = findAttr(scope.defs, path.attr);
    holder = scope.resource;
  } else {
    const at = locate(scope.schema, path.urn, path.attr);
    def = at?.def;
    if (at) holder = at.extension === null ? scope.resource : (isObject(scope.resource[at.extension]) ? scope.resource[at.extension] as JsonObject : undefined);
  }
  if (!def) throw badRequest('invalidFilter', `${scope.schema.type} has no attribute ${[path.urn, path.attr].filter(Boolean).join(':')}`);
  let values = holder ? lookup(holder, def.name) : [];
  if (path.sub !== null) {
    const sub = findAttr(def.subAttributes, path.sub);
    if (!sub) throw badRequest('invalidFilter', `${def.name} has no sub-attribute ${path.sub}`);
    return { def: sub, values: values.filter(isObject).flatMap((v) => lookup(v, sub.name)) };
  }
  // Comparing a complex attribute compares its `value` (RFC 7644 §3.4.2.2: `emails co "x"`).
  if (def.type === 'complex' && !elements) {
    const valueDef = findAttr(def.subAttributes, 'value');
    if (valueDef) values = values.map((v) => (isObject(v) ? (v.value ?? null) : v));
    return { def: valueDef ?? def, values };
  }
  return { def, values };
}

function lookup(holder: JsonObject, name: string): Json[] {
  const value = holder[name];
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function present(value: Json): boolean {
  return value !== null && value !== '' && !(Array.isArray(value) && value.length === 0) && !(isObject(value) && Object.keys(value).length === 0);
}

function compareAll(def: AttrDef, values: Json[], op: CompareOp, wanted: Scalar): boolean {
  if (op === 'ne') return !values.some((v) => compare(def, v, 'eq', wanted));
  if (values.length === 0) return op === 'eq' && wanted === null;
  return values.some((v) => compare(def, v, op, wanted));
}

function compare(def: AttrDef, actual: Json, op: CompareOp, wanted: Scalar): boolean {
  if (wanted === null) return op === 'eq' && actual === null;
  if (typeof wanted === 'boolean') {
    if (op !== 'eq') throw badRequest('invalidFilter', `${op} cannot compare a boolean (${def.name})`);
    return actual === wanted;
  }
  if (def.type === 'dateTime' && typeof actual === 'string' && typeof wanted === 'string') {
    const a = Date.parse(actual);
    const w = Date.parse(wanted);
    if (Number.isNaN(w)) throw badRequest('invalidFilter', `${JSON.stringify(wanted)} is not a dateTime (${def.name})`);
    return order(a, w, op) ?? textCompare(actual, wanted, op, true);
  }
  if (typeof actual === 'number' && typeof wanted === 'number') return order(actual, wanted, op) ?? false;
  if (typeof actual === 'boolean') {
    if (op !== 'eq' && op !== 'co' && op !== 'sw' && op !== 'ew' && def.type === 'boolean') throw badRequest('invalidFilter', `${op} cannot compare a boolean (${def.name})`);
    return false;
  }
  if (typeof actual !== 'string') return false;
  return textCompare(actual, String(wanted), op, def.caseExact);
}

function order(a: number, b: number, op: CompareOp): boolean | undefined {
  switch (op) {
    case 'eq': return a === b;
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    case 'le': return a <= b;
    default: return undefined;
  }
}

function textCompare(actual: string, wanted: string, op: CompareOp, caseExact: boolean): boolean {
  const a = caseExact ? actual : actual.toLowerCase();
  const w = caseExact ? wanted : wanted.toLowerCase();
  switch (op) {
    case 'eq': return a === w;
    case 'ne': return a !== w;
    case 'co': return a.includes(w);
    case 'sw': return a.startsWith(w);
    case 'ew': return a.endsWith(w);
    case 'gt': return a > w;
    case 'ge': return a >= w;
    case 'lt': return a < w;
    case 'le': return a <= w;
  }
}

/**
 * Equality filters that pin one indexed attribute (`userName eq "x"`, `id eq
 * "x"`, `externalId eq "x"`, alone or and-ed with more): the candidates can be
 * looked up instead of scanned. Undefined when the filter cannot be narrowed.
 */
export function pinnedEquality(filter: Filter): { attr: 'id' | 'username' | 'externalid' | 'displayname'; value: string } | undefined {
  if (filter.kind === 'and') return pinnedEquality(filter.left) ?? pinnedEquality(filter.right);
  if (filter.kind !== 'compare' || filter.op !== 'eq' || typeof filter.value !== 'string' || filter.path.sub !== null) return undefined;
  const attr = filter.path.attr.toLowerCase();
  return attr === 'id' || attr === 'username' || attr === 'externalid' || attr === 'displayname' ? { attr, value: filter.value } : undefined;
}
