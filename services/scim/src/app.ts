// Builds the SCIM service: connects to Kafka and the registry, rebuilds its
// state from the identity topics it writes, then serves /scim/v2. The same
// ScimService (without the HTTP server) runs the replay and bootstrap
// imports. No I/O happens until start().
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tetherError, TetherError } from '#errors';
import type { Producer } from '#kafka';
import type { Logger } from '#log';
import { deadLetterWriter, type DeadLetterWriter, type HealthReport, type LifecycleState } from '#service';
import { connectPipeline, type Pipeline } from '#service/pipeline';
import type { ScimConfig } from './config.ts';
import { buildHttp, SCIM_PREFIX } from './http.ts';
import { createScimMetrics, type ScimMetrics } from './metrics.ts';
import { restoreDirectory } from './restore.ts';
import { badRequest } from './scim-error.ts';
import { ScimService, type OutRecord } from './service.ts';
import type { FastifyInstance } from 'fastify';

export interface ScimAppDeps {
  log: Logger;
  metrics?: ScimMetrics;
  now?: () => number;
}

export interface ScimCore {
  service: ScimService;
  pipeline: Pipeline;
  producer: Producer;
  deadLetters: DeadLetterWriter;
  restoredRecords: number;
  close(): Promise<void>;
}

/** Kafka, the codec, the state rebuilt from the topics, and a service writing through the producer. */
export async function openScimCore(config: Readonly<ScimConfig>, deps: ScimAppDeps, metrics: ScimMetrics): Promise<ScimCore> {
  const log = deps.log;
  const instance = randomBytes(4).toString('hex');
  const pipeline = await connectPipeline(config, `tether-scim-${instance}`, log);
  let producer: Producer | undefined;
  try {
    const started = Date.now();
    const { directory, records } = await restoreDirectory({
      client: pipeline.kafka.consumer, codec: pipeline.codec, usersTopic: pipeline.topics.identityUsers,
      groupsTopic: pipeline.topics.identityGroups, groupId: `${config.TETHER_TOPIC_PREFIX}tether-scim-restore-${instance}`, log,
    });
    log.info({ records, ms: Date.now() - started, ...directory.counts() }, 'SCIM state restored from the identity topics');
    producer = await pipeline.kafka.producer.producer();
    const send = producer;
    const service = new ScimService({
      directory,
      platform: config.TETHER_SCIM_PLATFORM,
      maxResults: config.TETHER_SCIM_MAX_RESULTS,
      now: deps.now,
      emit: async (records: OutRecord[]) => {
        const encoded = records.map((r) => {
          try {
            return { topic: pipeline.topics[r.role], key: r.key, value: pipeline.codec.encode(r.role, r.value as never) };
          } catch (err) {
            // A group so large its version exceeds a Kafka record: refused, nothing applied.
            if (TetherError.is(err) && err.code === 'TETHER_RECORD_TOO_LARGE') throw badRequest('invalidValue', `the change is too large to record: ${err.message}`);
            throw err;
          }
        });
        await send.send(encoded);
        metrics.sent.inc({ component: 'scim' }, encoded.length);
      },
    });
    service.onChange = (change) => {
      metrics.changes.inc({ kind: change.kind, resource: change.resourceType });
      const counts = service.directory.counts();
      metrics.resources.set({ resource: 'User', state: 'live' }, counts.liveUsers);
      metrics.resources.set({ resource: 'User', state: 'deleted' }, counts.users - counts.liveUsers);
      metrics.resources.set({ resource: 'Group', state: 'live' }, counts.liveGroups);
      metrics.resources.set({ resource: 'Group', state: 'deleted' }, counts.groups - counts.liveGroups);
    };
    service.onChange({ kind: 'create', resourceType: 'User', id: '', versions: 0 });
    metrics.changes.reset();
    const deadLetters = deadLetterWriter({ service: 'scim', dlqTopic: pipeline.topics.dlq, codec: pipeline.codec, producer });
    return { service, pipeline, producer, deadLetters, restoredRecords: records, close: () => send.close() };
  } catch (err) {
    await producer?.close().catch(() => undefined);
    throw err;
  }
}

export interface ScimApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
  readonly port: number | undefined;
  readonly service: ScimService | undefined;
  readonly metrics: ScimMetrics;
}

export function buildScimApp(config: Readonly<ScimConfig>, deps: ScimAppDeps): ScimApp {
  const log = deps.log.child({ component: 'scim' });
  const metrics = deps.metrics ?? createScimMetrics();
  let state: LifecycleState = 'starting';
  let core: ScimCore | undefined;
  let http: FastifyInstance | undefined;
  let port: number | undefined;

  function health(): HealthReport {
    return {
      state,
      checks: { state_restored: { ok: core !== undefined, detail: core ? `${core.restoredRecords} records read` : 'restoring' } },
      resources: core?.service.directory.counts() ?? null,
    };
  }

  return {
    metrics,
    health,
    get port() {
      return port;
    },
    get service() {
      return core?.service;
    },

    async start() {
      const token = config.TETHER_SCIM_TOKEN;
      if (token === undefined) throw tetherError('TETHER_CONFIG_INVALID', 'TETHER_SCIM_TOKEN: required to serve SCIM (the bearer token the identity provider sends)');
      core = await openScimCore(config, { ...deps, log }, metrics);
      const service = core.service;
      http = buildHttp({
        service, token, log, metrics, bodyLimitBytes: config.TETHER_SCIM_BODY_LIMIT_BYTES, baseUrl: config.TETHER_SCIM_BASE_URL,
        health, ready: () => state === 'running', now: deps.now,
      });
      await http.listen({ port: config.TETHER_SCIM_PORT, host: config.TETHER_SCIM_HOST });
      port = (http.server.address() as AddressInfo).port;
      state = 'running';
      log.info({ port, path: SCIM_PREFIX }, 'serving SCIM');
    },

    async stop() {
      if (state === 'stopped') return;
      state = 'draining';
      // close() stops accepting and waits for the requests in hand (their writes finish and are acknowledged).
      await http?.close();
      await core?.close();
      state = 'stopped';
      log.info('stopped');
    },
  };
}
