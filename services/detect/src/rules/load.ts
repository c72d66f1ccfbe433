// Rule files -> compiled rules. Each *.yaml file of the rules directory holds
// one rule. It is parsed with line positions, checked against the rule
// schema, then compiled; every problem names the file, the line and what is
// wrong, and any problem in any file fails the whole load (a service never
// runs half a pack).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { tetherError } from '#errors';
import type { EnrichedAccessEvent, FindingKind, FindingSeverity } from '#schemas';
import { compileCondition, keyAccessor, RuleProblem, type Path, type Predicate } from './compile.ts';
import { ruleSchema, durationMs, type RuleDocument, type RuleTest } from './schema.ts';
import { compileSummary, type Summary } from './template.ts';

export const RULES_DIR = path.resolve(import.meta.dirname, '../../rules');
/** A rule file larger than this is refused before parsing (YAML aliases can expand a small file). */
const MAX_FILE_BYTES = 1024 * 1024;

export type KeyFn = (event: EnrichedAccessEvent) => string | null;

export interface CompiledRule {
  id: string;
  version: number;
  title: string;
  severity: FindingSeverity;
  description: string;
  tags: readonly string[];
  enabled: boolean;
  kind: FindingKind;
  /** Where the rule was read from (relative to the rules directory's parent when inside it). */
  file: string;
  /** Every event a rule considers must match this (a sequence without one considers all). */
  match: Predicate;
  summary: Summary;
  threshold?: { count: number; windowMs: number; groupBy: readonly KeyFn[] };
  firstSeen?: { groupBy: readonly KeyFn[]; value: readonly KeyFn[]; requireHistory: boolean };
  sequence?: { groupBy: readonly KeyFn[]; withinMs: number; steps: readonly Predicate[]; stepNames: readonly string[] };
  tests: ReadonlyArray<RuleTest & { line: number }>;
}

export interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

/** Parses and compiles one rule file's text; problems instead of a rule when it is not valid. */
export function parseRule(file: string, text: string): { rule: CompiledRule } | { problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number, message: string): Problem => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, column: pos.col, message };
  };
  if (doc.errors.length > 0) return { problems: doc.errors.map((e) => at(e.pos[0], `YAML: ${e.message.split('\n')[0]}`)) };
  let json: unknown;
  try {
    json = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { problems: [at(0, `YAML: ${(err as Error).message}`)] };
  }
  const parsed = ruleSchema.safeParse(json);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) => {
        const where = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
        return at(offsetOf(doc, where as Path), `${describePath(issue.path as Path)}${issueMessage(issue)}`);
      }),
    };
  }
  try {
    return { rule: compileRule(parsed.data, file, doc, lines) };
  } catch (err) {
    if (err instanceof RuleProblem) return { problems: [at(offsetOf(doc, err.path), `${describePath(err.path)}${err.message}`)] };
    throw err;
  }
}

function issueMessage(issue: { code: string; message: string; keys?: string[]; errors?: unknown }): string {
  if (issue.code === 'unrecognized_keys' && issue.keys) return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  // A condition that fits none of and / or / not / a field test: zod's union message says little.
  if (issue.code === 'invalid_union') return 'not a condition: expected {and: [...]}, {or: [...]}, {not: ...} or {field: <path>, <operator>: <value>}';
  return issue.message;
}

function describePath(p: Path): string {
  return p.length === 0 ? '' : `${p.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[')}: `;
}

/**
 * Offset of what `p` names: a scalar value where it is, a map or list at its
 * key (a block value starts on the next line), a missing key at its parent.
 */
function offsetOf(doc: Document, p: Path): number {
  let best: number = doc.contents && 'range' in doc.contents && doc.contents.range ? doc.contents.range[0] : 0;
  for (let i = 1; i <= p.length; i++) {
    const parent = (i === 1 ? doc.contents : doc.getIn(p.slice(0, i - 1), true)) as Node | undefined;
    const node = doc.getIn(p.slice(0, i), true) as Node | undefined;
    const key = parent && isMap(parent)
      ? (parent.items.find((it) => (it.key as { value?: unknown } | null)?.value === p[i - 1])?.key as Node | undefined)
      : undefined;
    if (!node || !('range' in node) || !node.range) {
      if (key?.range) best = key.range[0];
      break;
    }
    const collection = isMap(node) || isSeq(node);
    best = collection && key?.range ? key.range[0] : node.range[0];
    if (!collection) break;
  }
  return best;
}

function compileRule(doc: RuleDocument, file: string, yaml: Document, lines: LineCounter): CompiledRule {
  const groupBy = (names: readonly string[], p: Path) => names.map((n, i) => keyAccessor([...p, i], n));
  const base = doc.match ? compileCondition(doc.match, ['match']) : () => true;
  const kind: FindingKind = doc.threshold ? 'threshold' : doc.first_seen ? 'first_seen' : doc.sequence ? 'sequence' : 'match';
  const rule: CompiledRule = {
    id: doc.id,
    version: doc.version,
    title: doc.title,
    severity: doc.severity,
    description: doc.description.trim(),
    tags: doc.tags,
    enabled: doc.enabled,
    kind,
    file,
    match: base,
    summary: compileSummary(doc.summary, ['summary']),
    tests: doc.tests.map((t, i) => ({ ...t, line: lines.linePos(offsetOf(yaml, ['tests', i])).line })),
  };
  if (doc.threshold) {
    rule.threshold = { count: doc.threshold.count, windowMs: durationMs(doc.threshold.window), groupBy: groupBy(doc.threshold.group_by, ['threshold', 'group_by']) };
  }
  if (doc.first_seen) {
    rule.firstSeen = {
      groupBy: groupBy(doc.first_seen.group_by, ['first_seen', 'group_by']),
      value: groupBy(doc.first_seen.value, ['first_seen', 'value']),
      requireHistory: doc.first_seen.require_history,
    };
  }
  if (doc.sequence) {
    rule.sequence = {
      groupBy: groupBy(doc.sequence.group_by, ['sequence', 'group_by']),
      withinMs: durationMs(doc.sequence.within),
      steps: doc.sequence.steps.map((s, i) => compileCondition(s.match, ['sequence', 'steps', i, 'match'])),
      stepNames: doc.sequence.steps.map((s) => s.name),
    };
  }
  return rule;
}

export interface RulePack {
  dir: string;
  rules: CompiledRule[];
}

/** Reads every rule of a directory; problems from all files together, or the pack. */
export function readRuleDir(dir: string): { pack: RulePack; problems: Problem[] } {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  } catch (err) {
    return { pack: { dir, rules: [] }, problems: [{ file: dir, line: 0, column: 0, message: `cannot read the rules directory: ${(err as Error).message}` }] };
  }
  const rules: CompiledRule[] = [];
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  if (files.length === 0) problems.push({ file: dir, line: 0, column: 0, message: 'no rule files (*.yaml) in the rules directory' });
  for (const name of files) {
    const full = path.join(dir, name);
    const relative = path.relative(process.cwd(), full);
    const shown = relative && !relative.startsWith('..') ? relative : full;
    const bytes = readFileSync(full);
    if (bytes.length > MAX_FILE_BYTES) {
      problems.push({ file: shown, line: 1, column: 1, message: `the file is ${bytes.length} bytes, over the ${MAX_FILE_BYTES} allowed` });
      continue;
    }
    const result = parseRule(shown, bytes.toString('utf8'));
    if ('problems' in result) {
      problems.push(...result.problems);
      continue;
    }
    const other = seen.get(result.rule.id);
    if (other) problems.push({ file: shown, line: 1, column: 1, message: `rule id "${result.rule.id}" is also the id of ${other}` });
    seen.set(result.rule.id, shown);
    rules.push(result.rule);
  }
  return { pack: { dir, rules }, problems };
}

/** The pack of a directory, or a TETHER_RULE_INVALID error listing every problem. */
export function loadRules(dir: string = RULES_DIR): RulePack {
  const { pack, problems } = readRuleDir(dir);
  if (problems.length > 0) {
    throw tetherError('TETHER_RULE_INVALID', `invalid detection rules:\n  ${problems.map(formatProblem).join('\n  ')}`, { context: { problems } });
  }
  return pack;
}
