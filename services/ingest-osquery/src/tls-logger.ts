// An HTTP endpoint compatible with osquery's TLS logger plugin (reference
// §A1.1): POST /enroll answers a node key for the enroll secret; POST /log
// takes `{node_key, log_type, data}` (gzip when --logger_tls_compress) and
// answers only after its records are acknowledged by Kafka, so osquery,
// which keeps what was not acknowledged, resends it after a failure. An
// unknown node key answers `node_invalid: true`, which makes osquery enroll
// again. TLS itself is the terminator's in front (osquery requires HTTPS).
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { tetherError } from '#errors';
import type { Logger } from '#log';
import { serialiseElement, type CheckpointStore, type PageSink, type ProcessedItem } from '#source';
import type { HostState } from './device-state.ts';
import { issueNodeKey, secretMatches, verifyNodeKey } from './node-keys.ts';
import { processResult, type ProcessorOptions } from './results-processor.ts';

export const SOURCE = 'osquery/tls';

export interface TlsLoggerDeps {
  sink: PageSink;
  checkpoints: CheckpointStore;
  log: Logger;
  options: () => ProcessorOptions;
  enrollSecret: string;
  nodeKeySecret: string;
  maxBodyBytes: number;
  onStatusRecords?: (count: number) => void;
}

export const hostCheckpointId = (host: string) => `osquery/tls/host/${host}`;

export function buildTlsLogger(deps: TlsLoggerDeps): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: deps.maxBodyBytes });
  // Bodies are read as bytes: gzip is undone here, with the same bound on what it expands to.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    try {
      const gzip = /gzip/i.test(String(req.headers['content-encoding'] ?? '')) || (body[0] === 0x1f && body[1] === 0x8b);
      const bytes = gzip ? gunzipSync(body, { maxOutputLength: deps.maxBodyBytes }) : body;
      done(null, JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown);
    } catch (err) {
      done(Object.assign(tetherError('TETHER_SOURCE_PARSE', `body is not (gzipped) UTF-8 JSON: ${(err as Error).message.slice(0, 200)}`), { statusCode: 400 }), undefined);
    }
  });
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 503;
    if (status >= 500) deps.log.error({ err }, 'tls logger request failed');
    void reply.code(status).send({ error: status >= 500 ? 'not stored; retry' : err.message });
  });

  // One chain per host: its records are applied to its state in the order they arrive.
  const chains = new Map<string, Promise<unknown>>();
  const serialised = <T>(host: string, work: () => Promise<T>): Promise<T> => {
    const next = (chains.get(host) ?? Promise.resolve()).then(work, work);
    chains.set(host, next.catch(() => undefined));
    return next;
  };

  app.post('/enroll', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const host = typeof body.host_identifier === 'string' ? body.host_identifier.trim() : '';
    if (!secretMatches(deps.enrollSecret, body.enroll_secret) || host === '' || host.length > 512) {
      deps.log.warn({ host: host.slice(0, 128) }, 'osquery enrolment refused');
      return reply.code(401).send({ node_invalid: true });
    }
    deps.log.info({ host }, 'osquery host enrolled');
    return { node_key: issueNodeKey(deps.nodeKeySecret, host), node_invalid: false };
  });

  app.post('/log', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const enrolled = verifyNodeKey(deps.nodeKeySecret, body.node_key);
    if (enrolled === null) return reply.code(401).send({ node_invalid: true });
    if (!Array.isArray(body.data)) return reply.code(400).send({ error: 'data is not a list' });
    if (body.log_type === 'status') {
      deps.onStatusRecords?.(body.data.length);
      return {};
    }
    if (body.log_type !== 'result') return reply.code(400).send({ error: `log_type ${JSON.stringify(String(body.log_type)).slice(0, 40)} is not result or status` });
    await serialised(enrolled, () => commitRecords(enrolled, body.data as unknown[]));
    return {};
  });

  async function commitRecords(enrolled: string, data: readonly unknown[]): Promise<void> {
    const id = hostCheckpointId(enrolled);
    const saved = deps.checkpoints.get(id)?.cursor;
    // Records are applied to the enrolled host's state whatever hostIdentifier they carry (a rename shows there first).
    const state = saved ? (JSON.parse(saved) as Record<string, HostState>) : {};
    const hosts = new Map(Object.entries(state));
    const options = deps.options();
    const items: ProcessedItem[] = data.map((record) => processResult(hosts, record, serialiseElement(record), options));
    await deps.sink.commit({ source: SOURCE, items, checkpoint: { id, cursor: JSON.stringify(Object.fromEntries(hosts)) } });
  }

  return app;
}
