// The HTTP edge on fastify: bearer-token auth on /scim/v2 (constant-time),
// application/scim+json and application/json bodies, JSON-schema validation
// of the request envelopes (ajv, no coercion: values are canonicalised by
// the schema module), RFC 7644 error bodies for everything that goes wrong,
// and /health, /ready and /metrics beside. Bodies are never logged: a
// password may be in one, and a JSON parse error's message quotes the text
// it choked on, so that message is replaced, never passed on.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '#log';
import type { HealthReport } from '#service';
import type { ScimMetrics } from './metrics.ts';
import { ScimError, badRequest } from './scim-error.ts';
import type { ScimResponse, ScimService } from './service.ts';

export const SCIM_PREFIX = '/scim/v2';
const SCIM_JSON = 'application/scim+json; charset=utf-8';

export interface HttpOptions {
  service: ScimService;
  token: string;
  log: Logger;
  metrics: ScimMetrics;
  bodyLimitBytes: number;
  baseUrl: string | undefined;
  health(): HealthReport;
  ready(): boolean;
  now?: () => number;
}

/** Envelope schemas fastify validates before a handler runs: a body failing them changes nothing. */
const stringList = { type: 'array', minItems: 1, items: { type: 'string' } } as const;
const resourceBody = { type: 'object', required: ['schemas'], properties: { schemas: stringList } } as const;
const patchBody = {
  type: 'object',
  required: ['schemas', 'Operations'],
  properties: {
    schemas: stringList,
    Operations: {
      type: 'array', minItems: 1, maxItems: 1_000,
      items: { type: 'object', required: ['op'], properties: { op: { type: 'string' }, path: { type: ['string', 'null'] } } },
    },
  },
} as const;

export function buildHttp(options: HttpOptions): FastifyInstance {
  const { service, log, metrics } = options;
  const now = options.now ?? Date.now;
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // Requests are logged by the handler (method, path, status): never bodies, never headers.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes,
    // Validation is a gate, not a transformer: no coercion, no defaults, nothing removed.
    ajv: { customOptions: { coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false } },
  });
  const expected = digest(options.token);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'application/scim+json'], { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith(SCIM_PREFIX)) return;
    const header = req.headers.authorization;
    const token = typeof header === 'string' && /^bearer /i.test(header) ? header.slice(7).trim() : null;
    if (token === null || !timingSafeEqual(digest(token), expected)) {
      metrics.requests.inc({ method: req.method, resource: resourceOf(req.url), status: '401' });
      await send(reply.header('www-authenticate', 'Bearer realm="tether-scim"'), { status: 401, headers: {}, body: new ScimError(401, null, 'a valid bearer token is required').body() });
      return reply;
    }
    return undefined;
  });

  app.setErrorHandler(async (error: FastifyError, req, reply) => {
    const scim = toScimError(error);
    if (scim.status >= 500) log.error({ err: error, method: req.method, url: req.url }, 'request failed');
    else log.info({ method: req.method, url: req.url, status: scim.status, scimType: scim.scimType, detail: scim.message }, 'request refused');
    metrics.requests.inc({ method: req.method, resource: resourceOf(req.url), status: String(scim.status) });
    await send(reply, { status: scim.status, headers: {}, body: scim.body() });
  });

  app.setNotFoundHandler(async (req, reply) => {
    await send(reply, { status: 404, headers: {}, body: new ScimError(404, null, `no endpoint ${req.method} ${req.url.split('?')[0]}`).body() });
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const started = performance.now();
    const url = new URL(req.url, 'http://scim.invalid');
    const baseUrl = options.baseUrl?.replace(/\/+$/, '') ?? `${req.protocol}://${req.host}${SCIM_PREFIX}`;
    const at = now();
    const response = await service.handle({
      method: req.method,
      path: url.pathname.slice(SCIM_PREFIX.length),
      query: req.query as Record<string, string | undefined>,
      body: req.body,
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
      at,
      sourceTime: new Date(at).toISOString(),
      baseUrl,
    });
    const resource = resourceOf(req.url);
    metrics.requests.inc({ method: req.method, resource, status: String(response.status) });
    metrics.latency.observe({ method: req.method, resource }, (performance.now() - started) / 1000);
    if (response.status >= 400) {
      log.info({ method: req.method, url: url.pathname, status: response.status, scimType: response.body?.scimType, detail: response.body?.detail }, 'request refused');
    }
    await send(reply, response);
  };

  app.route({ method: 'GET', url: `${SCIM_PREFIX}/*`, handler });
  app.route({ method: 'POST', url: `${SCIM_PREFIX}/:type`, schema: { body: resourceBody }, handler });
  app.route({ method: 'PUT', url: `${SCIM_PREFIX}/:type/:id`, schema: { body: resourceBody }, handler });
  app.route({ method: 'PATCH', url: `${SCIM_PREFIX}/:type/:id`, schema: { body: patchBody }, handler });
  app.route({ method: 'DELETE', url: `${SCIM_PREFIX}/:type/:id`, handler });

  app.get('/health', async (_req, reply) => {
    const report = options.health();
    const ok = report.state === 'running' && Object.values(report.checks).every((c) => c.ok);
    await reply.code(ok ? 200 : 503).send(report);
  });
  app.get('/ready', async (_req, reply) => {
    const ready = options.ready();
    await reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/metrics', async (_req, reply) => {
    await reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}

async function send(reply: FastifyReply, response: ScimResponse): Promise<void> {
  reply.code(response.status);
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  if (response.body === undefined) {
    await reply.send();
    return;
  }
  await reply.header('content-type', SCIM_JSON).send(JSON.stringify(response.body));
}

function toScimError(error: FastifyError): ScimError {
  if (ScimError.is(error)) return error;
  if (error.validation) {
    const first = error.validation[0];
    const where = `${error.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
    return badRequest('invalidSyntax', `${where} ${first?.message ?? 'is invalid'}`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      // Never error.message: it quotes the body, which may hold a password.
      return badRequest('invalidSyntax', 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScimError(413, null, 'the body is larger than this service accepts (TETHER_SCIM_BODY_LIMIT_BYTES)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ScimError(415, null, 'send application/scim+json or application/json');
    default:
      if (error instanceof SyntaxError) return badRequest('invalidSyntax', 'the body is not valid JSON');
      if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) return new ScimError(error.statusCode, null, 'the request was refused');
      return new ScimError(500, null, 'internal error: nothing was applied');
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** A bounded label: the collection, never an id. */
function resourceOf(url: string): string {
  const collection = url.slice(SCIM_PREFIX.length).split(/[/?]/)[1] ?? '';
  const known = ['Users', 'Groups', 'ServiceProviderConfig', 'ResourceTypes', 'Schemas'];
  return known.find((k) => k.toLowerCase() === collection.toLowerCase()) ?? 'other';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
