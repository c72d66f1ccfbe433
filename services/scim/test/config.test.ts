import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { loadScimConfig } from '../src/config.ts';
import { main } from '../src/index.ts';

describe('scim config', () => {
  it('fills every default in one place', () => {
    const config = loadScimConfig({});
    expect(config).toMatchObject({ TETHER_SCIM_PORT: 9440, TETHER_SCIM_HOST: '127.0.0.1', TETHER_SCIM_PLATFORM: 'scim', TETHER_SCIM_MAX_RESULTS: 200, TETHER_SCIM_TOKEN: undefined });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['TETHER_SCIM_TOKEN', 'short'],
    ['TETHER_SCIM_PORT', '70000'],
    ['TETHER_SCIM_BASE_URL', 'not a url'],
    ['TETHER_SCIM_MAX_RESULTS', '0'],
  ])('names the variable when %s=%s is refused', (name, value) => {
    let error: unknown;
    try {
      loadScimConfig({ [name]: value });
    } catch (err) {
      error = err;
    }
    expect(TetherError.is(error) && error.code).toBe('TETHER_CONFIG_INVALID');
    expect((error as Error).message).toContain(name);
  });

  // The README table is checked against this schema, with the other services', by test/cli/config-docs.test.ts.

  it('--help prints usage and touches nothing', async () => {
    const out: string[] = [];
    // No servers are reachable here: any connection attempt would fail the call.
    const env = { TETHER_KAFKA_BROKERS: '127.0.0.1:1', TETHER_SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' };
    expect(await main(['--help'], { env, out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(0);
    expect(await main(['replay', '--help'], { env, out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(0);
    expect(out.join('')).toContain('replay <file>');
    expect(await main(['serve'], { env, out: (t) => out.push(t), err: (t) => out.push(t) })).toBe(1);
    expect(out.join('')).toContain('TETHER_SCIM_TOKEN');
  });
});
