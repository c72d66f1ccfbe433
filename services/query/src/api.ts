// The HTTP API (node:http, JSON). Every /v1 route needs a bearer token,
// compared in constant time and never logged; /health (liveness), /ready
// (ClickHouse answers and is migrated) and /metrics answer without one.
// Every request is logged once: who asked (the token's name, the client
// address), what (route, hunt, subject), the status and the row count.
// Trails are streamed row by row, never held whole.
//
//   GET /v1/trail?email=|person=|nhi=|connector=&from=&to=&format=json|csv|ndjson
//   GET /v1/connectors?provider=&classification=&state=&sanctioned=
//   GET /v1/orphans?kind=&platform=&min_uses_after_left=
//   GET /v1/findings?since=&until=&rule=&severity=&person=&limit=
//   GET /v1/hunts               GET /v1/hunts/:name?<param>=...
import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TetherError, type ErrorCode } from '#errors';
import { createMetrics, type ComponentMetrics } from '#service';
import type { QueryApp } from './app.ts';
import { describeParams } from './hunts.ts';
import { huntRawParams, parseConnectorParams, parseFindingParams, parseOrphanParams, parseTrailParams, type RawParams } from './params.ts';

/** A caller of the API: the name is what the access log says; the token is never logged. */
export interface ApiToken {
  name: string;
  token: string;
}

export interface ApiOptions {
  /** The token of TETHER_QUERY_API_TOKEN, named "default" in the access log. */
  token?: string;
  /** Named tokens (TETHER_QUERY_API_TOKENS), one per caller. */
  tokens?: readonly ApiToken[];
  host: string;
  port: number;
  /** Most rows one answer carries. */
  maxRows: number;
  metrics?: ComponentMetrics;
}

export interface ApiServer {
  server: Server;
  port: number;
  metrics: ComponentMetrics;
  close(): Promise<void>;
}

/** What each error code answers with; anything else is a 500 or 502. */
const STATUS: Partial<Record<ErrorCode, number>> = {
  TETHER_QUERY_BIND: 400,
  TETHER_QUERY_UNKNOWN: 404,
  TETHER_QUERY_FAILED: 502,
};

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function startApi(app: QueryApp, options: ApiOptions): Promise<ApiServer> {
  const metrics = options.metrics ?? createMetrics('query');
  const handler = apiHandler(app, { ...options, metrics });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  app.log.info({ host: options.host, port }, 'query API listening');
  return {
    server,
    port,
    metrics,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export function apiHandler(app: QueryApp, options: ApiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const tokens = [...(options.token ? [{ name: 'default', token: options.token }] : []), ...(options.tokens ?? [])]
    .map((t) => ({ name: t.name, digest: digest(t.token) }));
  if (tokens.length === 0) throw new Error('the query API needs at least one token');
  /** The name of the token presented, or null. Every token is compared, so the time taken names none. */
  const caller = (req: IncomingMessage): string | null => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (match === null) return null;
    // Both sides hashed to 32 bytes: equal length, and no early exit that times the prefix.
    const presented = digest(match[1]!);
    let found: string | null = null;
    for (const t of tokens) if (timingSafeEqual(presented, t.digest) && found === null) found = t.name;
    return found;
  };
  const metrics = options.metrics ?? createMetrics('query');
  const requests = metrics.counter('query_api_requests_total', 'Query API requests by route and status.', ['route', 'status']);
  const duration = metrics.histogram('query_api_request_duration_seconds', 'Query API request time.', [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120], ['route']);
  const rowsSent = metrics.counter('query_api_rows_total', 'Rows the query API answered with.', ['route']);

  return async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let route = 'unknown';
    /** What the access log says about the request besides its route. */
    const audit: { who?: string | null; hunt?: string; subject?: { kind: string; value: string }; rows?: number } = {};
    // A client that goes away cancels its ClickHouse query.
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    try {
      if (url.pathname === '/health') {
        // Liveness: the process answers. Whether ClickHouse does is readiness.
        route = 'health';
        return send(res, 200, { status: 'ok' });
      }
      if (url.pathname === '/ready') {
        route = 'ready';
        const checks = await app.ready();
        const ok = Object.values(checks).every((c) => c.ok);
        return send(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready', checks });
      }
      if (url.pathname === '/metrics') {
        route = 'metrics';
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return void res.end(text);
      }
      if (!url.pathname.startsWith('/v1/')) throw new HttpError(404, 'not found');
      const path = url.pathname.replace(/\/+$/, '');
      route = routeOf(path);
      audit.who = caller(req);
      if (audit.who === null) {
        res.setHeader('www-authenticate', 'Bearer realm="tether"');
        throw new HttpError(401, 'a valid bearer token is required');
      }
      if (req.method !== 'GET') {
        res.setHeader('allow', 'GET');
        throw new HttpError(405, 'only GET is supported');
      }
      const raw = queryParams(url);
      if (route === 'trail') {
        const { request, format } = parseTrailParams(raw);
        audit.subject = { kind: request.subject, value: request.value };
        // Counted first: an answer over the cap is refused with a status, never cut after its first byte.
        const count = await app.trailRowCount(request, abort.signal);
        if (count > options.maxRows) throw new HttpError(400, `the trail has more than ${options.maxRows} rows: narrow the time range`);
        audit.rows = await streamTrail(app, res, request, format, options.maxRows, abort.signal);
        rowsSent.inc({ route }, audit.rows);
        return;
      }
      if (route === 'connectors') {
        const rows = await app.connectors(parseConnectorParams(raw), abort.signal);
        audit.rows = rows.length;
        return sendRows(res, rows, options.maxRows);
      }
      if (route === 'orphans') {
        const rows = await app.orphans(parseOrphanParams(raw), abort.signal);
        audit.rows = rows.length;
        return sendRows(res, rows, options.maxRows);
      }
      if (route === 'findings') {
        return sendRows(res, await app.findings(parseFindingParams(raw, app.now()), abort.signal), options.maxRows);
      }
      if (route === 'hunts') {
        return send(res, 200, {
          hunts: [...app.hunts.values()].map((h) => ({
            name: h.name, title: h.title, description: h.description, params: h.params, usage: describeParams(h),
          })),
        });
      }
      if (route === 'hunt') {
        audit.hunt = huntName(path);
        const result = await app.hunt(audit.hunt, huntRawParams(raw), abort.signal);
        audit.rows = result.rows.length;
        if (result.rows.length > options.maxRows) throw new HttpError(422, `the hunt returned more than ${options.maxRows} rows: narrow it`);
        return send(res, 200, { hunt: result.hunt.name, rows: result.rows, row_count: result.rows.length });
      }
      throw new HttpError(404, 'not found');
    } catch (err) {
      const status = err instanceof HttpError ? err.status : TetherError.is(err) ? (STATUS[err.code] ?? 500) : 500;
      if (status >= 500) app.log.error({ err, route }, 'query API request failed');
      const code = TetherError.is(err) ? err.code : undefined;
      // A 5xx says what failed, not the server's text (it may quote the query).
      const message = status >= 500 ? (status === 502 ? 'the ClickHouse query failed' : 'internal error') : (err as Error).message;
      if (!res.headersSent) send(res, status, { error: { ...(code ? { code } : {}), message } });
      // Mid-stream: the body is left unterminated (invalid JSON), so no client takes it for a whole answer.
      else res.destroy();
    } finally {
      const status = res.destroyed && !res.writableFinished ? 'aborted' : String(res.statusCode);
      requests.inc({ route, status });
      duration.observe({ route }, (performance.now() - started) / 1000);
      // Probes poll /health, /ready and /metrics all day: at debug, so the info log is the API's real use.
      const level = route === 'health' || route === 'ready' || route === 'metrics' ? 'debug' : 'info';
      app.log[level]({
        method: req.method, route, status: res.statusCode, ms: Math.round(performance.now() - started),
        who: audit.who === undefined ? undefined : (audit.who ?? 'anonymous'),
        client: req.socket.remoteAddress,
        ...(audit.hunt !== undefined ? { hunt: audit.hunt } : {}),
        ...(audit.subject ? { subject: audit.subject } : {}),
        ...(audit.rows !== undefined ? { rows: audit.rows } : {}),
      }, 'query API request');
    }
  };
}

/**
 * Streams a trail as `{"rows": <the json export>, "manifest": ...}` or
 * `{"format": f, "data": "<the csv or ndjson export>", "manifest": ...}`:
 * the same answer as before, with the manifest last because it is only
 * known once the last row is hashed. Resolves with the row count.
 */
async function streamTrail(app: QueryApp, res: ServerResponse, request: Parameters<QueryApp['trail']>[0], format: Parameters<QueryApp['trail']>[1], maxRows: number, signal: AbortSignal): Promise<number> {
  const write = async (text: string) => {
    if (!res.write(text)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    if (signal.aborted) throw new Error('the client went away');
  };
  let opened = false;
  const open = async () => {
    if (opened) return;
    opened = true;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    await write(format === 'json' ? '{"rows":' : `{"format":${JSON.stringify(format)},"data":"`);
  };
  const manifest = await app.trail(request, format, async (chunk) => {
    await open();
    // Each chunk is whole rows: JSON-escaped on its own it is a piece of one JSON string.
    if (chunk) await write(format === 'json' ? chunk : JSON.stringify(chunk).slice(1, -1));
  }, { maxRows, signal });
  await open();
  res.end(`${format === 'json' ? '' : '"'},"manifest":${JSON.stringify(manifest)}}`);
  return manifest.row_count;
}

/** A bounded name for logs: never the raw path (hunt names come from the caller). */
function routeOf(path: string): string {
  const fixed: Record<string, string> = { '/v1/trail': 'trail', '/v1/connectors': 'connectors', '/v1/orphans': 'orphans', '/v1/findings': 'findings', '/v1/hunts': 'hunts' };
  return fixed[path] ?? (/^\/v1\/hunts\/[^/]+$/.test(path) ? 'hunt' : 'unknown');
}

function huntName(path: string): string {
  try {
    return decodeURIComponent(path.slice('/v1/hunts/'.length));
  } catch {
    throw new HttpError(400, 'the hunt name is not valid percent-encoding');
  }
}

/**
 * The query string as raw parameters, a repeated name as a list. No
 * prototype: `__proto__` is a name like any other (refused as unknown),
 * where on a plain object assigning it would replace the object's prototype.
 */
export function queryParams(url: URL): RawParams {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    out[name] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

function sendRows(res: ServerResponse, rows: readonly unknown[], maxRows: number): void {
  if (rows.length > maxRows) throw new HttpError(422, `more than ${maxRows} rows: narrow the filter`);
  send(res, 200, { rows, row_count: rows.length });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** TETHER_QUERY_API_TOKENS: `name=token` pairs, comma-separated. */
export function parseNamedTokens(text: string): ApiToken[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((pair) => {
    const eq = pair.indexOf('=');
    return { name: pair.slice(0, eq), token: pair.slice(eq + 1) };
  });
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
