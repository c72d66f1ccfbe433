import { describe, expect, it } from 'vitest';
import { queryParams } from '../src/api.ts';
import { huntRawParams, parseConnectorParams, parseOrphanParams, parseTrailParams } from '../src/params.ts';
import { trailQuery } from '../src/trail.ts';

describe('trail parameters', () => {
  it('take one subject, a range and a format', () => {
    expect(parseTrailParams({ nhi: 'openai:api_key:key_1', from: '2026-01-01', to: '1767312000000', format: 'csv' })).toEqual({
      request: { subject: 'nhi', value: 'openai:api_key:key_1', fromMs: Date.UTC(2026, 0, 1), toMs: 1767312000000 },
      format: 'csv',
    });
    expect(parseTrailParams({ email: 'a@b.c', from: '2026-01-01', to: '2026-01-02' }).format).toBe('json');
  });

  it.each([
    [{ from: '2026-01-01', to: '2026-01-02' }, /exactly one of/],
    [{ email: 'a', person: 'b', from: '2026-01-01', to: '2026-01-02' }, /exactly one of/],
    [{ email: 'a', from: '2026-01-02', to: '2026-01-01' }, /from: must be before "to"/],
    [{ email: 'a', from: 'last week', to: '2026-01-01' }, /from: parameter "from" is not a valid DateTime/],
    // Compact dates would read as epoch ms in January 1970.
    [{ email: 'a', from: '20260101', to: '2026-02-01' }, /from: parameter "from" is not a valid DateTime.*write 2026-01-01/],
    [{ email: '', from: '2026-01-01', to: '2026-01-02' }, /email/],
    [{ email: 'a', from: '2026-01-01', to: '2026-01-02', limit: '5' }, /Unrecognized key/],
    [{ email: ['a', 'b'], from: '2026-01-01', to: '2026-01-02' }, /"email" given more than once/],
  ])('refuse %j', (raw, message) => {
    expect(() => parseTrailParams(raw)).toThrow(message);
  });
});

describe('query strings', () => {
  it('keep __proto__ as a parameter name, never as the prototype', () => {
    const twice = queryParams(new URL('http://x/v1/trail?__proto__=a&__proto__=b&email=x&from=2026-01-01&to=2026-01-02'));
    expect(Object.getPrototypeOf(twice)).toBeNull();
    expect(Object.keys(twice)).toEqual(['__proto__', 'email', 'from', 'to']);
    expect(twice['__proto__']).toEqual(['a', 'b']);
    expect(() => parseTrailParams(twice)).toThrow(/"__proto__" given more than once/);
    const once = queryParams(new URL('http://x/v1/trail?__proto__=a&email=x&from=2026-01-01&to=2026-01-02'));
    expect(() => parseTrailParams(once)).toThrow(/Unrecognized key: "__proto__"/);
    expect(Object.keys(huntRawParams(once))).toEqual(['__proto__', 'email', 'from', 'to']);
  });
});

describe('report parameters', () => {
  it('default to everything', () => {
    expect(parseConnectorParams({})).toEqual({ provider: '', classification: '', state: 'all', sanctioned: 'any' });
    expect(parseOrphanParams({})).toEqual({ kind: '', platform: '', minUsesAfterLeft: 0 });
  });

  it('refuse values outside their sets', () => {
    expect(() => parseConnectorParams({ classification: 'ai' })).toThrow(/classification/);
    expect(() => parseOrphanParams({ min_uses_after_left: '1.5' })).toThrow(/whole number/);
  });
});

describe('trail query', () => {
  const range = { fromMs: Date.UTC(2026, 0, 1), toMs: Date.UTC(2026, 0, 2) };

  it('binds the subject as a value and the range both ways (partition bounds and exact ms)', () => {
    const { sql, header } = trailQuery({ subject: 'email', value: "o'brien@x.test", ...range });
    expect(sql).toContain("lower('o\\'brien@x.test')");
    expect(sql).toContain(`event_time >= toDateTime(${range.fromMs / 1000}, 'UTC') AND event_time <= toDateTime(${range.toMs / 1000}, 'UTC')`);
    expect(sql).toContain(`event_time_ms >= ${range.fromMs} AND event_time_ms < ${range.toMs}`);
    expect(sql).toContain('FROM access_events FINAL');
    expect(header.parameters).toMatchObject({ subject: "o'brien@x.test", from_ms: range.fromMs });
  });

  it('splits an NHI id into platform and platform id', () => {
    expect(trailQuery({ subject: 'nhi', value: 'openai:api_key:key:with:colons', ...range }).header.parameters).toMatchObject({
      platform: 'openai',
      platform_id: 'key:with:colons',
    });
    expect(() => trailQuery({ subject: 'nhi', value: 'key_1', ...range })).toThrow(/<platform>:<kind>:<platform id>/);
  });

  it('refuses an empty range', () => {
    expect(() => trailQuery({ subject: 'person', value: 'p', fromMs: range.toMs, toMs: range.toMs })).toThrow(/range is empty/);
  });
});
