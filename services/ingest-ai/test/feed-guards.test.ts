// Event feeds whose paging does not add up (a cursor that comes back, an
// empty page that says there is more, pages past the server's own total,
// the same page again) stop with an error naming the feed after a bounded
// number of requests, and the other feeds of the run still go. The fetch
// gives up after a cap, so a reader without guards fails here instead of
// paging until killed.
import { describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import { offlineCodec } from '#testkit';
import { fixtureLines } from './fixtures.ts';
import { offlineApp } from './offline-app.ts';

const KEY = 'sk-admin-guards-2b7c9d1e';
const NOW = Date.parse('2026-03-03T12:00:00Z');
const HOUR = 3_600_000;
const CAP = 200;

type Answer = (url: URL, call: number) => unknown;

/** A route answering these exact bytes instead of JSON of a value. */
class RawBody {
  readonly bytes: Buffer;
  constructor(bytes: Buffer) {
    this.bytes = bytes;
  }
}

async function harness(env: Record<string, string>, routes: Record<string, Answer>) {
  const calls = new Map<string, number>();
  const fetchFn = (async (input: URL | string) => {
    const url = new URL(String(input));
    const call = (calls.get(url.pathname) ?? 0) + 1;
    calls.set(url.pathname, call);
    if (call > CAP) return new Response('{"error":"test cap reached"}', { status: 400 });
    const route = routes[url.pathname];
    const body = route ? route(url, call) : { data: [], has_more: false, teamMembers: [] };
    return new Response(body instanceof RawBody ? body.bytes : JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  const { app, lines, producer } = await offlineApp({
    env: { ...env, TETHER_CURSOR_REQUESTS_PER_MINUTE: '0', TETHER_ANTHROPIC_REQUESTS_PER_MINUTE: '0' },
    key: KEY,
    fetch: fetchFn,
    now: () => NOW,
  });
  const range = { since: NOW - 6 * HOUR, until: null };
  return { app, calls, lines, range, producer };
}

const openAiRecord = (id: string) => ({ ...fixtureLines('openai', 'audit-logs.jsonl')[0]!.record, id, effective_at: Math.floor((NOW - 2 * HOUR) / 1000) });
const cursorRecord = (id: string) => ({ ...fixtureLines('cursor', 'audit-logs.jsonl')[0]!.record, event_id: id, timestamp: new Date(NOW - 2 * HOUR).toISOString() });

describe('event feed page guards', () => {
  it('OpenAI audit log whose cursor comes back: the feed stops naming itself; the inventories still ran', async () => {
    const h = await harness({ TETHER_OPENAI_ADMIN_KEY: KEY, TETHER_OPENAI_BASE_URL: 'http://fake.invalid/v1' }, {
      // Every page says there is more after "audit_log-loop", and the page after it says the same.
      '/v1/organization/audit_logs': (_, call) => ({ object: 'list', data: [openAiRecord(`audit_log-${call}`)], first_id: 'x', last_id: 'audit_log-loop', has_more: true }),
    });
    const summary = await h.app.backfill(['openai'], h.range, new AbortController().signal);
    const audit = summary.feeds.find((f) => f.feed === 'openai/audit_logs')!;
    expect(audit.error).toMatch(/^TETHER_SOURCE_PARSE: openai\/audit_logs: stopped paging: pagination cursor "audit_log-loop" came back/);
    expect(h.calls.get('/v1/organization/audit_logs')).toBeLessThanOrEqual(3);
    expect(summary.feeds.filter((f) => f.feed !== 'openai/audit_logs').every((f) => f.error === null)).toBe(true);
    expect(h.lines.some((l) => l.includes('feed run failed') && l.includes('openai/audit_logs'))).toBe(true);
  });

  it('Anthropic activities whose empty page says there is more: stopped after one request', async () => {
    const h = await harness({ TETHER_ANTHROPIC_ADMIN_KEY: KEY, TETHER_ANTHROPIC_BASE_URL: 'http://fake.invalid' }, {
      '/v1/compliance/activities': (_, call) => ({ data: [], has_more: true, first_id: null, last_id: `activity_${call}` }),
    });
    const summary = await h.app.backfill(['anthropic'], h.range, new AbortController().signal);
    expect(summary.feeds.find((f) => f.feed === 'anthropic/compliance_activities')!.error).toMatch(/anthropic\/compliance_activities: stopped paging: an empty page says there is more/);
    expect(h.calls.get('/v1/compliance/activities')).toBeLessThanOrEqual(2);
  });

  it('Cursor audit log whose pages never end past its own total: stopped at the total', async () => {
    const h = await harness({ TETHER_CURSOR_API_KEY: KEY, TETHER_CURSOR_BASE_URL: 'http://fake.invalid' }, {
      '/teams/audit-logs': (url) => {
        const page = Number(url.searchParams.get('page'));
        return { events: [cursorRecord(`evt_${page}`)], pagination: { page, pageSize: 1, totalCount: 2, totalPages: 2, hasNextPage: true }, params: { teamId: 1 } };
      },
      '/teams/filtered-usage-events': () => ({ usageEvents: [], pagination: { numPages: 0, currentPage: 1, hasNextPage: false } }),
    });
    const summary = await h.app.backfill(['cursor'], h.range, new AbortController().signal);
    expect(summary.feeds.find((f) => f.feed === 'cursor/audit_logs')!.error).toMatch(/cursor\/audit_logs: stopped paging: page 2 of 2 says there is a next page/);
    expect(h.calls.get('/teams/audit-logs')).toBeLessThanOrEqual(3);
    // Usage events come after the audit log in the run: still read.
    expect(summary.feeds.find((f) => f.feed === 'cursor/usage_events')!.error).toBeNull();
  });

  it('Cursor usage events served the same page whatever page is asked (no total): stopped when the page comes back', async () => {
    const usage = { timestamp: String(NOW - 2 * HOUR), userEmail: 'a@example.com', model: 'm', kind: 'Included' };
    const h = await harness({ TETHER_CURSOR_API_KEY: KEY, TETHER_CURSOR_BASE_URL: 'http://fake.invalid' }, {
      '/teams/filtered-usage-events': () => ({ usageEvents: [usage], pagination: { hasNextPage: true } }),
    });
    const summary = await h.app.backfill(['cursor'], h.range, new AbortController().signal);
    expect(summary.feeds.find((f) => f.feed === 'cursor/usage_events')!.error).toMatch(/cursor\/usage_events: stopped paging: the same page of 1 records came back/);
    expect(h.calls.get('/teams/filtered-usage-events')).toBeLessThanOrEqual(3);
  });

  it('a feed that keeps serving new pages is stopped at TETHER_INGEST_MAX_PAGES', async () => {
    const h = await harness({ TETHER_OPENAI_ADMIN_KEY: KEY, TETHER_OPENAI_BASE_URL: 'http://fake.invalid/v1', TETHER_INGEST_MAX_PAGES: '25' }, {
      '/v1/organization/audit_logs': (_, call) => ({ object: 'list', data: [openAiRecord(`audit_log-${call}`)], last_id: `audit_log-${call}`, has_more: true }),
    });
    const summary = await h.app.backfill(['openai'], h.range, new AbortController().signal);
    expect(summary.feeds.find((f) => f.feed === 'openai/audit_logs')!.error).toMatch(/openai\/audit_logs: stopped paging: read 25 pages and the server still says there is more/);
    expect(h.calls.get('/v1/organization/audit_logs')).toBeLessThanOrEqual(26);
  });
});

describe('bytes kept honest', () => {
  it('an audit page that is not UTF-8 goes to the DLQ byte for byte; no event is made of it; the error names the feed', async () => {
    // Valid JSON around one latin-1 byte (an "é" written by a system that is not UTF-8).
    const page = Buffer.concat([
      Buffer.from(`{"object":"list","data":[{"id":"audit_log-1","type":"login.succeeded","effective_at":${Math.floor((NOW - 2 * HOUR) / 1000)},"actor":{"type":"session","session":{"user":{"email":"Jos`),
      Buffer.from([0xe9]),
      Buffer.from('@example.com"}}}}],"has_more":false}'),
    ]);
    const h = await harness({ TETHER_OPENAI_ADMIN_KEY: KEY, TETHER_OPENAI_BASE_URL: 'http://fake.invalid/v1' }, {
      '/v1/organization/audit_logs': () => new RawBody(page),
    });
    const summary = await h.app.backfill(['openai'], h.range, new AbortController().signal);
    expect(summary.feeds.find((f) => f.feed === 'openai/audit_logs')!.error).toMatch(/^TETHER_SOURCE_ENCODING: openai\/audit_logs: \/v1\/organization\/audit_logs: response body: not valid UTF-8 at byte \d+ \(0xe9\)/);
    const codec = await offlineCodec();
    const topics = topicNames('');
    expect(h.producer.sent.filter((r) => r.topic === topics.accessRaw)).toEqual([]);
    const letters = await Promise.all(h.producer.sent.filter((r) => r.topic === topics.dlq).map((r) => codec.decode('dlq', r.value!)));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stage: 'receiving', source: 'openai/audit_logs', reason_code: 'TETHER_SOURCE_ENCODING' });
    expect(letters[0]!.original.equals(page)).toBe(true);
  });
});
