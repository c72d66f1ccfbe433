// The HTTP API (node:http, JSON). Every /v1 route needs the bearer token,
// compared in constant time and never logged; /health answers without it
// and says no more than whether ClickHouse answers.
//
//   GET /v1/trail?email=|person=|nhi=|connector=&from=&to=&format=json|csv|ndjson
//   GET /v1/connectors?provider=&classification=&state=&sanctioned=
//   GET /v1/orphans?kind=&platform=&min_uses_after_left=
//   GET /v1/findings?since=&until=&rule=&severity=&person=&limit=
//   GET /v1/hunts               GET /v1/hunts/:name?<param>=...
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TetherError, type ErrorCode } from '#errors';
import type { QueryApp } from './app.ts';
import { describeParams } from './hunts.ts';
import { huntRawParams, parseConnectorParams, parseFindingParams, parseOrphanParams, parseTrailParams, type RawParams } from './params.ts';

export interface ApiOptions {
  token: string;
  host: string;
  port: number;
  /** Most rows one answer carries. */
  maxRows: number;
}

export interface ApiServer {
  server: Server;
  port: number;
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
  const handler = apiHandler(app, options);
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

export function apiHandler(app: QueryApp, options: ApiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const expected = digest(options.token);
  const authorised = (req: IncomingMessage): boolean => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    // Both sides hashed to 32 bytes: equal length, and no early exit that times the prefix.
    return match !== null && timingSafeEqual(digest(match[1]!), expected);
  };

  return async (req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let route = 'unknown';
    // A client that goes away cancels its ClickHouse query.
    const abort = new AbortController();
    res.once('close', () => abort.abort());
    try {
      if (url.pathname === '/health') {
        route = 'health';
        const ok = await app.ping();
        return send(res, ok ? 200 : 503, { status: ok ? 'ok' : 'clickhouse unavailable' });
      }
      if (!url.pathname.startsWith('/v1/')) throw new HttpError(404, 'not found');
      const path = url.pathname.replace(/\/+$/, '');
      route = routeOf(path);
      if (!authorised(req)) {
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
        const chunks: string[] = [];
        const manifest = await app.trail(request, format, (chunk) => void chunks.push(chunk), {
          maxRows: options.maxRows,
          signal: abort.signal,
        });
        const body = chunks.join('');
        return send(res, 200, format === 'json' ? { manifest, rows: JSON.parse(body) } : { manifest, format, data: body });
      }
      if (route === 'connectors') {
        return sendRows(res, await app.connectors(parseConnectorParams(raw), abort.signal), options.maxRows);
      }
      if (route === 'orphans') {
        return sendRows(res, await app.orphans(parseOrphanParams(raw), abort.signal), options.maxRows);
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
        const result = await app.hunt(huntName(path), huntRawParams(raw), abort.signal);
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
      else res.destroy();
    } finally {
      // Probes poll /health all day: at debug, so the info log is the API's real use.
      const level = route === 'health' ? 'debug' : 'info';
      app.log[level]({ method: req.method, route, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'query API request');
    }
  };
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

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
