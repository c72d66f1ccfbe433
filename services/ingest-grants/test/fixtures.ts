// Fixture access for the ingest-grants tests: API pages in each source's real
// shape (invented values, see the reference).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { grantContext, type GrantContext, type GrantProvider } from '../src/normalise/grant-event.ts';

const DIR = path.join(import.meta.dirname, 'fixtures');

export function fixture<T = unknown>(provider: GrantProvider, name: string): T {
  return JSON.parse(readFileSync(path.join(DIR, provider, name), 'utf8')) as T;
}

export const INGESTED_AT = Date.parse('2025-03-11T00:00:00Z');

export function ctxFor(provider: GrantProvider, feed: string, record: unknown = {}, organizationId: string | null = null): GrantContext {
  return { ...grantContext(provider, feed, INGESTED_AT, Buffer.from(JSON.stringify(record))), organizationId };
}
