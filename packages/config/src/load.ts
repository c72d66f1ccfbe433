// Config is read from the environment once per process, validated against
// one schema per service, and frozen. Nothing else reads process.env.
import { z } from 'zod';
import { tetherError } from '#errors';

export type EnvSchema = z.ZodObject<Record<string, z.ZodType>>;

/**
 * Parses `env` with a schema whose keys are variable names
 * (`TETHER_KAFKA_BROKERS`); every problem is reported with its variable.
 */
export function loadConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.output<S>> {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    picked[key] = value === '' ? undefined : value;
  }
  const result = schema.safeParse(picked);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`);
    throw tetherError('TETHER_CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, {
      context: { issues: lines },
    });
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Reusable field parsers: units in the name, defaults in one place. */
export const env = {
  string: (fallback?: string) => (fallback === undefined ? z.string().min(1) : z.string().min(1).default(fallback)),
  optionalString: () => z.string().min(1).optional(),
  url: (fallback?: string) => (fallback === undefined ? z.url() : z.url().default(fallback)),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  list: (fallback: string) =>
    z.string().default(fallback).transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  bool: (fallback: boolean) =>
    z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1'),
  oneOf: <const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) =>
    z.enum(values).default(fallback as never),
};

/** Endpoints every service shares; local-stack ports by default. */
export const commonEnvShape = {
  TETHER_KAFKA_BROKERS: env.list('127.0.0.1:19092'),
  TETHER_SCHEMA_REGISTRY_URL: env.url('http://127.0.0.1:18081/apis/ccompat/v7'),
  TETHER_CLICKHOUSE_URL: env.url('http://127.0.0.1:18123'),
  TETHER_CLICKHOUSE_USER: env.string('default'),
  TETHER_CLICKHOUSE_PASSWORD: z.string().default(''),
  TETHER_CLICKHOUSE_DATABASE: env.string('tether'),
  TETHER_TOPIC_PREFIX: z.string().default(''),
  TETHER_TOPIC_PARTITIONS: env.int(3, 1, 1024),
  TETHER_LOG_LEVEL: env.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
  TETHER_KAFKA_PRODUCER_CLIENT: env.oneOf(['kafkajs', 'platformatic'], 'platformatic'),
  // platformatic: the client whose consumers can be static group members (see packages/kafka/src/types.ts).
  TETHER_KAFKA_CONSUMER_CLIENT: env.oneOf(['kafkajs', 'platformatic'], 'platformatic'),
} as const;

export const commonEnvSchema = z.object(commonEnvShape);
export type CommonConfig = z.output<typeof commonEnvSchema>;
