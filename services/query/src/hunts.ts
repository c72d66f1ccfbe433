// Saved SOC hunts: one SQL file each in services/query/hunts/, opened by a
// comment header that declares the title and the typed parameters:
//
//   -- title: AI admin actions from unmanaged devices
//   -- description: one or more lines of why and what
//   -- param since DateTime
//   -- param limit UInt64 default 1000
//
// The header and the placeholders must agree exactly, so a hunt cannot
// reach the binder with an undeclared or mistyped parameter.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tetherError } from '#errors';
import { bindQuery, formatValue, isParamName, isParamType, placeholders, type ParamType, type Params, type ParamValue } from './bind.ts';

export interface HuntParam {
  name: string;
  type: ParamType;
  /** Text of the default, validated for its type when the hunt is loaded. */
  default: string | null;
}

export interface Hunt {
  name: string;
  title: string;
  description: string;
  params: HuntParam[];
  /** Parameters the SQL uses as a regular expression (match(), extract(), ...): checked before the query runs. */
  regexParams: ReadonlySet<string>;
  sql: string;
}

export const HUNTS_DIR = path.resolve(import.meta.dirname, '../hunts');
const HUNT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const CHECK_DATE = new Date(Date.UTC(2000, 0, 1));

/** Parses and checks one hunt file's text. */
export function parseHunt(name: string, text: string): Hunt {
  const fail = (message: string) => tetherError('TETHER_QUERY_BIND', `hunt "${name}": ${message}`, { context: { hunt: name } });
  if (!HUNT_NAME.test(name)) throw fail('names are lower-case letters, digits and dashes');
  let title = '';
  const description: string[] = [];
  const params: HuntParam[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break;
    const body = trimmed.slice(2).trim();
    const field = /^(title|description):\s*(.*)$/.exec(body);
    if (field?.[1] === 'title') title = field[2]!;
    else if (field?.[1] === 'description') description.push(field[2]!);
    else if (body.startsWith('param ')) params.push(parseParamLine(body, fail));
  }
  if (!title) throw fail('the header needs a "-- title:" line');
  const used = placeholders(text);
  for (const p of used) {
    const declared = params.find((d) => d.name === p.name);
    if (!declared) throw fail(`placeholder {${p.name}:${p.type}} is not declared in the header`);
    if (declared.type !== p.type) throw fail(`parameter "${p.name}" is declared ${declared.type} but used as ${p.type}`);
  }
  for (const d of params) {
    if (!used.some((p) => p.name === d.name)) throw fail(`declared parameter "${d.name}" is not used`);
  }
  const regexParams = regexPlaceholders(text);
  const hunt = { name, title, description: description.join(' '), params, regexParams, sql: text };
  for (const p of params) if (p.default !== null && regexParams.has(p.name)) checkRegex(hunt, p.name, p.default);
  return hunt;
}

// ClickHouse functions whose second argument is an RE2 pattern.
const REGEX_FUNCTIONS = /\b(match|extract|extractAll|extractAllGroups|extractGroups|replaceRegexpOne|replaceRegexpAll|countMatches|splitByRegexp)\s*\(\s*[^,()]+,\s*\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*String\s*\}/g;

/** The placeholders a hunt's SQL passes as a pattern to a regular-expression function. */
export function regexPlaceholders(sql: string): Set<string> {
  return new Set([...sql.matchAll(REGEX_FUNCTIONS)].map((m) => m[2]!));
}

// Constructs JavaScript accepts and RE2 (ClickHouse's engine) refuses: lookaround and backreferences.
const NOT_RE2 = /\(\?<?[=!]|\\[1-9]|\\k</;

/**
 * Refuses a pattern ClickHouse could not compile, before the query runs:
 * one that is not a valid regular expression, or that uses lookaround or
 * backreferences, which RE2 does not have.
 */
export function checkRegex(hunt: Pick<Hunt, 'name'>, name: string, pattern: string): void {
  const fail = (why: string) =>
    tetherError('TETHER_QUERY_BIND', `hunt "${hunt.name}": parameter "${name}" is not a valid regular expression (${why}): ${JSON.stringify(pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern)}`, {
      context: { hunt: hunt.name, name },
    });
  try {
    new RegExp(pattern);
  } catch (err) {
    throw fail((err as Error).message.replace(/^Invalid regular expression: \/.*\/: /, ''));
  }
  if (NOT_RE2.test(pattern)) throw fail('lookahead, lookbehind and backreferences are not supported by ClickHouse (RE2)');
}

function parseParamLine(body: string, fail: (m: string) => Error): HuntParam {
  const m = /^param\s+(\S+)\s+(Array\(String\)|\S+)(?:\s+default\s+(.*))?$/.exec(body);
  if (!m || !isParamName(m[1]!)) throw fail(`cannot read "${body}" (expected: param <name> <Type> [default <value>])`);
  const type = m[2]!;
  if (!isParamType(type)) throw fail(`parameter "${m[1]}" has unsupported type ${type}`);
  const fallback = m[3]?.trim() ?? null;
  // Checked against a fixed date: a default must be valid whenever the hunt runs.
  if (fallback !== null) formatValue(type, textValue(type, fallback, CHECK_DATE), m[1]);
  return { name: m[1]!, type, default: fallback };
}

/** Every *.sql file of a directory, parsed; a bad file fails the load. */
export function loadHunts(dir: string = HUNTS_DIR): ReadonlyMap<string, Hunt> {
  const hunts = new Map<string, Hunt>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
    const name = file.slice(0, -'.sql'.length);
    hunts.set(name, parseHunt(name, readFileSync(path.join(dir, file), 'utf8')));
  }
  return hunts;
}

/**
 * Turns text inputs (CLI flags, URL query) into binder values: defaults
 * filled in, lists split, `now-7d` style times resolved against `now`,
 * unknown or missing names refused by name.
 */
export function huntParams(hunt: Hunt, raw: Readonly<Record<string, string | readonly string[]>>, now: Date): Params {
  const out: Record<string, ParamValue> = {};
  const unknown = Object.keys(raw).filter((key) => !hunt.params.some((p) => p.name === key));
  if (unknown.length > 0) {
    throw tetherError('TETHER_QUERY_BIND', `hunt "${hunt.name}" has no parameter ${unknown.map((u) => `"${u}"`).join(', ')} (it takes: ${describeParams(hunt)})`);
  }
  for (const p of hunt.params) {
    const given = raw[p.name];
    if (given !== undefined && hunt.regexParams.has(p.name)) for (const value of typeof given === 'string' ? [given] : given) checkRegex(hunt, p.name, value);
    if (given === undefined) {
      if (p.default === null) throw tetherError('TETHER_QUERY_BIND', `hunt "${hunt.name}" needs parameter "${p.name}" (${p.type})`);
      out[p.name] = textValue(p.type, p.default, now);
    } else if (p.type === 'Array(String)') {
      // A list is comma-separated, or the name repeated, or both: platforms=openai,anthropic == platforms=openai&platforms=anthropic.
      out[p.name] = (typeof given === 'string' ? [given] : given).flatMap(splitList);
    } else if (typeof given === 'string') {
      out[p.name] = textValue(p.type, given, now);
    } else {
      throw tetherError('TETHER_QUERY_BIND', `hunt "${hunt.name}": parameter "${p.name}" (${p.type}) takes one value`);
    }
  }
  return out;
}

export function bindHunt(hunt: Hunt, raw: Readonly<Record<string, string | readonly string[]>>, now: Date): string {
  return bindQuery(hunt.sql, huntParams(hunt, raw, now));
}

export function describeParams(hunt: Hunt): string {
  return hunt.params.map((p) => `${p.name} ${p.type}${p.default === null ? '' : ` = ${p.default}`}`).join(', ') || 'none';
}

const RELATIVE_TIME = /^now(?:\s*-\s*(\d{1,6})\s*([mhd]))?$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A parameter's text as a binder value: lists split, relative times resolved. */
function textValue(type: ParamType, text: string, now: Date): ParamValue {
  if (type === 'Array(String)') return splitList(text);
  const relative = type === 'DateTime' ? RELATIVE_TIME.exec(text.trim()) : null;
  if (relative) {
    const back = relative[1] === undefined ? 0 : Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS];
    return new Date(now.getTime() - back);
  }
  return text;
}

function splitList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}
