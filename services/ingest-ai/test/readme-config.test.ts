// The README's configuration table lists every variable ingest-ai reads
// beyond the common ones (the runner's and every registered source's), with
// the default the schema gives.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commonEnvShape, loadConfig } from '#config';
import { ingestAiEnvSchema } from '../src/config.ts';

describe('ingest-ai README', () => {
  it('documents every one of its variables with its default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    const own = Object.keys(ingestAiEnvSchema.shape).filter((k) => !(k in commonEnvShape));
    const documented = [...readme.matchAll(/^\| `(TETHER_[A-Z0-9_]+)` \| ([^|]+) \|/gm)];
    expect(documented.map((m) => m[1]).sort()).toEqual(own.sort());
    const defaults = loadConfig(ingestAiEnvSchema, {}) as Record<string, unknown>;
    for (const [, name, fallback] of documented) {
      if (defaults[name!] !== undefined) expect(fallback!.trim().replace(/^`(.*)`$/, '$1'), name).toBe(String(defaults[name!]));
    }
  });
});
