// Configuration is documented where users look and known where it is
// checked: every service's own variables in its README's table (with the
// schema's default), the shared ones in the root README, and every TETHER_*
// name any schema, script or test reads in the known set that typos are
// refused against.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { commonEnvSchema, commonEnvShape, KNOWN_VARIABLES, loadConfig } from '#config';
import { ERROR_CODES } from '#errors';
import { ROOT } from './run.ts';

type Schema = z.ZodObject<Record<string, z.ZodType>>;

/** Every zod object schema a service's config module exports. */
async function serviceSchemas(): Promise<Map<string, Schema[]>> {
  const out = new Map<string, Schema[]>();
  for (const service of readdirSync(path.join(ROOT, 'services'))) {
    const file = path.join(ROOT, 'services', service, 'src/config.ts');
    if (!existsSync(file)) continue;
    const module = (await import(file)) as Record<string, unknown>;
    const schemas = Object.values(module).filter((v): v is Schema => typeof v === 'object' && v !== null && 'shape' in v && typeof (v as Schema).safeParse === 'function');
    out.set(service, schemas);
  }
  return out;
}

/** `| \`NAME\` | default | what |` rows of a README. */
function documented(readme: string): Map<string, string> {
  return new Map([...readme.matchAll(/^\| `(TETHER_[A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim().replace(/^`(.*)`$/, '$1')]));
}

const SHARED = new Set(Object.keys(commonEnvShape));

describe('service READMEs document their configuration schema', async () => {
  const schemas = await serviceSchemas();
  const readmeOf = (service: string) => documented(readFileSync(path.join(ROOT, 'services', service, 'README.md'), 'utf8'));
  // A source registered in another service's table (a folder of services/ingest-grants on ingest-ai's) documents its variables in its own folder's README.
  const everyRow = new Map([...readdirSync(path.join(ROOT, 'services'))].filter((s) => existsSync(path.join(ROOT, 'services', s, 'README.md'))).flatMap((s) => [...readmeOf(s)]));
  it.each([...schemas.keys()])('services/%s/README.md (or its sources\' READMEs) has one row per own variable, with its default', (service) => {
    const names = new Set(schemas.get(service)!.flatMap((s) => Object.keys(s.shape)));
    const own = [...names].filter((n) => !SHARED.has(n)).sort();
    const rows = readmeOf(service);
    // No row for a variable the service does not read.
    expect([...rows.keys()].filter((n) => !SHARED.has(n) && !names.has(n))).toEqual([]);
    expect(own.filter((n) => !rows.has(n) && !everyRow.has(n))).toEqual([]);
    const defaults: Record<string, unknown> = {};
    for (const schema of schemas.get(service)!) Object.assign(defaults, loadConfig(schema, {}, { refuseUnknown: false }));
    for (const name of own) {
      const value = defaults[name];
      // A parsed mapping (an empty one by default) is described in words; a path inside the checkout is shown relative to it.
      if (value === undefined || (typeof value === 'object' && !Array.isArray(value))) continue;
      const shown = Array.isArray(value) ? value.join(',') : typeof value === 'string' && value.startsWith(`${ROOT}/`) ? path.relative(ROOT, value) : String(value);
      expect(rows.get(name) ?? everyRow.get(name), name).toBe(shown);
    }
  });

  it('the root README documents every shared variable once, with its default', () => {
    const rows = documented(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect([...SHARED].filter((n) => !rows.has(n))).toEqual([]);
    const defaults = loadConfig(commonEnvSchema, {}, { refuseUnknown: false }) as Record<string, unknown>;
    for (const name of SHARED) {
      const value = defaults[name];
      const shown = value === undefined ? undefined : Array.isArray(value) ? value.join(',') : String(value);
      if (shown !== undefined && shown !== '') expect(rows.get(name), name).toBe(shown);
    }
  });
});

describe('the known TETHER_* variables', async () => {
  const schemas = await serviceSchemas();
  const inSchemas = new Set([...SHARED, ...[...schemas.values()].flat().flatMap((s) => Object.keys(s.shape))]);
  const codes = new Set<string>(ERROR_CODES);
  const scripts = ['infra/local/stack.sh', 'test/global-setup.ts', 'packages/testkit/src/local-stack.ts', 'services/enrich/test/harness.ts', 'docker-compose.yml'];
  const inScripts = new Set(scripts.flatMap((f) => [...readFileSync(path.join(ROOT, f), 'utf8').matchAll(/\bTETHER_[A-Z0-9_]*[A-Z0-9]\b/g)].map((m) => m[0])).filter((n) => !codes.has(n)));

  it('hold every variable a service schema reads', () => {
    expect([...inSchemas].filter((n) => !KNOWN_VARIABLES.has(n))).toEqual([]);
  });

  it('hold every variable the stack, the compose file and the test harness read', () => {
    expect([...inScripts].filter((n) => !KNOWN_VARIABLES.has(n))).toEqual([]);
  });

  it('name nothing that nothing reads (a stale name would let its typo through)', () => {
    expect([...KNOWN_VARIABLES].filter((n) => !inSchemas.has(n) && !inScripts.has(n))).toEqual([]);
  });
});
