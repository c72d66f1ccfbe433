import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TetherError } from '#errors';
import { env, loadConfig, pipelineEnvShape, refuseUnknownVariables } from '../src/index.ts';

const schema = z.object({ ...pipelineEnvShape, TETHER_X_PORT: env.int(1, 0, 65_535), TETHER_X_URL: env.url('http://a'), TETHER_X_API_KEY: env.optionalString() });

function problem(vars: Record<string, string>): string {
  try {
    loadConfig(schema, vars, { refuseUnknown: false });
  } catch (err) {
    expect(TetherError.is(err) && err.code).toBe('TETHER_CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('loadConfig', () => {
  it('names the variable, the value and the accepted form on one line', () => {
    expect(problem({ TETHER_X_PORT: '80a' })).toBe('TETHER_X_PORT="80a" is not valid: expected a whole number from 0 to 65535');
    expect(problem({ TETHER_X_URL: 'localhost:8123' })).toBe('TETHER_X_URL="localhost:8123" is not valid: expected an http:// or https:// URL, e.g. http://127.0.0.1:8123');
    const two = problem({ TETHER_X_PORT: '-1', TETHER_KAFKA_BROKERS: 'kafka://b:9092' });
    expect(two).not.toContain('\n');
    expect(two).toMatch(/TETHER_KAFKA_BROKERS="kafka:\/\/b:9092" is not valid: expected comma-separated host:port pairs.*; TETHER_X_PORT="-1"/);
  });

  it('never echoes a secret-looking value', () => {
    expect(problem({ TETHER_X_API_KEY: '', TETHER_X_PORT: 'x', TETHER_SCHEMA_REGISTRY_URL: 'ftp://a' })).not.toContain('sk-');
    const schemaWithSecret = z.object({ TETHER_X_TOKEN: z.string().min(24).describe('24 or more characters') });
    expect(() => loadConfig(schemaWithSecret, { TETHER_X_TOKEN: 'sk-short' })).toThrow('TETHER_X_TOKEN=(8 characters) is not valid');
  });

  it('accepts brokers as host:port and [IPv6]:port lists', () => {
    expect(loadConfig(schema, { TETHER_KAFKA_BROKERS: 'a:1, [::1]:9092,b.example:65535' }, { refuseUnknown: false }).TETHER_KAFKA_BROKERS).toEqual(['a:1', '[::1]:9092', 'b.example:65535']);
    expect(problem({ TETHER_KAFKA_BROKERS: 'a:70000' })).toMatch(/^TETHER_KAFKA_BROKERS=/);
    expect(problem({ TETHER_KAFKA_BROKERS: 'a' })).toMatch(/^TETHER_KAFKA_BROKERS=/);
  });

  it('refuses TETHER_* names no component reads, with the nearest known name', () => {
    expect(() => refuseUnknownVariables({ TETHER_ENRICH_LATE_WAIT_SM: '1', TETHER_KAFKA_BROKERS: 'a:1', OTHER: 'x' })).toThrow(
      'TETHER_ENRICH_LATE_WAIT_SM (did you mean TETHER_ENRICH_LATE_WAIT_MS?): not a variable any Tether component reads; unset it or fix the name',
    );
    expect(() => refuseUnknownVariables({ TETHER_TOTALLY_NEW_THING: '1' })).toThrow(/^TETHER_TOTALLY_NEW_THING: not a variable/);
    expect(() => loadConfig(schema, { TETHER_X_PORT: '2' })).not.toThrow();
    expect(() => loadConfig(schema, { TETHER_SINK_PORT: '2' })).not.toThrow();
  });
});
