// Rule tests: each test of a rule file lists partial enriched events, laid
// over complete defaults, and how many findings the rule must make of them.
// The built events must be valid EnrichedAccessEvents (checked against the
// Avro contract), so a fixture cannot test a shape the pipeline never sends.
import { loadSchemas, type EnrichedAccessEvent } from '#schemas';
import { timeOperand, RuleProblem } from './compile.ts';
import { FIELDS } from './fields.ts';
import type { CompiledRule } from './load.ts';
import { DetectEngine } from '../engine/engine.ts';
import { StateStore } from '../engine/state.ts';

/** Fixture events without a time are one minute apart from here. */
export const FIXTURE_START = Date.UTC(2025, 0, 6, 9, 0, 0);

const enrichedType = loadSchemas().types.get('EnrichedAccessEvent')!;

function baseEvent(i: number): EnrichedAccessEvent {
  const time = FIXTURE_START + i * 60_000;
  const id = `fixture-${String(i + 1).padStart(3, '0')}`;
  return {
    event: {
      event_id: id,
      source: { platform: 'openai', feed: 'audit_logs', source_event_id: id, ingested_at: time, ingest_version: 'fixture' },
      time,
      time_raw: new Date(time).toISOString(),
      action: 'unknown',
      source_type: 'unknown',
      outcome: 'success',
      ocsf: { category_uid: 6, class_uid: 6003, activity_id: 99, type_uid: 600399, severity_id: 1 },
      actor: { kind: 'human', platform_user_id: null, email: null, name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
      targets: [],
      scope: { organization_id: null, project_id: null, workspace_id: null },
      src: { ip: null, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
      connector: null,
      raw: Buffer.from('{}'),
      unmapped: '{}',
    },
    person: null,
    device: null,
    nhi_chain: [],
    attribution: { method: 'unresolved', confidence: 0, device_method: 'unresolved', device_confidence: 0, reasons: [] },
    enrichment: { version: 'fixture', enriched_at: time, waited_ms: 0 },
  };
}

/** What a partial record is laid over where the default is null or an array item. */
const RECORD_DEFAULTS: Record<string, () => object> = {
  person: () => ({
    person_id: 'fixture-person', email: null, display_name: null, department: null, title: null, manager_person_id: null,
    lifecycle_state: 'active', version_valid_from: FIXTURE_START - 86_400_000, version_source: 'fixture',
  }),
  device: () => ({
    device_id: 'fixture-device', serial: null, hostname: null, os: null, managed: true, compliant: null, assigned_person_id: null,
    version_valid_from: FIXTURE_START - 86_400_000,
  }),
  'event.connector': () => ({ provider: 'google', client_id: 'fixture-client', app_name: null, scopes: [] }),
  nhi_chain: () => ({ kind: 'api_key', id: 'fixture-nhi', name: null, status: null }),
  'event.targets': () => ({ type: 'api_key', id: 'fixture-target', name: null }),
};

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

function lay(base: unknown, over: unknown, path: string): unknown {
  if (over === undefined) return base;
  if (Array.isArray(over)) {
    const item = RECORD_DEFAULTS[path];
    return over.map((o) => (item && isPlain(o) ? lay(item(), o, `${path}[]`) : convert(o, path)));
  }
  if (isPlain(over)) {
    const start = isPlain(base) ? base : RECORD_DEFAULTS[path]?.();
    if (!start) return over;
    const out: Record<string, unknown> = { ...start };
    for (const [k, v] of Object.entries(over)) out[k] = lay(out[k], v, path ? `${path}.${k}` : k);
    return out;
  }
  return convert(over, path);
}

/** Times may be written as RFC 3339 text; the raw record as text. */
function convert(value: unknown, path: string): unknown {
  const field = FIELDS.get(path.replace(/\[\]/g, ''));
  if (field?.type === 'time' && typeof value === 'string') return timeOperand(value, [path]);
  if (path === 'event.raw' && typeof value === 'string') return Buffer.from(value);
  return value;
}

/** The i-th event of a test: defaults, then the fixture's fields. Throws RuleProblem on an invalid event. */
export function fixtureEvent(partial: Record<string, unknown>, i: number, at: ReadonlyArray<string | number>): EnrichedAccessEvent {
  const event = lay(baseEvent(i), partial, '') as EnrichedAccessEvent;
  const problems: string[] = [];
  if (!enrichedType.isValid(event, { errorHook: (p) => problems.push(p.join('.')) })) {
    throw new RuleProblem(at, `fixture event ${i + 1} is not a valid EnrichedAccessEvent at ${problems.join(', ')}`);
  }
  return event;
}

export interface TestOutcome {
  rule: string;
  file: string;
  name: string;
  line: number;
  expected: number;
  actual: number;
  passed: boolean;
  error?: string;
  summaries: string[];
}

/** Runs every test of a rule on a fresh engine holding that rule alone. */
export function runRuleTests(rule: CompiledRule): TestOutcome[] {
  return rule.tests.map((test, t) => {
    const outcome = { rule: rule.id, file: rule.file, name: test.name, line: test.line, expected: test.expect };
    try {
      const engine = new DetectEngine([{ ...rule, enabled: true }], new StateStore({ maxEntries: 100_000 }), { firstSeenMaxValues: 1_000, now: () => FIXTURE_START });
      const events = test.events.map((e, i) => fixtureEvent(e, i, ['tests', t, 'events', i]));
      const findings = events.flatMap((e) => engine.process(e));
      return { ...outcome, actual: findings.length, passed: findings.length === test.expect, summaries: findings.map((f) => f.summary) };
    } catch (err) {
      return { ...outcome, actual: -1, passed: false, error: (err as Error).message, summaries: [] };
    }
  });
}
