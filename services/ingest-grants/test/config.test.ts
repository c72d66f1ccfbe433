// The grant sources' variables: each documented in the README with its
// default, and each refused with its name when malformed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '#config';
import { TetherError } from '#errors';
import { ingestAiEnvSchema } from '../../ingest-ai/src/config.ts';
import { entraSource } from '../src/sources/entra/source.ts';
import { githubSource } from '../src/sources/github/source.ts';
import { googleSource } from '../src/sources/google/source.ts';
import { oktaSource } from '../src/sources/okta/source.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SOURCES = [googleSource, entraSource, oktaSource, githubSource];
const shape = Object.assign({}, ...SOURCES.map((s) => s.env)) as z.ZodRawShape;

describe('grant source configuration', () => {
  it('documents every variable of every grant source in the README, with its default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `(TETHER_[A-Z_]+)` \| ([^|]+) \|/gm)];
    expect(documented.map((m) => m[1]).sort()).toEqual(Object.keys(shape).sort());
    const defaults = z.object(shape).parse({}) as Record<string, unknown>;
    for (const [, name, fallback] of documented) {
      const value = defaults[name!];
      if (value === undefined) expect(fallback!.trim(), name).toBe('(none)');
      // A shipped file is documented by its path in the repository.
      else if (typeof value === 'string' && path.isAbsolute(value)) expect(path.relative(ROOT, value), name).toBe(fallback!.trim());
      else expect(String(value), name).toBe(fallback!.trim());
    }
  });

  it('is part of the service config, shared variables once', () => {
    for (const key of Object.keys(shape)) expect(Object.keys(ingestAiEnvSchema.shape)).toContain(key);
  });

  it.each([
    ['TETHER_ENTRA_BASE_URL', 'not a url'],
    ['TETHER_GITHUB_REQUESTS_PER_MINUTE', '-1'],
    ['TETHER_CONNECTOR_USE_RESOLUTION_MS', '5'],
    ['TETHER_OKTA_TOKEN_URL', 'okta'],
  ])('names the variable when %s=%s is refused', (name, value) => {
    let error: unknown;
    try {
      loadConfig(ingestAiEnvSchema, { [name]: value });
    } catch (err) {
      error = err;
    }
    expect(TetherError.is(error) && error.code).toBe('TETHER_CONFIG_INVALID');
    expect((error as Error).message).toContain(name);
  });

  it('a source without its credentials is not configured; Google needs the admin to act as', () => {
    const config = loadConfig(ingestAiEnvSchema, {}) as Record<string, unknown>;
    for (const source of SOURCES) expect(source.endpoint(config as never)).toBeNull();
    expect(() => googleSource.endpoint({ ...config, TETHER_GOOGLE_SERVICE_ACCOUNT_FILE: '/nonexistent.json' } as never)).toThrow(/TETHER_GOOGLE_SUBJECT/);
    expect(() => googleSource.endpoint({ ...config, TETHER_GOOGLE_SERVICE_ACCOUNT_FILE: '/nonexistent.json', TETHER_GOOGLE_SUBJECT: 'a@b.c' } as never)).toThrow(/cannot be read/);
  });
});
