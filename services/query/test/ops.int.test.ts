// What the query layer says and does for its users, on a real ClickHouse
// 18.16: list parameters that split on commas (CLI and API), 64-bit
// integers typed as every other number, regular expressions refused before
// they run, and the API's readiness, metrics, access log and streamed trails.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessEventRow, TABLES } from '#clickhouse';
import { runProgram } from '#service';
import { captureLogger, testConfig } from '#testkit';
import { startApi, type ApiServer } from '../src/api.ts';
import { buildQueryApp, type QueryApp } from '../src/app.ts';
import { buildCli } from '../src/cli.ts';
import { loadQueryConfig } from '../src/config.ts';
import { verifyExport } from '../src/trail.ts';
import { enriched, seededDatabase, t } from './fixtures.ts';

const TOKENS = [{ name: 'soc-dashboard', token: 'soc-token-0123456789abcdef0123' }, { name: 'auditor', token: 'audit-token-0123456789abcdef01' }];
const NOW = new Date('2026-02-01T00:00:00Z');
let db: Awaited<ReturnType<typeof seededDatabase>>;
let app: QueryApp;
let api: ApiServer;
const logs = captureLogger('query');

beforeAll(async () => {
  db = await seededDatabase();
  // An Anthropic admin action from no known device, beside the seeded OpenAI ones.
  await db.ch.insertRows(TABLES.accessEvents, [
    enriched({ id: 'e90', at: '2026-01-20T10:00:00Z', platform: 'anthropic', action: 'api_key.created', cls: [6003, 1], targets: [['api_key', 'ak_1']] }),
  ].map(accessEventRow));
  const config = loadQueryConfig({ TETHER_CLICKHOUSE_URL: testConfig().TETHER_CLICKHOUSE_URL, TETHER_CLICKHOUSE_DATABASE: db.database });
  app = buildQueryApp(config, { log: logs.log, clickhouse: db.ch, now: () => NOW });
  api = await startApi(app, { tokens: TOKENS, host: '127.0.0.1', port: 0, maxRows: 50 });
});

afterAll(async () => {
  await api?.close();
  await app?.close();
  await db?.drop();
});

async function get(path: string, token: string | null = TOKENS[0]!.token): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${api.port}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, headers: res.headers };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string }> {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const code = await runProgram(buildCli(() => app, { stdout, stderr: new PassThrough() }, async () => undefined), args);
  return { code, stdout: Buffer.concat(chunks).toString('utf8') };
}

const HUNT = 'ai-admin-actions-unmanaged-devices';
const ids = (rows: { event_id: string }[]) => rows.map((r) => r.event_id).sort();

describe('list parameters', () => {
  it('platforms=openai,anthropic returns the rows of both, from the CLI and the API, as the repeated name does', async () => {
    const both = ['e01', 'e05', 'e06', 'e90'];
    const viaCli = await cli(['hunt', HUNT, '-p', 'since=2026-01-01', '-p', 'platforms=openai,anthropic', '-o', 'json']);
    expect(viaCli.code).toBe(0);
    expect(ids(JSON.parse(viaCli.stdout))).toEqual(both);
    expect(ids(JSON.parse((await cli(['hunt', HUNT, '-p', 'since=2026-01-01', '-p', 'platforms=openai', '-p', 'platforms=anthropic', '-o', 'json'])).stdout))).toEqual(both);
    expect(ids((await get(`/v1/hunts/${HUNT}?since=2026-01-01&platforms=openai,anthropic`)).body.rows)).toEqual(both);
    expect(ids((await get(`/v1/hunts/${HUNT}?since=2026-01-01&platforms=anthropic`)).body.rows)).toEqual(['e90']);
    expect(ids((await get(`/v1/hunts/${HUNT}?since=2026-01-01&platforms=%20anthropic%20,`)).body.rows)).toEqual(['e90']);
  });
});

describe('64-bit integers', () => {
  it('are JSON numbers in hunts as in reports and trails', async () => {
    const hunt = (await get('/v1/hunts/new-api-keys-per-person?since=2026-01-01')).body.rows;
    expect(hunt.length).toBeGreaterThan(0);
    for (const row of hunt) expect(typeof row.keys_created, JSON.stringify(row)).toBe('number');
    const orphans = (await get('/v1/orphans')).body.rows;
    for (const row of orphans) expect(typeof row.uses_after_left).toBe('number');
    const viaCli = JSON.parse((await cli(['hunt', 'new-api-keys-per-person', '-p', 'since=2026-01-01', '-o', 'json'])).stdout);
    expect(viaCli).toEqual(hunt);
  });
});

describe('regular-expression parameters', () => {
  it.each([
    ['(unclosed', /not a valid regular expression/],
    ['api_(?=key)', /lookahead, lookbehind and backreferences are not supported/],
    ['(a)\\1', /not supported by ClickHouse/],
  ])('%s is refused before the query runs', async (pattern, message) => {
    const { status, body } = await get(`/v1/hunts/${HUNT}?admin_objects=${encodeURIComponent(pattern)}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'TETHER_QUERY_BIND', message: expect.stringMatching(message) });
    expect(body.error.message).toContain('admin_objects');
  });
});

describe('the API', () => {
  it('/health is liveness, /ready says ClickHouse answers and is migrated', async () => {
    expect((await get('/health', null)).body).toEqual({ status: 'ok' });
    const ready = await get('/ready', null);
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', checks: { clickhouse: { ok: true }, schema_migrated: { ok: true } } } });
  });

  it('/ready is 503 while the schema is not migrated', async () => {
    const config = loadQueryConfig({ TETHER_CLICKHOUSE_URL: testConfig().TETHER_CLICKHOUSE_URL, TETHER_CLICKHOUSE_DATABASE: 'default' });
    const unmigrated = buildQueryApp(config, { log: logs.log });
    try {
      const checks = await unmigrated.ready();
      expect(checks).toMatchObject({ clickhouse: { ok: true }, schema_migrated: { ok: false, detail: expect.stringMatching(/pending: 0001_access_events\.sql/) } });
    } finally {
      await unmigrated.close();
    }
  });

  it('/metrics counts requests by route and status', async () => {
    await get('/v1/hunts');
    await get('/v1/hunts', 'wrong-token');
    const { status, body } = await get('/metrics', null);
    expect(status).toBe(200);
    expect(body).toMatch(/tether_query_api_requests_total\{route="hunts",status="200",service="query"\} \d+/);
    expect(body).toMatch(/tether_query_api_requests_total\{route="hunts",status="401",service="query"\} \d+/);
  });

  it('logs who asked what, once per request, never the token', async () => {
    logs.lines.length = 0;
    await get(`/v1/trail?email=alice%40acme.test&from=2026-01-01&to=2026-02-01&format=ndjson`, TOKENS[1]!.token);
    await get(`/v1/hunts/${HUNT}?since=2026-01-01`);
    await get('/v1/connectors', 'not-a-token');
    const requests = logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'query API request');
    expect(requests).toEqual([
      expect.objectContaining({ route: 'trail', who: 'auditor', client: expect.stringMatching(/127\.0\.0\.1/), subject: { kind: 'email', value: 'alice@acme.test' }, status: 200, rows: expect.any(Number) }),
      expect.objectContaining({ route: 'hunt', who: 'soc-dashboard', hunt: HUNT, status: 200, rows: 4 }),
      expect.objectContaining({ route: 'connectors', who: 'anonymous', status: 401 }),
    ]);
    const all = logs.lines.join('\n');
    for (const { token } of TOKENS) expect(all).not.toContain(token);
    expect(all).not.toContain('not-a-token');
  });

  it('streams a trail (no content-length) and the answer verifies', async () => {
    for (const format of ['ndjson', 'csv', 'json']) {
      const res = await get(`/v1/trail?person=okta:00u_bob&from=2026-01-01&to=2026-02-01&format=${format}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBeNull();
      expect(res.headers.get('transfer-encoding')).toBe('chunked');
      const { manifest } = res.body;
      const file = format === 'json' ? `[${res.body.rows.map((r: unknown) => `\n${JSON.stringify(r)}`).join(',')}\n]\n` : res.body.data;
      expect(verifyExport(file, manifest)).toMatchObject({ ok: true, rowCount: 5 });
      expect(manifest.generated_at).toBe(NOW.toISOString());
    }
  });

  it('a trail over the row cap is refused with a status before any byte of it', async () => {
    const small = await startApi(app, { tokens: TOKENS, host: '127.0.0.1', port: 0, maxRows: 2 });
    try {
      const res = await fetch(`http://127.0.0.1:${small.port}/v1/trail?person=okta:00u_bob&from=2026-01-01&to=2026-02-01`, { headers: { authorization: `Bearer ${TOKENS[0]!.token}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/more than 2 rows/);
    } finally {
      await small.close();
    }
  });
});

void t;
