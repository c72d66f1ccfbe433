import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { loadEnrichConfig } from '../src/config.ts';

describe('enrich config', () => {
  it('fills every default in one place', () => {
    const config = loadEnrichConfig({});
    expect(config).toMatchObject({
      TETHER_ENRICH_LATE_WAIT_MS: 30_000,
      TETHER_ENRICH_LATE_MAX_EVENTS: 10_000,
      TETHER_ENRICH_GIVE_UP_MS: 600_000,
      TETHER_ENRICH_MAX_BATCH: 2_000,
      TETHER_ENRICH_PORT: 9410,
      TETHER_ENRICH_INSTANCE_ID: undefined,
      TETHER_ENRICH_SHUTDOWN_GRACE_MS: 30_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['TETHER_ENRICH_LATE_WAIT_MS', '-1'],
    ['TETHER_ENRICH_LATE_MAX_EVENTS', '0'],
    ['TETHER_ENRICH_PORT', '70000'],
    ['TETHER_ENRICH_MAX_BATCH', 'lots'],
  ])('names the variable when %s=%s is refused', (name, value) => {
    let error: unknown;
    try {
      loadEnrichConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(TetherError.is(error) && error.code).toBe('TETHER_CONFIG_INVALID');
    expect((error as Error).message).toContain(name);
  });

  // The README table is checked against this schema, with the other services', by test/cli/config-docs.test.ts.
});
