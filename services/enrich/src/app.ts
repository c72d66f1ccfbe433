// Builds the enrich service: identity state restored from the compacted
// identity topics, then raw access events consumed, enriched as of their time
// and produced to tether.access.enriched. No I/O happens until start().
import { randomBytes } from 'node:crypto';
import { CONSUMER_GROUPS } from '#config';
import { createKafkaClient, ensureTetherTopics, readToEnd, type Admin, type Consumer, type Producer } from '#kafka';
import type { Logger } from '#log';
import {
  STATIC_MEMBER_SESSION_TIMEOUT_MS, checkDependencies, deadLetterWriter, instanceName, startOpsServer,
  type HealthReport, type LifecycleState, type OpsServer,
} from '#service';
import { connectPipeline, pipelineDependencies } from '#service/pipeline';
import type { EnrichConfig } from './config.ts';
import { createEventProcessor, type EventProcessor } from './event-processor.ts';
import { createIdentityFollower, type IdentityFollower } from './identity-follower.ts';
import { createEnrichMetrics, type EnrichMetrics } from './metrics.ts';
import { createReattributionJournal, journalEntries } from './reattribution-journal.ts';
import { IdentityStore } from './store/identity-store.ts';

export interface AppDeps {
  log: Logger;
  now?: () => number;
  /** A consumer failed for good: the process should stop (offsets stay uncommitted). */
  onFatal?: (err: unknown) => void;
  metrics?: EnrichMetrics;
}

export interface EnrichApp {
  /** Connects, restores identity state, then consumes events; resolves once events flow. */
  start(): Promise<void>;
  /** Stops intake, emits waiting events, commits, closes. */
  stop(): Promise<void>;
  health(): HealthReport;
  /** Liveness plus dependencies reachable and identity state restored. */
  ready(): Promise<HealthReport>;
  readonly store: IdentityStore;
  readonly metrics: EnrichMetrics;
  /** The ops server's port once started. */
  readonly port: number | undefined;
}

export function buildApp(config: Readonly<EnrichConfig>, deps: AppDeps): EnrichApp {
  const log = deps.log.child({ component: 'enrich' });
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? createEnrichMetrics();
  const store = new IdentityStore();
  // Stable across restarts: the events group's static member id.
  const memberName = instanceName(config.TETHER_ENRICH_INSTANCE_ID, 'enrich');
  // Unique to this start: the identity reader re-reads everything.
  const instance = `${memberName}-${randomBytes(4).toString('hex')}`;

  let state: LifecycleState = 'starting';
  let ops: OpsServer | undefined;
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let follower: IdentityFollower | undefined;
  let processor: EventProcessor | undefined;
  let events: Consumer | undefined;
  const failures: string[] = [];
  /** While start-up waits for a server: which one and why, for /ready. */
  let waitingFor: { dependency: string; reason: string } | undefined;
  const dependencies = pipelineDependencies(config);

  function fail(what: string, err: unknown): void {
    if (state === 'stopped' || state === 'draining') return;
    state = 'failed';
    failures.push(what);
    log.error({ err, what }, 'consumer failed: stopping');
    deps.onFatal?.(err);
  }

  // Liveness: the consumers have not failed. Restoring identity state or
  // waiting for Kafka is alive and not ready (see ready()).
  function health(): HealthReport {
    const restore = follower?.progress();
    return {
      state,
      checks: {
        consumers: { ok: failures.length === 0, detail: failures.join(', ') || undefined },
      },
      identity_restore: restore ? `${restore.records} records, ${restore.remainingPartitions} partitions left` : 'not started',
      ...(waitingFor ? { waiting_for: waitingFor } : {}),
      waiting_events: processor?.waiting ?? 0,
      reattributable_events: processor?.reattributable ?? 0,
      identities: store.counts(),
      instance,
    };
  }

  async function ready(): Promise<HealthReport> {
    const live = health();
    const restore = follower?.progress();
    return {
      ...live,
      checks: {
        ...live.checks,
        ...(await checkDependencies(dependencies)),
        identity_restored: { ok: restore?.restored ?? false, detail: restore ? `${restore.records} records, ${restore.remainingPartitions} partitions left` : 'not started' },
      },
    };
  }

  return {
    store,
    metrics,
    get port() {
      return ops?.port;
    },
    health,
    ready,

    async start() {
      ops = await startOpsServer({ port: config.TETHER_ENRICH_PORT, host: config.TETHER_OPS_HOST, registry: metrics.registry, health, ready });
      // Waits (bounded) for Kafka and the registry: alive and not ready meanwhile.
      const pipeline = await connectPipeline(config, `tether-enrich-${instance}`, log, {
        onWaiting: (dependency, reason) => void (waitingFor = { dependency, reason }),
      });
      waitingFor = undefined;
      admin = await pipeline.kafka.admin.admin();
      await ensureTetherTopics(admin, config.TETHER_TOPIC_PREFIX);
      producer = await pipeline.kafka.producer.producer();
      const deadLetters = deadLetterWriter({ service: 'enrich', dlqTopic: pipeline.topics.dlq, codec: pipeline.codec, producer });
      const reattributing = config.TETHER_ENRICH_REATTRIBUTE_WINDOW_MS > 0 && config.TETHER_ENRICH_REATTRIBUTE_MAX_EVENTS > 0;
      const journalTopic = pipeline.topics.enrichReattribution;

      processor = createEventProcessor({
        codec: pipeline.codec,
        producer,
        deadLetters,
        view: store,
        enrichedTopic: pipeline.topics.accessEnriched,
        metrics,
        log,
        now,
        late: {
          waitMs: config.TETHER_ENRICH_LATE_WAIT_MS,
          maxEvents: config.TETHER_ENRICH_LATE_MAX_EVENTS,
          giveUpMs: config.TETHER_ENRICH_GIVE_UP_MS,
        },
        rules: { provisioningLagMs: config.TETHER_ENRICH_PROVISIONING_LAG_MS },
        reattribution: {
          maxEvents: reattributing ? config.TETHER_ENRICH_REATTRIBUTE_MAX_EVENTS : 0,
          maxAgeMs: config.TETHER_ENRICH_REATTRIBUTE_WINDOW_MS,
          journal: reattributing ? createReattributionJournal({ producer, codec: pipeline.codec, topic: journalTopic, log }) : undefined,
        },
      });

      const identityGroup = `${config.TETHER_TOPIC_PREFIX}${CONSUMER_GROUPS.enrichIdentity}-${instance}`;
      // The identity reader's group is new on every start: the fastest consumer serves it (see config).
      const restoreClient = config.TETHER_ENRICH_RESTORE_CLIENT === pipeline.kafka.consumer.name
        ? pipeline.kafka.consumer
        : createKafkaClient(config.TETHER_ENRICH_RESTORE_CLIENT, { brokers: config.TETHER_KAFKA_BROKERS, clientId: `tether-enrich-${instance}-identity` }, log);
      follower = createIdentityFollower({
        client: restoreClient,
        groupId: identityGroup,
        codec: pipeline.codec,
        topics: pipeline.topics,
        store,
        deadLetters,
        metrics,
        log,
        now,
        onChange: () => processor?.identityChanged(),
        onCrash: (err) => fail('identity', err),
      });
      log.info({ instance, identityGroup }, 'starting');
      await follower.start();
      await admin.close();
      admin = undefined;

      // The window a previous instance journalled, re-resolved against the restored identity state
      // before any event is consumed (reattribution-journal.ts says why a compacted topic).
      if (reattributing) {
        const latest = new Map<string, Buffer | null>();
        await readToEnd(pipeline.kafka.consumer, {
          topics: [journalTopic],
          groupId: `${config.TETHER_TOPIC_PREFIX}${CONSUMER_GROUPS.enrichReattribution}-${instance}`,
          onBatch: async (batch) => {
            for (const m of batch.messages) if (m.key !== null) latest.set(m.key.toString(), m.value);
          },
        });
        const { entries, undecodable } = await journalEntries(latest, pipeline.codec);
        if (undecodable > 0) log.warn({ undecodable }, 're-attribution journal entries that do not decode were skipped');
        processor.restoreReattribution(entries);
        log.info({ entries: entries.length }, 're-attribution window restored');
      }

      // A static member, so a restart takes its partitions back at once. With kafkajs (no static
      // membership, heartbeats only between batches) a batch may wait up to the late-data wait:
      // the session must outlive it.
      events = pipeline.kafka.consumer.consumer({
        groupId: `${config.TETHER_TOPIC_PREFIX}${CONSUMER_GROUPS.enrich}`,
        groupInstanceId: memberName,
        maxWaitMs: 100,
        sessionTimeoutMs: Math.max(STATIC_MEMBER_SESSION_TIMEOUT_MS, config.TETHER_ENRICH_LATE_WAIT_MS + 30_000),
      });
      await events.run({
        topics: [pipeline.topics.accessRaw],
        fromBeginning: true,
        maxBatchSize: config.TETHER_ENRICH_MAX_BATCH,
        eachBatch: (batch) => processor!.handleBatch(batch),
        onCrash: (err) => fail('events', err),
      });
      if (state === 'starting') state = 'running';
      log.info({ topic: pipeline.topics.accessRaw }, 'enriching events');
    },

    async stop() {
      if (state === 'stopped') return;
      state = 'draining';
      log.info({ waiting: processor?.waiting ?? 0 }, 'draining');
      // Stop fetching, emit waiting events now (with a reason) so the batches in hand finish, and
      // let their offsets be committed before leaving: kafkajs skips commits once stop() has begun.
      events?.pause();
      await processor?.close();
      await processor?.drain();
      await events?.stop();
      await follower?.stop();
      await producer?.close();
      await admin?.close();
      await ops?.close();
      state = 'stopped';
      log.info('stopped');
    },
  };
}
