// A rule's summary line: text with {field.path} placeholders, plus {count}
// (triggering events), {group} (the group's values) and {value} (the value
// first seen). Compiled once; values are cut and cleaned so a hostile field
// cannot forge a line or hide text in a terminal or a ticket.
import type { EnrichedAccessEvent } from '#schemas';
import { accessor } from './fields.ts';
import { fieldSpec, RuleProblem, type Path } from './compile.ts';

export interface SummaryContext {
  count: number;
  group: readonly string[];
  value: string | null;
}

export type Summary = (event: EnrichedAccessEvent, context: SummaryContext) => string;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const MAX_VALUE_CHARS = 120;
// C0/C1 controls, DEL, zero-width and bidi marks, line/paragraph separators, BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

export function cleanValue(value: string): string {
  const clean = value.replace(UNSAFE, '');
  return clean.length > MAX_VALUE_CHARS ? `${clean.slice(0, MAX_VALUE_CHARS - 1)}…` : clean;
}

function render(value: unknown): string {
  if (value === null || value === undefined) return 'unknown';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => render(v)).join(', ');
  return String(value);
}

export function compileSummary(text: string, path: Path): Summary {
  const parts: Array<string | ((e: EnrichedAccessEvent, c: SummaryContext) => string)> = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(text.slice(last, m.index));
    last = m.index + m[0].length;
    const name = m[1]!.trim();
    if (name === 'count') parts.push((_e, c) => String(c.count));
    else if (name === 'group') parts.push((_e, c) => render(c.group));
    else if (name === 'value') parts.push((_e, c) => render(c.value));
    else {
      const spec = fieldSpec(path, name);
      if (spec.type === 'record') throw new RuleProblem(path, `{${name}} is a record: name one of its fields`);
      const get = accessor(name);
      parts.push((e) => render(get(e)));
    }
  }
  parts.push(text.slice(last));
  if (/[{}]/.test(parts.filter((p) => typeof p === 'string').join(''))) throw new RuleProblem(path, 'an unmatched { or } in the summary');
  return (event, context) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : cleanValue(p(event, context));
    return out;
  };
}
