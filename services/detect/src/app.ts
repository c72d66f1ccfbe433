// Builds the detect service: the rule pack (validated before anything
// connects), rule state restored from tether.detect.state, then enriched
// events consumed in the tether-detect group, findings produced to
// tether.findings. No I/O happens until start().
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { CONSUMER_GROUPS } from '#config';
import type { Consumer, Producer } from '#kafka';
import type { Logger } from '#log';
import { deadLetterWriter, startOpsServer, type HealthReport, type LifecycleState, type OpsServer } from '#service';
import { connectPipeline } from '#service/pipeline';
import type { DetectConfig } from './config.ts';
import { DetectEngine } from './engine/engine.ts';
import { StateStore } from './engine/state.ts';
import { createDetectMetrics, type DetectMetrics } from './metrics.ts';
import { createDetectProcessor, type DetectProcessor } from './processor.ts';
import type { RulePack } from './rules/load.ts';
import { createStateFollower, type StateFollower } from './state-follower.ts';

export interface DetectAppDeps {
  log: Logger;
  /** The loaded pack (loadRules): an invalid pack never reaches the app. */
  pack: RulePack;
  now?: () => number;
  /** A consumer failed for good: the process should stop (offsets stay uncommitted). */
  onFatal?: (err: unknown) => void;
  metrics?: DetectMetrics;
}

export interface DetectApp {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): HealthReport;
  readonly engine: DetectEngine;
  readonly metrics: DetectMetrics;
  readonly port: number | undefined;
}

export function buildDetectApp(config: Readonly<DetectConfig>, deps: DetectAppDeps): DetectApp {
  const log = deps.log.child({ component: 'detect' });
  const metrics = deps.metrics ?? createDetectMetrics();
  const store = new StateStore({ maxEntries: config.TETHER_DETECT_STATE_MAX_ENTRIES, now: deps.now });
  const engine = new DetectEngine(deps.pack.rules, store, { firstSeenMaxValues: config.TETHER_DETECT_FIRST_SEEN_MAX_VALUES, now: deps.now });
  const instance = `${config.TETHER_DETECT_INSTANCE_ID ?? `${hostname()}-${process.pid}`}-${randomBytes(4).toString('hex')}`;
  metrics.rules.set(engine.rules.length);

  let state: LifecycleState = 'starting';
  let ops: OpsServer | undefined;
  let producer: Producer | undefined;
  let follower: StateFollower | undefined;
  let processor: DetectProcessor | undefined;
  let events: Consumer | undefined;
  const failures: string[] = [];

  function fail(what: string, err: unknown): void {
    if (state === 'stopped' || state === 'draining') return;
    state = 'failed';
    failures.push(what);
    log.error({ err, what }, 'consumer failed: stopping');
    deps.onFatal?.(err);
  }

  function health(): HealthReport {
    return {
      state,
      checks: {
        rules: { ok: engine.rules.length > 0, detail: `${engine.rules.length} rules from ${deps.pack.dir}` },
        state_restored: { ok: follower?.restored ?? false, detail: `${follower?.records ?? 0} records` },
        consumers: { ok: failures.length === 0, detail: failures.join(', ') || undefined },
      },
      state_groups: store.groups,
      state_entries: store.entries,
      state_max_entries: config.TETHER_DETECT_STATE_MAX_ENTRIES,
      instance,
    };
  }

  return {
    engine,
    metrics,
    health,
    get port() {
      return ops?.port;
    },

    async start() {
      ops = await startOpsServer({ port: config.TETHER_DETECT_PORT, registry: metrics.registry, health });
      const pipeline = await connectPipeline(config, `tether-detect-${instance}`, log);
      producer = await pipeline.kafka.producer.producer();
      const deadLetters = deadLetterWriter({ service: 'detect', dlqTopic: pipeline.topics.dlq, codec: pipeline.codec, producer });
      const admin = await pipeline.kafka.admin.admin();
      try {
        follower = createStateFollower({
          consumer: pipeline.kafka.consumer.consumer({ groupId: `${config.TETHER_TOPIC_PREFIX}${CONSUMER_GROUPS.detectState}-${instance}`, maxWaitMs: 250 }),
          admin,
          codec: pipeline.codec,
          topic: pipeline.topics.detectState,
          store,
          versions: new Map(deps.pack.rules.map((r) => [r.id, r.version])),
          deadLetters,
          metrics,
          log,
          onCrash: (err) => fail('state', err),
        });
        await follower.start();
      } finally {
        await admin.close();
      }
      processor = createDetectProcessor({
        codec: pipeline.codec,
        producer,
        deadLetters,
        engine,
        findingsTopic: pipeline.topics.findings,
        stateTopic: pipeline.topics.detectState,
        metrics,
        log,
      });
      events = pipeline.kafka.consumer.consumer({ groupId: `${config.TETHER_TOPIC_PREFIX}${CONSUMER_GROUPS.detect}`, maxWaitMs: 100 });
      await events.run({
        topics: [pipeline.topics.accessEnriched],
        fromBeginning: true,
        maxBatchSize: config.TETHER_DETECT_MAX_BATCH,
        eachBatch: (batch) => processor!.handleBatch(batch),
        onCrash: (err) => fail('events', err),
      });
      if (state === 'starting') state = 'running';
      log.info({ rules: engine.rules.map((r) => r.id), topic: pipeline.topics.accessEnriched }, 'detecting');
    },

    async stop() {
      if (state === 'stopped') return;
      state = 'draining';
      events?.pause();
      await processor?.drain();
      await events?.stop();
      await follower?.stop();
      await producer?.close();
      await ops?.close();
      state = 'stopped';
      log.info('stopped');
    },
  };
}
