// The HTTP API over a real ClickHouse 18.16 database of its own (migrations
// by the #clickhouse runner, rows shaped by the sink's mappers): auth, bad
// parameters, and injection attempts that must not widen any answer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, testConfig } from '#testkit';
import { startApi, type ApiServer } from '../src/api.ts';
import { buildQueryApp, type QueryApp } from '../src/app.ts';
import type { Manifest } from '../src/chain.ts';
import { loadQueryConfig } from '../src/config.ts';
import { verifyExport } from '../src/trail.ts';
import { seededDatabase } from './fixtures.ts';

const TOKEN = 'tq-test-token-0123456789abcdef-secret';
let db: Awaited<ReturnType<typeof seededDatabase>>;
let app: QueryApp;
let api: ApiServer;
const logs = captureLogger('query');

beforeAll(async () => {
  db = await seededDatabase();
  const config = loadQueryConfig({
    ...process.env,
    TETHER_CLICKHOUSE_URL: testConfig().TETHER_CLICKHOUSE_URL,
    TETHER_CLICKHOUSE_DATABASE: db.database,
    TETHER_QUERY_API_TOKEN: TOKEN,
  });
  app = buildQueryApp(config, { log: logs.log, clickhouse: db.ch, now: () => new Date('2026-02-01T00:00:00Z') });
  api = await startApi(app, { token: TOKEN, host: '127.0.0.1', port: 0, maxRows: 50 });
});

afterAll(async () => {
  await api?.close();
  await app?.close();
  await db?.drop();
});

async function get(path: string, token: string | null = TOKEN): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
const JANUARY = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };

describe('auth', () => {
  it.each(['/v1/trail?person=okta:00u_bob', '/v1/connectors', '/v1/orphans', '/v1/hunts', '/v1/hunts/unattributed-actors', '/v1/nowhere'])(
    '%s: 401 without a token or with a wrong one',
    async (path) => {
      for (const token of [null, '', 'wrong', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
        const { status, body } = await get(path, token);
        expect(status, `token ${JSON.stringify(token)}`).toBe(401);
        expect(body.error.message).toMatch(/bearer token/);
      }
    },
  );

  it('/health answers without a token, and tells nothing else', async () => {
    expect(await get('/health', null)).toEqual({ status: 200, body: { status: 'ok' } });
  });
});

describe('bad parameters: 400 with a message', () => {
  it.each([
    ['/v1/trail?' + q({ ...JANUARY }), /exactly one of person, email, nhi, connector/],
    ['/v1/trail?' + q({ email: 'a@b.c', person: 'x', ...JANUARY }), /exactly one of/],
    ['/v1/trail?' + q({ email: 'a@b.c', from: '2026-02-30', to: JANUARY.to }), /from.*not a valid DateTime/],
    ['/v1/trail?' + q({ email: 'a@b.c', from: JANUARY.to, to: JANUARY.from }), /must be before "to"/],
    ['/v1/trail?' + q({ email: 'a@b.c', ...JANUARY, format: 'xml' }), /format/],
    ['/v1/trail?' + q({ nhi: 'not-an-nhi-id', ...JANUARY }), /<platform>:<kind>:<platform id>/],
    ['/v1/trail?' + q({ email: 'a@b.c', ...JANUARY, extra: '1' }), /Unrecognized key/],
    ['/v1/trail?email=a&email=b&' + q(JANUARY), /given more than once/],
    ['/v1/connectors?state=gone', /state/],
    ['/v1/orphans?min_uses_after_left=1%20OR%201', /whole number/],
    ['/v1/hunts/unattributed-actors?since=yesterday', /since.*not a valid DateTime/],
    ['/v1/hunts/unattributed-actors?min_events=-1', /min_events.*UInt64/],
    ['/v1/hunts/unattributed-actors?nope=1', /no parameter "nope"/],
    ['/v1/hunts/unattributed-actors?since=a&since=b', /takes one value/],
    // A query-string name is never the prototype of the parameters.
    ['/v1/trail?__proto__=a&__proto__=b&' + q({ email: 'a@b.c', ...JANUARY }), /"__proto__" given more than once/],
    ['/v1/trail?__proto__=a&' + q({ email: 'a@b.c', ...JANUARY }), /Unrecognized key: "__proto__"/],
    ['/v1/hunts/unattributed-actors?__proto__=a&__proto__=b', /no parameter "__proto__"/],
    ['/v1/hunts/unattributed-actors?__proto__=a', /no parameter "__proto__"/],
    // Compact dates and epoch seconds are not read as epoch ms in 1970.
    ['/v1/trail?' + q({ email: 'a@b.c', from: '20260101', to: '20260201' }), /from.*not a valid DateTime.*write 2026-01-01/],
    ['/v1/hunts/unattributed-actors?since=1767225600', /since.*epoch seconds that is 1767225600000 in ms/],
  ])('%s', async (path, message) => {
    const { status, body } = await get(path);
    expect(status).toBe(400);
    expect(body.error.code).toBe('TETHER_QUERY_BIND');
    expect(body.error.message).toMatch(message);
  });

  it('a malformed hunt name is a 400', async () => {
    const { status, body } = await get('/v1/hunts/%E0%A4%A');
    expect(status).toBe(400);
    expect(body.error.message).toMatch(/percent-encoding/);
  });

  it('an unknown hunt is a 404 naming the known ones', async () => {
    const { status, body } = await get('/v1/hunts/drop-table');
    expect(status).toBe(404);
    expect(body.error.message).toMatch(/unattributed-actors/);
  });
});

describe('Float64 parameters on 18.16', () => {
  it('a subnormal is a 400 naming the reason, not a failed query; the smallest normal runs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-query-hunts-'));
    writeFileSync(path.join(dir, 'confident-events.sql'), [
      '-- title: Events attributed with at least this confidence',
      '-- param min_confidence Float64 default 0.5',
      'SELECT event_id, confidence FROM access_events FINAL WHERE confidence >= {min_confidence:Float64} ORDER BY event_id',
      '',
    ].join('\n'));
    const floatApp = buildQueryApp(app.config, { log: logs.log, clickhouse: db.ch, huntsDir: dir });
    const floatApi = await startApi(floatApp, { token: TOKEN, host: '127.0.0.1', port: 0, maxRows: 50 });
    try {
      const ask = async (value: string) => {
        const res = await fetch(`http://127.0.0.1:${floatApi.port}/v1/hunts/confident-events?min_confidence=${value}`, { headers: { authorization: `Bearer ${TOKEN}` } });
        return { status: res.status, body: (await res.json()) as any };
      };
      for (const value of ['5e-324', '4.9e-324', '-2.225073858507201e-308', '1e-400']) {
        const { status, body } = await ask(value);
        expect(status, value).toBe(400);
        expect(body.error).toMatchObject({ code: 'TETHER_QUERY_BIND', message: expect.stringMatching(/too close to zero/) });
      }
      const smallest = await ask('2.2250738585072014e-308');
      expect(smallest.status).toBe(200);
      // Every attributed event has a confidence above zero; unresolved ones have 0.
      expect(smallest.body.rows.length).toBeGreaterThan(0);
      expect(smallest.body.rows.every((r: { confidence: number }) => r.confidence > 0)).toBe(true);
    } finally {
      await floatApi.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('answers', () => {
  it('/v1/trail returns rows with a manifest that verifies', async () => {
    const json = await get('/v1/trail?' + q({ person: 'okta:00u_bob', ...JANUARY }));
    expect(json.status).toBe(200);
    expect(json.body.rows.map((r: { event_id: string }) => r.event_id)).toEqual(['e00', 'e08', 'e06', 'e09', 'e07']);
    expect(json.body.manifest.row_count).toBe(5);
    // The json answer's rows rebuilt into the file, as the README says.
    const rebuilt = `[${json.body.rows.map((r: unknown) => `\n${JSON.stringify(r)}`).join(',')}\n]\n`;
    expect(verifyExport(rebuilt, json.body.manifest)).toMatchObject({ ok: true, rowCount: 5 });

    const csv = await get('/v1/trail?' + q({ person: 'okta:00u_bob', ...JANUARY, format: 'csv' }));
    const manifest = csv.body.manifest as Manifest;
    expect(verifyExport(csv.body.data, manifest)).toMatchObject({ ok: true, rowCount: 5 });
    // The chain hashes canonical rows, not file bytes: every format of one trail has the same row values,
    // and the header (format and generated_at included) is hashed too, so each export's digest is its own.
    expect(manifest.final_digest).not.toBe(json.body.manifest.final_digest);
    expect(verifyExport(csv.body.data, { ...manifest, format: 'ndjson' })).toMatchObject({ ok: false, reason: 'header_modified' });
  });

  it('/v1/hunts lists every hunt with its typed parameters', async () => {
    const { body } = await get('/v1/hunts');
    const names = body.hunts.map((h: { name: string }) => h.name);
    expect(names).toEqual(expect.arrayContaining(['ai-admin-actions-unmanaged-devices', 'new-api-keys-per-person', 'unattributed-actors', 'keys-used-after-owner-left']));
    expect(body.hunts.find((h: { name: string }) => h.name === 'unattributed-actors').params).toContainEqual({ name: 'since', type: 'DateTime', default: 'now-7d' });
  });

  it('ClickHouse itself stops a report at the row cap instead of sending it all', async () => {
    const config = loadQueryConfig({
      ...process.env,
      TETHER_CLICKHOUSE_URL: testConfig().TETHER_CLICKHOUSE_URL,
      TETHER_CLICKHOUSE_DATABASE: db.database,
      TETHER_QUERY_MAX_ROWS: '1',
    });
    const capped = buildQueryApp(config, { log: logs.log, clickhouse: db.ch, now: () => new Date('2026-02-01T00:00:00Z') });
    const rows = await app.hunt('unattributed-actors', { since: '2026-01-01' });
    expect(rows.rows.length).toBeGreaterThan(1);
    await expect(capped.hunt('unattributed-actors', { since: '2026-01-01' })).rejects.toMatchObject({ code: 'TETHER_QUERY_BIND', message: expect.stringMatching(/more than 1 rows/) });
  });

  it('a trail wider than the row cap fails instead of being cut', async () => {
    const small = await startApi(app, { token: TOKEN, host: '127.0.0.1', port: 0, maxRows: 2 });
    try {
      const res = await fetch(`http://127.0.0.1:${small.port}/v1/trail?${q({ person: 'okta:00u_bob', ...JANUARY })}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/more than 2 rows/);
    } finally {
      await small.close();
    }
  });
});

describe('injection attempts return no extra rows', () => {
  const HOSTILE = [
    "' OR 1=1 --",
    "x' OR '1'='1",
    "okta:00u_bob' OR person_id != '",
    "\\' OR 1=1 --",
    "'; DROP TABLE access_events; --",
    "') UNION ALL SELECT * FROM access_events --",
    "x'/*",
    "x' FORMAT CSV --",
    'x\u0000\' OR 1=1',
  ];

  it.each(HOSTILE)('trail subject %j', async (value) => {
    for (const subject of ['person', 'email', 'connector']) {
      const { status, body } = await get('/v1/trail?' + q({ [subject]: value, ...JANUARY }));
      expect(status).toBe(200);
      expect(body.rows).toEqual([]);
      expect(body.manifest.parameters.subject).toBe(value);
    }
    const nhi = await get('/v1/trail?' + q({ nhi: `openai:api_key:${value}`, ...JANUARY }));
    expect(nhi.body.rows).toEqual([]);
  });

  it.each(HOSTILE)('report filters %j', async (value) => {
    expect((await get('/v1/connectors?' + q({ provider: value }))).body).toEqual({ rows: [], row_count: 0 });
    expect((await get('/v1/orphans?' + q({ kind: value }))).body).toEqual({ rows: [], row_count: 0 });
    expect((await get('/v1/orphans?' + q({ platform: value }))).body).toEqual({ rows: [], row_count: 0 });
  });

  it.each(HOSTILE)('hunt parameters %j', async (value) => {
    const hunt = '/v1/hunts/ai-admin-actions-unmanaged-devices?';
    const list = await get(hunt + q({ since: '2026-01-01', platforms: value }));
    expect(list.status).toBe(200);
    expect(list.body.rows).toEqual([]);
    // admin_objects is a regular expression to ClickHouse: the empty one matches every action, so its rows
    // bound what any pattern may return. Hostile text is a pattern (or one ClickHouse refuses: 400), never
    // a change to the query around it.
    const widest = (await get(hunt + q({ since: '2026-01-01', admin_objects: '' }))).body.rows.map((r: { event_id: string }) => r.event_id);
    const regex = await get(hunt + q({ since: '2026-01-01', admin_objects: value }));
    if (regex.status === 200) expect(widest).toEqual(expect.arrayContaining(regex.body.rows.map((r: { event_id: string }) => r.event_id)));
    else expect(regex.body.error).toMatchObject({ code: 'TETHER_QUERY_BIND', message: expect.stringMatching(/refused by ClickHouse|not a valid regular expression/) });
    for (const name of ['since', 'min_events']) {
      const { status } = await get('/v1/hunts/unattributed-actors?' + q({ [name]: value }));
      expect(status).toBe(400);
    }
  });

  it('the tables are untouched afterwards', async () => {
    const [row] = await db.ch.queryRows<{ n: string }>('SELECT count() AS n FROM access_events FINAL');
    expect(Number(row!.n)).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  it('record every request and never the token', () => {
    const requests = logs.lines.map((line) => JSON.parse(line) as { msg: string; route?: string; status?: number }).filter((l) => l.msg === 'query API request');
    expect(requests.some((l) => l.status === 401)).toBe(true);
    expect(requests.some((l) => l.route === 'trail' && l.status === 200)).toBe(true);
    expect(logs.lines.join('\n')).not.toContain(TOKEN);
  });
});
