// Fixture access for the ingest-ai tests: API pages and exported JSONL in the
// platforms' real shapes (invented values, see the reference).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NormaliseContext, Platform } from '../src/normalise/common.ts';

const DIR = path.join(import.meta.dirname, 'fixtures');

export function fixturePath(platform: Platform, name: string): string {
  return path.join(DIR, platform, name);
}

export function fixture<T = Record<string, unknown>>(platform: Platform, name: string): T {
  return JSON.parse(readFileSync(fixturePath(platform, name), 'utf8')) as T;
}

/** Each line of a JSONL fixture with its exact bytes. */
export function fixtureLines(platform: Platform, name: string): { raw: Buffer; record: Record<string, unknown> }[] {
  return readFileSync(fixturePath(platform, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => ({ raw: Buffer.from(line), record: JSON.parse(line) as Record<string, unknown> }));
}

export const INGESTED_AT = Date.parse('2026-03-03T00:00:00Z');

export function ctx(platform: Platform, feed: string, raw: Buffer | string = '{}', organizationId: string | null = null): NormaliseContext {
  return { platform, feed, ingestedAt: INGESTED_AT, rawBytes: Buffer.isBuffer(raw) ? raw : Buffer.from(raw), organizationId };
}
