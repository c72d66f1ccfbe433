// Config is read from the environment once per process, validated against
// one schema per service, and frozen. Nothing else reads process.env.
//
// A problem is one line that names the variable and the form it takes, so
// a typo or a bad value is fixed from the message alone; a TETHER_* variable
// no service knows is refused, so a misspelt name never runs on a default.
import { z } from 'zod';
import { tetherError } from '#errors';
import { isKnownVariable, suggestVariable } from './known-variables.ts';

export type EnvSchema = z.ZodObject<Record<string, z.ZodType>>;

export interface LoadOptions {
  /** Refuse TETHER_* variables that no Tether component reads (default true). */
  refuseUnknown?: boolean;
}

/**
 * Parses `env` with a schema whose keys are variable names
 * (`TETHER_KAFKA_BROKERS`); every problem is reported with its variable and
 * accepted form, on one line.
 */
export function loadConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Readonly<z.output<S>> {
  const own = new Set(Object.keys(schema.shape));
  if (options.refuseUnknown ?? true) refuseUnknownVariables(env, own);
  const picked: Record<string, string | undefined> = {};
  for (const key of own) {
    const value = env[key];
    picked[key] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeIssue(schema, issue, picked));
    throw tetherError('TETHER_CONFIG_INVALID', [...new Set(problems)].join('; '), { context: { issues: problems } });
  }
  return deepFreeze(result.data);
}

/** Throws TETHER_CONFIG_INVALID naming the first TETHER_* variable no component reads. */
export function refuseUnknownVariables(env: NodeJS.ProcessEnv, alsoKnown: ReadonlySet<string> = new Set()): void {
  const unknown = Object.keys(env).filter((name) => name.startsWith('TETHER_') && !alsoKnown.has(name) && !isKnownVariable(name)).sort();
  if (unknown.length === 0) return;
  const hint = (name: string) => {
    const near = suggestVariable(name, alsoKnown);
    return near ? ` (did you mean ${near}?)` : '';
  };
  throw tetherError(
    'TETHER_CONFIG_INVALID',
    `${unknown.map((n) => `${n}${hint(n)}`).join(', ')}: not ${unknown.length === 1 ? 'a variable' : 'variables'} any Tether component reads; unset ${unknown.length === 1 ? 'it' : 'them'} or fix the name`,
    { context: { unknown } },
  );
}

// Values of these are never echoed back in a message.
const SECRET_NAME = /KEY|TOKEN|PASSWORD|SECRET|CREDENTIAL/;

function describeIssue(schema: EnvSchema, issue: z.core.$ZodIssue, picked: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? '(config)');
  const field = schema.shape[name];
  const form = field?.description ?? issue.message;
  const value = picked[name];
  if (value === undefined) return `${name} must be set: ${form}`;
  const shown = SECRET_NAME.test(name) ? `(${value.length} characters)` : JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  return `${name}=${shown} is not valid: expected ${form}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

const integerForm = (min: number, max: number) =>
  max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;

// host:port, or [IPv6]:port.
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Reusable field parsers: units in the name, defaults in one place, the accepted form in the description. */
export const env = {
  string: (fallback?: string) =>
    (fallback === undefined ? z.string().min(1) : z.string().min(1).default(fallback)).describe('a non-empty string'),
  optionalString: () => z.string().min(1).optional().describe('a non-empty string'),
  url: (fallback?: string) => {
    const url = z.url({ protocol: /^https?$/ });
    return (fallback === undefined ? url : url.default(fallback)).describe('an http:// or https:// URL, e.g. http://127.0.0.1:8123');
  },
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback).describe(integerForm(min, max)),
  optionalInt: (min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).optional().describe(integerForm(min, max)),
  list: (fallback: string) =>
    z.string().default(fallback).transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)).describe('a comma-separated list'),
  /** Comma-separated host:port pairs (Kafka bootstrap servers). */
  hostPorts: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .pipe(z.array(z.string().refine((hp) => Number(HOST_PORT.exec(hp)?.[2] ?? 70_000) <= 65_535)).min(1))
      .describe('comma-separated host:port pairs, e.g. 127.0.0.1:9092,kafka-2:9092 (no scheme)'),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1')
      .describe('true, false, 1 or 0'),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
    z.enum(values).default(fallback as never).describe(`one of ${values.join(', ')}`),
};

/** Kafka: brokers, topic naming, which client serves which role. */
export const kafkaEnvShape = {
  TETHER_KAFKA_BROKERS: env.hostPorts('127.0.0.1:19092'),
  TETHER_TOPIC_PREFIX: z.string().default('').describe('a topic name prefix (may be empty)'),
  TETHER_TOPIC_PARTITIONS: env.int(3, 1, 1024),
  TETHER_KAFKA_PRODUCER_CLIENT: env.oneOf(['kafkajs', 'platformatic'], 'platformatic'),
  // platformatic: the client whose consumers can be static group members (see packages/kafka/src/types.ts).
  TETHER_KAFKA_CONSUMER_CLIENT: env.oneOf(['kafkajs', 'platformatic'], 'platformatic'),
} as const;

export const registryEnvShape = {
  TETHER_SCHEMA_REGISTRY_URL: env.url('http://127.0.0.1:18081/apis/ccompat/v7'),
} as const;

export const clickhouseEnvShape = {
  TETHER_CLICKHOUSE_URL: env.url('http://127.0.0.1:18123'),
  TETHER_CLICKHOUSE_USER: env.string('default'),
  TETHER_CLICKHOUSE_PASSWORD: z.string().default('').describe('a password (may be empty)'),
  TETHER_CLICKHOUSE_DATABASE: env.string('tether'),
} as const;

export const logEnvShape = {
  TETHER_LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
} as const;

export const startupEnvShape = {
  /**
   * How long start-up waits for Kafka, the registry or ClickHouse to answer
   * before giving up with the variable to check; unset: each command's own
   * default (minutes for services, seconds for one-shot commands).
   */
  TETHER_STARTUP_WAIT_MS: env.optionalInt(0, 86_400_000),
} as const;

/** Where /health, /ready and /metrics listen (each service has its own port variable). */
export const opsEnvShape = {
  /** 127.0.0.1 by default; 0.0.0.0 in a container, so Prometheus and the orchestrator reach it. */
  TETHER_OPS_HOST: env.string('127.0.0.1'),
} as const;

/** What a service on the Kafka pipeline reads: Kafka, the registry, logging, start-up wait, ops address. */
export const pipelineEnvShape = { ...kafkaEnvShape, ...registryEnvShape, ...logEnvShape, ...startupEnvShape, ...opsEnvShape } as const;

/** Endpoints every service may share; local-stack ports by default. */
export const commonEnvShape = { ...pipelineEnvShape, ...clickhouseEnvShape } as const;

export const commonEnvSchema = z.object(commonEnvShape);
export type CommonConfig = z.output<typeof commonEnvSchema>;
export const pipelineEnvSchema = z.object(pipelineEnvShape);
export type PipelineConfig = z.output<typeof pipelineEnvSchema>;
export const clickhouseEnvSchema = z.object({ ...clickhouseEnvShape, ...logEnvShape, ...startupEnvShape });
export type ClickHouseConfig = z.output<typeof clickhouseEnvSchema>;
