// Request parameters of every query, validated the same way whether they
// come from CLI flags or an HTTP query string: unknown names are refused,
// times go through the binder's strict DateTime reading.
import { z } from 'zod';
import { tetherError } from '#errors';
import { FINDING_SEVERITIES } from '#schemas';
import { toEpochMs } from './bind.ts';
import { CONNECTOR_STATES, SANCTIONED_FILTERS, type ConnectorFilter } from './connectors.ts';
import { EXPORT_FORMATS, type ExportFormat } from './export-format.ts';
import type { FindingFilter } from './findings.ts';
import type { OrphanFilter } from './orphans.ts';
import { TRAIL_SUBJECTS, type TrailRequest } from './trail.ts';

/** Raw inputs: one string per name, or several for a repeated name. */
export type RawParams = Readonly<Record<string, string | readonly string[] | undefined>>;

const text = (max = 512) => z.string().trim().min(1).max(max);
const optionalText = (max = 200) => z.string().trim().max(max).default('');

const time = (name: string) =>
  z.string().trim().min(1).transform((value, ctx) => {
    try {
      return toEpochMs(value, name);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const trailSchema = z
  .strictObject({
    email: text().optional(),
    person: text().optional(),
    nhi: text().optional(),
    connector: text().optional(),
    from: time('from'),
    to: time('to'),
    format: z.enum(EXPORT_FORMATS).default('json'),
  })
  .superRefine((v, ctx) => {
    // The subject kinds are the parameter names.
    const given = TRAIL_SUBJECTS.filter((s) => v[s] !== undefined);
    if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of ${TRAIL_SUBJECTS.join(', ')}` });
    if (v.from >= v.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before "to"' });
  });

export function parseTrailParams(raw: RawParams): { request: TrailRequest; format: ExportFormat } {
  const v = parse(trailSchema, raw);
  const subject = TRAIL_SUBJECTS.find((s) => v[s] !== undefined)!;
  return { request: { subject, value: v[subject]!, fromMs: v.from, toMs: v.to }, format: v.format };
}

const connectorsSchema = z.strictObject({
  provider: optionalText(),
  classification: z.enum(['', 'ai_tool', 'other', 'unknown']).default(''),
  state: z.enum(CONNECTOR_STATES).default('all'),
  sanctioned: z.enum(SANCTIONED_FILTERS).default('any'),
});

export function parseConnectorParams(raw: RawParams): ConnectorFilter {
  return parse(connectorsSchema, raw);
}

const orphansSchema = z.strictObject({
  kind: optionalText(64),
  platform: optionalText(),
  min_uses_after_left: z.string().regex(/^\d{1,9}$/, 'must be a whole number').default('0').transform(Number),
});

export function parseOrphanParams(raw: RawParams): OrphanFilter {
  const v = parse(orphansSchema, raw);
  return { kind: v.kind, platform: v.platform, minUsesAfterLeft: v.min_uses_after_left };
}

const findingsSchema = z
  .strictObject({
    since: time('since').optional(),
    until: time('until').optional(),
    rule: optionalText(200),
    severity: z.enum(FINDING_SEVERITIES).default('info'),
    person: optionalText(512),
    limit: z.string().regex(/^\d{1,9}$/, 'must be a whole number').default('1000').transform(Number),
  });

/** Findings whose last event is in [since, until): by default the last 7 days. */
export function parseFindingParams(raw: RawParams, now: Date): FindingFilter {
  const v = parse(findingsSchema, raw);
  const toMs = v.until ?? now.getTime();
  const fromMs = v.since ?? toMs - 7 * 86_400_000;
  if (fromMs >= toMs) throw badRequest('since: must be before "until"');
  if (v.limit < 1) throw badRequest('limit: must be at least 1');
  return { fromMs, toMs, rule: v.rule, minSeverity: v.severity, person: v.person, limit: v.limit };
}

/** Hunt parameters are typed by the hunt's header; here only their shape is checked. */
export function huntRawParams(raw: RawParams): Record<string, string | readonly string[]> {
  // No prototype, so a parameter named __proto__ stays a parameter (and the hunt refuses it by name).
  const out = Object.create(null) as Record<string, string | readonly string[]>;
  for (const [name, value] of Object.entries(raw)) if (value !== undefined) out[name] = value;
  return out;
}

function parse<S extends z.ZodType>(schema: S, raw: RawParams): z.output<S> {
  const repeated = Object.entries(raw).filter(([, v]) => Array.isArray(v)).map(([k]) => k);
  if (repeated.length > 0) throw badRequest(`parameter ${repeated.map((k) => `"${k}"`).join(', ')} given more than once`);
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw badRequest(result.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; '));
  }
  return result.data;
}

function badRequest(message: string): Error {
  return tetherError('TETHER_QUERY_BIND', message);
}
