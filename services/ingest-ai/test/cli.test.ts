import { describe, expect, it } from 'vitest';
import { loadConfig } from '#config';
import { parseCli } from '../src/cli.ts';
import { ingestAiEnvSchema } from '../src/config.ts';

const parse = (line: string) => parseCli(line.split(' ').filter(Boolean), () => undefined);

describe('parseCli', () => {
  it('reads each mode', () => {
    expect(parse('all poll')).toEqual({ mode: 'poll', platforms: 'all' });
    expect(parse('openai backfill --since 2026-01-01T00:00:00Z')).toEqual({ mode: 'backfill', platforms: 'openai', since: Date.parse('2026-01-01T00:00:00Z'), until: null });
    expect(parse('cursor backfill --since 2026-02-01 --until 2026-02-15T12:00:00+01:00')).toMatchObject({ since: Date.parse('2026-02-01'), until: Date.parse('2026-02-15T11:00:00Z') });
    expect(parse('anthropic import /tmp/a.jsonl')).toEqual({ mode: 'import', platform: 'anthropic', feed: null, file: '/tmp/a.jsonl' });
    expect(parse('all import x.json --platform cursor --feed usage_events')).toEqual({ mode: 'import', platform: 'cursor', feed: 'usage_events', file: 'x.json' });
    expect(parse('openai poll --help')).toBe('help');
  });

  it('refuses what cannot be run, with a usage error naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['gitlab poll', /invalid for argument 'platform'/],
      ['openai sync', /invalid for argument 'mode'/],
      ['openai backfill', /needs --since/],
      ['openai backfill --since yesterday', /is not an ISO 8601 date or date-time/],
      ['openai backfill --since 2026-02-01 --until 2026-01-01', /--until must be after --since/],
      ['openai import', /needs a file/],
      ['all import x.jsonl', /needs --platform/],
      ['openai import x.jsonl --platform cursor', /contradicts/],
    ];
    for (const [line, message] of cases) {
      expect(() => parse(line), line).toThrow(message);
      try {
        parse(line);
      } catch (err) {
        expect((err as { code?: string }).code).toBe('TETHER_CONFIG_INVALID');
      }
    }
  });
});

describe('ingestAiEnvSchema', () => {
  it('defaults to the real API bases and published limits', () => {
    const config = loadConfig(ingestAiEnvSchema, {});
    expect(config).toMatchObject({
      TETHER_OPENAI_BASE_URL: 'https://api.openai.com/v1',
      TETHER_ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
      TETHER_CURSOR_BASE_URL: 'https://api.cursor.com',
      TETHER_CURSOR_REQUESTS_PER_MINUTE: 20,
      TETHER_OPENAI_ADMIN_KEY: undefined,
    });
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig(ingestAiEnvSchema, { TETHER_INGEST_PAGE_LIMIT: '0' })).toThrow(/TETHER_INGEST_PAGE_LIMIT/);
    expect(() => loadConfig(ingestAiEnvSchema, { TETHER_OPENAI_BASE_URL: 'not a url' })).toThrow(/TETHER_OPENAI_BASE_URL/);
  });
});
