// The shape of a rule file, checked with zod before anything is compiled.
// Shape only: whether a field exists, whether an operator suits its type and
// whether a regular expression is safe are checked by the compiler, which
// reports with the same path so the loader can name the line.
import { z } from 'zod';
import { FINDING_SEVERITIES } from '#schemas';

/** Operators of a leaf condition; exactly one per leaf. */
export const OPERATORS = [
  'eq', 'ne', 'in', 'not_in', 'prefix', 'suffix', 'contains', 'regex',
  'gt', 'gte', 'lt', 'lte', 'before', 'after', 'is_null', 'is_empty',
] as const;
export type Operator = (typeof OPERATORS)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const leafSchema = z
  .strictObject({
    field: z.string().min(1),
    eq: scalar.optional(),
    ne: scalar.optional(),
    in: z.array(scalar).min(1).max(10_000).optional(),
    not_in: z.array(scalar).min(1).max(10_000).optional(),
    prefix: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    suffix: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    contains: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    regex: z.string().min(1).optional(),
    gt: z.union([z.number(), z.string()]).optional(),
    gte: z.union([z.number(), z.string()]).optional(),
    lt: z.union([z.number(), z.string()]).optional(),
    lte: z.union([z.number(), z.string()]).optional(),
    before: z.union([z.number(), z.string()]).optional(),
    after: z.union([z.number(), z.string()]).optional(),
    is_null: z.boolean().optional(),
    is_empty: z.boolean().optional(),
    /** String operators ignore case. */
    nocase: z.boolean().optional(),
    /** On a list field: whether any (default), all or none of its elements must match. */
    quantifier: z.enum(['any', 'all', 'none']).optional(),
  })
  .superRefine((leaf, ctx) => {
    const ops = OPERATORS.filter((op) => leaf[op] !== undefined);
    if (ops.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `a condition on a field takes exactly one operator (${OPERATORS.join(', ')}); found ${ops.length === 0 ? 'none' : ops.join(', ')}` });
    }
  });

export type Leaf = z.output<typeof leafSchema>;

export type Condition = Leaf | { and: Condition[] } | { or: Condition[] } | { not: Condition };

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ and: z.array(conditionSchema).min(1) }),
    z.strictObject({ or: z.array(conditionSchema).min(1) }),
    z.strictObject({ not: conditionSchema }),
    leafSchema,
  ]),
);

/** 90s, 15m, 2h, 7d. */
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationMs(text: string): number {
  const m = DURATION.exec(text)!;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const duration = z
  .string()
  .regex(DURATION, 'a duration: a whole number and a unit (ms, s, m, h, d), e.g. 15m')
  .refine((d) => !DURATION.test(d) || (durationMs(d) >= 1_000 && durationMs(d) <= 366 * 86_400_000), 'between 1s and 366d');

const groupBy = z.array(z.string().min(1)).min(1).max(5);

/** MITRE ATT&CK (attack.t1078, attack.t1078.004, attack.ta0001), OWASP NHI Top 10 (owasp.nhi.nhi1..10), or a local tag. */
const TAG = /^(attack\.t\d{4}(\.\d{3})?|attack\.ta\d{4}|owasp\.nhi\.nhi([1-9]|10)|tether\.[a-z0-9_.-]+)$/;

/** A partial EnrichedAccessEvent, laid over the fixture defaults (fixtures.ts). */
const fixtureEvent = z.record(z.string(), z.unknown());

export const ruleTestSchema = z.strictObject({
  name: z.string().min(1).max(200),
  /** How many findings the events must produce. */
  expect: z.number().int().min(0).max(1_000),
  events: z.array(fixtureEvent).min(1).max(1_000),
});

export const RULE_ID = /^[a-z0-9][a-z0-9._-]{2,99}$/;

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(RULE_ID, 'lower-case letters, digits, dots, dashes and underscores, 3 to 100 characters'),
    version: z.number().int().min(1).max(1_000_000),
    title: z.string().min(1).max(200),
    severity: z.enum(FINDING_SEVERITIES),
    description: z.string().min(1).max(4_000),
    tags: z.array(z.string().regex(TAG, 'attack.tNNNN[.NNN], attack.taNNNN, owasp.nhi.nhiN (1-10) or tether.<name>')).max(20).default([]),
    /** One line; {field.path} placeholders, plus {count}, {group} and {value}. */
    summary: z.string().min(1).max(500),
    enabled: z.boolean().default(true),
    match: conditionSchema.optional(),
    threshold: z.strictObject({ count: z.number().int().min(2).max(10_000), window: duration, group_by: groupBy }).optional(),
    first_seen: z
      .strictObject({
        group_by: groupBy,
        value: z.array(z.string().min(1)).min(1).max(5),
        /** Fire only for a group already seen with another value (a new network for a key in use), not its very first. */
        require_history: z.boolean().default(false),
      })
      .optional(),
    sequence: z
      .strictObject({
        group_by: groupBy,
        within: duration,
        steps: z.array(z.strictObject({ name: z.string().min(1).max(100), match: conditionSchema })).min(2).max(5),
      })
      .optional(),
    tests: z.array(ruleTestSchema).min(1, 'a rule needs at least one positive and one negative test').max(100),
  })
  .superRefine((rule, ctx) => {
    const stateful = (['threshold', 'first_seen', 'sequence'] as const).filter((k) => rule[k] !== undefined);
    if (stateful.length > 1) ctx.addIssue({ code: 'custom', path: [stateful[1]!], message: `a rule has at most one of threshold, first_seen, sequence; found ${stateful.join(' and ')}` });
    if (rule.match === undefined && rule.sequence === undefined) ctx.addIssue({ code: 'custom', message: 'a rule needs a match (a sequence may have only its steps)' });
    if (!rule.tests.some((t) => t.expect > 0)) ctx.addIssue({ code: 'custom', path: ['tests'], message: 'no positive test (a test expecting at least one finding)' });
    if (!rule.tests.some((t) => t.expect === 0)) ctx.addIssue({ code: 'custom', path: ['tests'], message: 'no negative test (a test expecting no finding)' });
  });

export type RuleDocument = z.output<typeof ruleSchema>;
export type RuleTest = z.output<typeof ruleTestSchema>;
