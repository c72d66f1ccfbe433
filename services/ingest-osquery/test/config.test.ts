import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { loadOsqueryConfig } from '../src/config.ts';
import { parseArgs } from '../src/index.ts';

describe('ingest-osquery config', () => {
  // The README table is checked against this schema, with the other services', by test/cli/config-docs.test.ts.

  it('reads the table mapping and refuses one that names no table', () => {
    expect(loadOsqueryConfig({ TETHER_OSQUERY_TABLES: 'pack/it/who=logged_in_users, ifs=interface_addresses' }).TETHER_OSQUERY_TABLES).toEqual({ 'pack/it/who': 'logged_in_users', ifs: 'interface_addresses' });
    expect(() => loadOsqueryConfig({ TETHER_OSQUERY_TABLES: 'who=people' })).toThrow(/TETHER_OSQUERY_TABLES/);
  });

  it('refuses short secrets, naming the variable', () => {
    let error: unknown;
    try {
      loadOsqueryConfig({ TETHER_OSQUERY_ENROLL_SECRET: 'short' });
    } catch (err) {
      error = err;
    }
    expect(TetherError.is(error) && error.code).toBe('TETHER_CONFIG_INVALID');
    expect((error as Error).message).toContain('TETHER_OSQUERY_ENROLL_SECRET');
  });

  it('--help on every level prints usage and runs nothing', () => {
    for (const argv of [['--help'], ['tail', '--help'], ['serve', '--help']]) {
      let out = '';
      expect(parseArgs(argv, (t) => (out += t))).toBe('help');
      expect(out).toMatch(/Usage: ingest-osquery/);
    }
    // No command at all prints the help, as gh and kubectl do.
    expect(parseArgs([], () => undefined)).toBe('help');
    expect(() => parseArgs(['tail'])).toThrow(/usage/);
  });
});
