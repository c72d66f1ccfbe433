// Builds the sink: one consumer group per stream (enriched events, identity
// versions, dead letters), each writing its tables through one ClickHouse
// client; a DLQ producer for rows that cannot be stored; /health and /metrics.
import { CONSUMER_GROUPS } from '#config';
import {
  TABLES, TRANSCODER_SCHEMA_FINGERPRINT, asyncInsertSettings, createClickHouse, loggableClickHouseMessage, pendingMigrations,
  type ClickHouse, type TableName,
} from '#clickhouse';
import { errorMessage, tetherError } from '#errors';
import type { Producer } from '#kafka';
import type { Logger } from '#log';
import { RECORD_FOR_TOPIC, loadSchemas } from '#schemas';
import {
  STATIC_MEMBER_SESSION_TIMEOUT_MS, checkDependencies, clickhouseDependency, deadLetterWriter, instanceName, startOpsServer, waitForDependencies,
  type HealthReport, type LifecycleState, type OpsServer,
} from '#service';
import { connectPipeline, pipelineDependencies, SERVICE_STARTUP_WAIT_MS, type Pipeline } from '#service/pipeline';
import type { SinkConfig, SinkStreamName } from './config.ts';
import { createSinkMetrics, type SinkMetrics } from './metrics.ts';
import { redactSecrets } from './redact.ts';
import { SERVICE, createStreamSink, type InsertPlan, type StreamSink, type StreamSpec } from './sink.ts';
import type { SinkRole } from './request-builder.ts';

/** What each stream reads, and the table its health check queries. */
export const STREAMS: Record<SinkStreamName, { group: string; roles: readonly SinkRole[]; healthTable: TableName }> = {
  events: { group: CONSUMER_GROUPS.sinkEvents, roles: ['accessEnriched'], healthTable: TABLES.accessEvents },
  identity: {
    group: CONSUMER_GROUPS.sinkIdentity,
    roles: ['identityUsers', 'identityDevices', 'identityNhi', 'identityConnectors'],
    healthTable: TABLES.personsHistory,
  },
  dlq: { group: CONSUMER_GROUPS.sinkDlq, roles: ['dlq'], healthTable: TABLES.deadLetters },
  findings: { group: CONSUMER_GROUPS.sinkFindings, roles: ['findings'], healthTable: TABLES.findings },
};

/** Quiet time after which a buffer worth an insert is written without waiting out the max wait. */
const IDLE_FLUSH_MS = 25;
const HEALTH_QUERY_TIMEOUT_MS = 3_000;

export interface SinkApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
  /** Dependencies reachable, the schema migrated, the consumers in their groups. */
  ready(): Promise<HealthReport>;
  /** Port of /health and /metrics once started. */
  port(): number;
  readonly metrics: SinkMetrics;
}

export interface SinkDeps {
  log: Logger;
  metrics?: SinkMetrics;
  now?: () => number;
}

export function buildSinkApp(config: SinkConfig, deps: SinkDeps): SinkApp {
  const { log } = deps;
  const metrics = deps.metrics ?? createSinkMetrics();
  // Stable across restarts: the static member id in every stream group.
  const memberName = instanceName(config.TETHER_SINK_INSTANCE_ID, SERVICE);
  let state: LifecycleState = 'starting';
  let pipeline: Pipeline | undefined;
  let producer: Producer | undefined;
  let clickhouse: ClickHouse | undefined;
  let ops: OpsServer | undefined;
  const streams: StreamSink[] = [];
  /** While start-up waits for a server or the schema: which and why, for /ready. */
  let waitingFor: { dependency: string; reason: string } | undefined;
  const dependencies = [...pipelineDependencies(config), clickhouseDependency(config.TETHER_CLICKHOUSE_URL)];

  // Liveness: the stream consumers are in their groups. ClickHouse being
  // down is not-ready (the sink pauses and waits), not dead.
  function health(): HealthReport {
    const checks: HealthReport['checks'] = {};
    const statuses = streams.map((s) => s.status());
    for (const status of statuses) {
      // A stream of several group members is healthy when every member consumes.
      if (checks[`kafka:${status.stream}`]?.ok === false) continue;
      checks[`kafka:${status.stream}`] = status.consuming ? { ok: true } : { ok: false, detail: 'rejoining the consumer group' };
    }
    return { state, checks, streams: statuses, ...(waitingFor ? { waiting_for: waitingFor } : {}) };
  }

  /** A real read of each target table, as the sink's own user. */
  async function tableChecks(): Promise<HealthReport['checks']> {
    const checks: HealthReport['checks'] = {};
    const ch = clickhouse;
    await Promise.all(config.TETHER_SINK_STREAMS.map(async (name) => {
      const table = STREAMS[name].healthTable;
      if (!ch) {
        checks[`clickhouse:${table}`] = { ok: false, detail: 'not connected' };
        return;
      }
      try {
        await ch.queryRows(`SELECT count() AS n FROM (SELECT 1 FROM ${table} LIMIT 1)`, { signal: AbortSignal.timeout(HEALTH_QUERY_TIMEOUT_MS) });
        checks[`clickhouse:${table}`] = { ok: true };
      } catch (err) {
        checks[`clickhouse:${table}`] = { ok: false, detail: loggableClickHouseMessage(errorMessage(err)) };
      }
    }));
    return checks;
  }

  async function ready(): Promise<HealthReport> {
    const live = health();
    const [tables, reachable, migrated] = await Promise.all([tableChecks(), checkDependencies(dependencies), migrationCheck()]);
    return { ...live, checks: { ...live.checks, ...tables, ...reachable, schema_migrated: migrated } };
  }

  async function migrationCheck(): Promise<{ ok: boolean; detail?: string }> {
    if (!clickhouse) return { ok: false, detail: 'not connected' };
    try {
      const pending = await pendingMigrations(clickhouse);
      return pending.length === 0 ? { ok: true } : { ok: false, detail: `pending: ${pending.join(', ')} (run tether migrate)` };
    } catch (err) {
      return { ok: false, detail: loggableClickHouseMessage(errorMessage(err)) };
    }
  }

  /**
   * Start-up waits, bounded, until ClickHouse answers and holds every
   * migration: rows are never consumed into tables that are not there.
   */
  async function waitForSchema(ch: ClickHouse): Promise<void> {
    const waitMs = config.TETHER_STARTUP_WAIT_MS ?? SERVICE_STARTUP_WAIT_MS;
    const deadline = Date.now() + waitMs;
    for (;;) {
      await waitForDependencies([clickhouseDependency(config.TETHER_CLICKHOUSE_URL)], {
        waitMs: Math.max(0, deadline - Date.now()),
        log,
        onWaiting: ({ dependency, reason }) => void (waitingFor = { dependency: dependency.name, reason }),
      });
      const check = await migrationCheck();
      if (check.ok) return;
      waitingFor = { dependency: 'schema', reason: check.detail ?? 'not migrated' };
      if (Date.now() >= deadline) {
        throw tetherError('TETHER_CONFIG_INVALID', `TETHER_CLICKHOUSE_DATABASE: database ${config.TETHER_CLICKHOUSE_DATABASE} at ${config.TETHER_CLICKHOUSE_URL} is not migrated (${check.detail}); run tether migrate`);
      }
      log.warn({ reason: check.detail }, 'waiting for the ClickHouse schema to be migrated');
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, Math.max(0, deadline - Date.now()))));
    }
  }

  return {
    metrics,
    health,
    ready,
    port: () => ops?.port ?? 0,
    async start() {
      // Alive and not ready while waiting for Kafka, the registry, ClickHouse and the schema.
      ops = await startOpsServer({ port: config.TETHER_SINK_PORT, host: config.TETHER_OPS_HOST, registry: metrics.registry, health, ready });
      pipeline = await connectPipeline(config, SERVICE, log, {
        onWaiting: (dependency, reason) => void (waitingFor = { dependency, reason }),
      });
      clickhouse = createClickHouse({
        url: config.TETHER_CLICKHOUSE_URL,
        username: config.TETHER_CLICKHOUSE_USER,
        password: config.TETHER_CLICKHOUSE_PASSWORD,
        database: config.TETHER_CLICKHOUSE_DATABASE,
        requestTimeoutMs: config.TETHER_SINK_INSERT_TIMEOUT_MS,
        application: SERVICE,
      });
      await waitForSchema(clickhouse);
      waitingFor = undefined;
      producer = await pipeline.kafka.producer.producer();
      const transcodeSchemaId = transcoderSchemaId(pipeline.codec.schemaId('accessEnriched'), log);
      const insertPlan = insertPlanFor(clickhouse, log);
      const deadLetters = deadLetterWriter({
        service: SERVICE,
        dlqTopic: pipeline.topics.dlq,
        codec: pipeline.codec,
        producer,
        scrub: (text) => redactSecrets(text).text,
        now: deps.now,
      });
      for (const name of config.TETHER_SINK_STREAMS) {
        // Groups carry the topic prefix, as topics do: deployments sharing a cluster share no state.
        const spec: StreamSpec = { name, groupId: `${config.TETHER_TOPIC_PREFIX}${STREAMS[name].group}`, roles: STREAMS[name].roles };
        // Events: several members of the group in this process, each with its own partitions and
        // inserts. The consumer fetches again only once a batch is written and committed, so
        // with one member Kafka and ClickHouse take turns; with two, one member's fetch and
        // encoding run while the other's insert does.
        const members = name === 'events' ? config.TETHER_SINK_EVENT_CONSUMERS : 1;
        for (let member = 0; member < members; member += 1) streams.push(createStreamSink({
          spec,
          topics: pipeline.topics,
          // A static member of each stream's group (the id is unique per group, so one name serves every
          // stream): a restart takes its partitions back at once instead of waiting for the old session.
          // Members of one group in this process each need their own id, or the broker fences one.
          consumer: () => pipeline!.kafka.consumer.consumer({
            groupId: spec.groupId,
            groupInstanceId: member === 0 ? memberName : `${memberName}-${member}`,
            sessionTimeoutMs: STATIC_MEMBER_SESSION_TIMEOUT_MS,
            maxBytesPerPartition: config.TETHER_SINK_FETCH_BYTES_PER_PARTITION,
          }),
          codec: pipeline.codec,
          clickhouse,
          deadLetters,
          metrics,
          log,
          transcodeSchemaId,
          insertPlan,
          batch: {
            rows: config.TETHER_SINK_BATCH_ROWS,
            bytes: config.TETHER_SINK_BATCH_BYTES,
            maxWaitMs: config.TETHER_SINK_BATCH_MAX_WAIT_MS,
            idleMs: Math.min(IDLE_FLUSH_MS, config.TETHER_SINK_BATCH_MAX_WAIT_MS),
            minIdleRows: Math.max(1, Math.ceil(config.TETHER_SINK_BATCH_ROWS / 10)),
          },
          retry: { initialDelayMs: 200, maxDelayMs: config.TETHER_SINK_RETRY_MAX_MS, multiplier: 2 },
          now: deps.now,
        }));
      }
      await Promise.all(streams.map((s) => s.start()));
      if (state === 'starting') state = 'running';
      log.info({ streams: config.TETHER_SINK_STREAMS, database: config.TETHER_CLICKHOUSE_DATABASE, port: ops.port }, 'sink running');
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'draining';
      // Buffered rows are written and committed before the groups are left.
      await Promise.all(streams.map((s) => s.stop()));
      await producer?.close();
      await clickhouse?.close();
      await ops?.close();
      state = 'stopped';
      log.info('sink stopped');
    },
  };
}

/** The id access events are transcoded for, when the transcoder reads the schema in force. */
function transcoderSchemaId(schemaId: number, log: Logger): number | null {
  const fingerprint = loadSchemas().types.get(RECORD_FOR_TOPIC.accessEnriched)?.fingerprint('sha256').toString('hex');
  if (fingerprint === TRANSCODER_SCHEMA_FINGERPRINT) return schemaId;
  log.warn({ fingerprint }, 'the access-event transcoder does not read this EnrichedAccessEvent schema: every event is decoded first (slower)');
  return null;
}

/** Asks the server its version once (again after a failure) and picks the insert settings it allows. */
function insertPlanFor(clickhouse: ClickHouse, log: Logger): () => Promise<InsertPlan> {
  let plan: InsertPlan | undefined;
  return async () => {
    if (plan) return plan;
    const [row] = await clickhouse.queryRows<{ version: string }>('SELECT version() AS version');
    const version = row?.version ?? '';
    plan = { smallBatchSettings: asyncInsertSettings(version) };
    log.info({ version, asyncInsertForSmallBatches: plan.smallBatchSettings !== undefined }, 'ClickHouse server version');
    return plan;
  };
}
