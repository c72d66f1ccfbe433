import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TetherError } from '#errors';
import { loadOsqueryConfig, osqueryEnvSchema } from '../src/config.ts';
import { parseArgs } from '../src/index.ts';

describe('ingest-osquery config', () => {
  it('documents every one of its variables in the README, with its default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    const own = Object.keys(osqueryEnvSchema.shape).filter((k) => k.startsWith('TETHER_OSQUERY_') || k === 'TETHER_AI_CATALOGUE_PATH');
    const documented = [...readme.matchAll(/^\| `(TETHER_[A-Z_]+)` \| ([^|]+) \|/gm)];
    expect(documented.map((m) => m[1]).sort()).toEqual(own.sort());
    const defaults = loadOsqueryConfig({}) as Record<string, unknown>;
    for (const [, name, fallback] of documented) {
      const value = defaults[name!];
      if (value !== undefined && typeof value !== 'object') expect(String(value)).toBe(fallback!.trim());
    }
  });

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
