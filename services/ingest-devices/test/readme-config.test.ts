// The README's configuration table lists every variable of the MDM sources,
// with the default their schemas give.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '#config';
import { fleetSource } from '../src/sources/fleet/source.ts';
import { intuneSource } from '../src/sources/intune/source.ts';
import { jamfSource } from '../src/sources/jamf/source.ts';

describe('ingest-devices README', () => {
  it('documents every variable of the MDM sources with its default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    const schema = z.object({ ...fleetSource.env, ...intuneSource.env, ...jamfSource.env });
    const documented = [...readme.matchAll(/^\| `(TETHER_[A-Z0-9_]+)` \| ([^|]+) \|/gm)];
    expect(documented.map((m) => m[1]).sort()).toEqual(Object.keys(schema.shape).sort());
    const defaults = loadConfig(schema, {}) as Record<string, unknown>;
    for (const [, name, fallback] of documented) {
      const written = fallback!.trim().replace(/^`(.*)`$/, '$1');
      expect(written, name).toBe(defaults[name!] === undefined ? '—' : String(defaults[name!]));
    }
  });
});
