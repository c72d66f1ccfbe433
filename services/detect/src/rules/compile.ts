// A rule's conditions compiled once into closures over an event. Each leaf
// resolves its field to an accessor, checks its operator and operand against
// the field's type, and builds one small function; rule text is never
// evaluated. Problems carry the path into the rule document so the loader can
// name the line.
import { parseRfc3339 } from '#source';
import type { EnrichedAccessEvent } from '#schemas';
import { accessor, FIELDS, suggestFields, type FieldSpec, type FieldValue } from './fields.ts';
import { compileRegex, MAX_SUBJECT_CHARS } from './regex.ts';
import { OPERATORS, type Condition, type Leaf, type Operator } from './schema.ts';

export type Predicate = (event: EnrichedAccessEvent) => boolean;
export type Path = ReadonlyArray<string | number>;

export class RuleProblem extends Error {
  readonly path: Path;
  constructor(path: Path, message: string) {
    super(message);
    this.path = path;
  }
}

/** A catalogued field, or a problem naming close ones. */
export function fieldSpec(path: Path, name: string): FieldSpec {
  const spec = FIELDS.get(name);
  if (spec) return spec;
  const close = suggestFields(name);
  throw new RuleProblem(path, `unknown field "${name}"${close.length ? ` (did you mean ${close.map((c) => `"${c}"`).join(', ')}?)` : ''}; fields are the dotted paths of EnrichedAccessEvent (schemas/EnrichedAccessEvent.avsc) and derived.*`);
}

export function compileCondition(condition: Condition, path: Path): Predicate {
  if ('and' in condition) {
    const parts = condition.and.map((c, i) => compileCondition(c, [...path, 'and', i]));
    return (e) => {
      for (const p of parts) if (!p(e)) return false;
      return true;
    };
  }
  if ('or' in condition) {
    const parts = condition.or.map((c, i) => compileCondition(c, [...path, 'or', i]));
    return (e) => {
      for (const p of parts) if (p(e)) return true;
      return false;
    };
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not, [...path, 'not']);
    return (e) => !inner(e);
  }
  return compileLeaf(condition, path);
}

type Test = (value: string | number | boolean) => boolean;

function compileLeaf(leaf: Leaf, path: Path): Predicate {
  const spec = fieldSpec([...path, 'field'], leaf.field);
  const op = OPERATORS.find((o) => leaf[o] !== undefined)!;
  const at = [...path, op];
  const get = accessor(leaf.field);

  if (op === 'is_null') {
    if (spec.list) throw new RuleProblem(at, `"${leaf.field}" is a list, never null: use is_empty`);
    const want = leaf.is_null!;
    return (e) => (get(e) === null) === want;
  }
  if (op === 'is_empty') {
    if (!spec.list) throw new RuleProblem(at, `"${leaf.field}" is not a list: use is_null`);
    const want = leaf.is_empty!;
    return (e) => ((get(e) as readonly unknown[]).length === 0) === want;
  }
  if (spec.type === 'record') throw new RuleProblem([...path, 'field'], `"${leaf.field}" is a record: compare one of its fields, or test it with is_null`);
  if (leaf.quantifier !== undefined && !spec.list) throw new RuleProblem([...path, 'quantifier'], `quantifier applies to list fields; "${leaf.field}" is not one`);
  if (leaf.nocase !== undefined && spec.type !== 'string') throw new RuleProblem([...path, 'nocase'], `nocase applies to string fields; "${leaf.field}" is ${spec.type}`);

  const test = elementTest(leaf, op, spec, at);
  if (!spec.list) {
    return (e) => {
      const v = get(e);
      return v !== null && test(v as string | number | boolean);
    };
  }
  const quantifier = leaf.quantifier ?? 'any';
  return (e) => {
    const values = get(e) as readonly (string | number | boolean | null)[];
    if (quantifier === 'any') {
      for (const v of values) if (v !== null && test(v)) return true;
      return false;
    }
    if (quantifier === 'none') {
      for (const v of values) if (v !== null && test(v)) return false;
      return true;
    }
    // all: vacuously false on an empty list, which is never what a rule means by "all".
    if (values.length === 0) return false;
    for (const v of values) if (v === null || !test(v)) return false;
    return true;
  };
}

function elementTest(leaf: Leaf, op: Operator, spec: FieldSpec, at: Path): Test {
  const nocase = leaf.nocase === true;
  const fold = (s: string) => (nocase ? s.toLowerCase() : s);
  switch (op) {
    case 'eq':
    case 'ne': {
      const operand = typed(leaf[op]!, spec, at);
      const want = op === 'eq';
      if (typeof operand === 'string') {
        const o = fold(operand);
        return (v) => (fold(v as string) === o) === want;
      }
      return (v) => (v === operand) === want;
    }
    case 'in':
    case 'not_in': {
      const items = leaf[op]!.map((item, i) => typed(item, spec, [...at, i]));
      const set = new Set(items.map((i) => (typeof i === 'string' ? fold(i) : i)));
      const want = op === 'in';
      return (v) => set.has(typeof v === 'string' ? fold(v) : v) === want;
    }
    case 'prefix':
    case 'suffix':
    case 'contains': {
      if (spec.type !== 'string') throw new RuleProblem(at, `${op} applies to string fields; "${leaf.field}" is ${spec.type}`);
      const raw = leaf[op]!;
      const needles = (Array.isArray(raw) ? raw : [raw]).map(fold);
      const hit = op === 'prefix' ? (s: string, n: string) => s.startsWith(n) : op === 'suffix' ? (s: string, n: string) => s.endsWith(n) : (s: string, n: string) => s.includes(n);
      return (v) => {
        const s = fold(v as string);
        for (const n of needles) if (hit(s, n)) return true;
        return false;
      };
    }
    case 'regex': {
      if (spec.type !== 'string') throw new RuleProblem(at, `regex applies to string fields; "${leaf.field}" is ${spec.type}`);
      const compiled = compileRegex(leaf.regex!, nocase);
      if (!compiled.ok) throw new RuleProblem(at, compiled.reason);
      const { regex } = compiled;
      return (v) => {
        const s = v as string;
        return regex.test(s.length > MAX_SUBJECT_CHARS ? s.slice(0, MAX_SUBJECT_CHARS) : s);
      };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'before':
    case 'after': {
      if (spec.type !== 'number' && spec.type !== 'time') throw new RuleProblem(at, `${op} applies to number and time fields; "${leaf.field}" is ${spec.type}`);
      if ((op === 'before' || op === 'after') && spec.type !== 'time') throw new RuleProblem(at, `${op} applies to time fields; "${leaf.field}" is a number: use gt/lt`);
      const bound = spec.type === 'time' ? timeOperand(leaf[op]!, at) : numberOperand(leaf[op]!, at);
      if (op === 'gt' || op === 'after') return (v) => (v as number) > bound;
      if (op === 'gte') return (v) => (v as number) >= bound;
      if (op === 'lt' || op === 'before') return (v) => (v as number) < bound;
      return (v) => (v as number) <= bound;
    }
    default:
      throw new RuleProblem(at, `operator ${op} is not supported here`);
  }
}

/** An operand of eq / ne / in, of the field's own type (times as RFC 3339 text or epoch ms). */
function typed(value: string | number | boolean, spec: FieldSpec, at: Path): string | number | boolean {
  if (spec.type === 'time') return timeOperand(value, at);
  const want = spec.type === 'number' ? 'number' : spec.type === 'boolean' ? 'boolean' : 'string';
  if (typeof value !== want) throw new RuleProblem(at, `the field is ${spec.type}; ${JSON.stringify(value)} is a ${typeof value}`);
  return value;
}

function numberOperand(value: string | number | boolean, at: Path): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RuleProblem(at, `expected a number, got ${JSON.stringify(value)}`);
  return value;
}

/** Epoch ms, or an RFC 3339 date-time with a zone. */
export function timeOperand(value: string | number | boolean, at: Path): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string') {
    const parsed = parseRfc3339(value);
    if (parsed.ok) return parsed.ms;
    throw new RuleProblem(at, parsed.reason);
  }
  throw new RuleProblem(at, `expected a time (RFC 3339 with a zone, or epoch ms), got ${JSON.stringify(value)}`);
}

/** A getter for group_by / value fields: scalar fields only, rendered as text. */
export function keyAccessor(path: Path, name: string): (event: EnrichedAccessEvent) => string | null {
  const spec = fieldSpec(path, name);
  if (spec.list || spec.type === 'record') throw new RuleProblem(path, `"${name}" cannot group: use a field with one value (not a list or a record)`);
  const get = accessor(name);
  return (e) => {
    const v = get(e) as FieldValue;
    return v === null ? null : String(v);
  };
}
