// The enriched-event side of the service. Per batch, in offset order: decode,
// run the pack, then write the batch's findings, then the state of the groups
// the batch changed, and only then let the consumer commit. The order is what
// makes a crash harmless:
//   - crash before the findings were acknowledged: the batch is replayed
//     from the last written state and produces the same findings (same ids);
//   - crash after the findings, before the state: replayed, the same findings
//     again, same ids, folded by the sink;
//   - crash after the state, before the commit: replayed, each group sees
//     from its applied offsets that it already has those events.
// Batches are handled one at a time: the state written after a batch's
// findings never carries a later batch's changes whose findings are unsent.
import { isRetriable } from '#errors';
import type { ConsumedBatch, ProduceRecord, Producer } from '#kafka';
import type { Logger } from '#log';
import type { Codec, EnrichedAccessEvent, Finding } from '#schemas';
import type { DeadLetterInput, DeadLetterWriter } from '#service';
import { findingKey, type DetectEngine } from './engine/engine.ts';
import { COMPONENT, type DetectMetrics } from './metrics.ts';

export interface DetectProcessorDeps {
  codec: Codec;
  producer: Producer;
  deadLetters: DeadLetterWriter;
  engine: DetectEngine;
  findingsTopic: string;
  stateTopic: string;
  metrics: DetectMetrics;
  log: Logger;
}

export interface DetectProcessor {
  handleBatch(batch: ConsumedBatch): Promise<void>;
  /** Resolves once no batch is being handled. */
  drain(): Promise<void>;
}

export function createDetectProcessor(deps: DetectProcessorDeps): DetectProcessor {
  const { codec, producer, engine, metrics, log } = deps;
  let queue: Promise<void> = Promise.resolve();

  async function decode(batch: ConsumedBatch): Promise<Array<EnrichedAccessEvent | DeadLetterInput>> {
    return Promise.all(batch.messages.map(async (m) => {
      const dead = (error: unknown): DeadLetterInput => ({ stage: 'parsing', source: m.topic, error, original: m.value ?? Buffer.alloc(0), topic: m.topic, partition: m.partition, offset: m.offset });
      if (m.value === null) return dead(new Error('enriched access event record has no value'));
      try {
        return await codec.decode('accessEnriched', m.value);
      } catch (error) {
        // A registry that is briefly unreachable says nothing about the record: fail the batch, redeliver.
        if (isRetriable(error)) throw error;
        return dead(error);
      }
    }));
  }

  async function handle(batch: ConsumedBatch): Promise<void> {
    const started = performance.now();
    metrics.received.inc({ component: COMPONENT }, batch.messages.length);
    const decoded = await decode(batch);
    const findings: Finding[] = [];
    const dead: DeadLetterInput[] = [];
    for (let i = 0; i < decoded.length; i++) {
      const item = decoded[i]!;
      if (!('event' in item && 'attribution' in item)) {
        dead.push(item as DeadLetterInput);
        continue;
      }
      const m = batch.messages[i]!;
      findings.push(...engine.process(item, { topic: m.topic, partition: m.partition, offset: m.offset }));
    }
    const changes = engine.store.takeChanges();

    const records: ProduceRecord[] = [];
    for (const f of findings) {
      try {
        records.push({ topic: deps.findingsTopic, key: findingKey(f), value: codec.encode('findings', f) });
      } catch (error) {
        dead.push({ stage: 'encoding', source: f.rule_id, error, original: Buffer.from(JSON.stringify(f)) });
      }
    }
    await producer.send(records);
    const state: ProduceRecord[] = [
      ...changes.upserts.map((s) => ({ topic: deps.stateTopic, key: s.state_key, value: codec.encode('detectState', s) })),
      ...changes.deletes.map((key) => ({ topic: deps.stateTopic, key, value: null })),
    ];
    await producer.send(state);
    if (dead.length > 0) {
      await deps.deadLetters.send(dead);
      for (const d of dead) metrics.errors.inc({ component: COMPONENT, error_code: (d.error as { code?: string }).code ?? 'TETHER_DECODE', stage: d.stage });
      metrics.dropped.inc({ component: COMPONENT, intentional: 'false' }, dead.length);
      log.warn({ count: dead.length, stage: dead[0]!.stage, partition: batch.partition }, 'records sent to the dead-letter topic');
    }
    metrics.sent.inc({ component: COMPONENT }, records.length);
    for (const f of findings) metrics.findings.inc({ rule: f.rule_id, severity: f.severity });
    metrics.stateGroups.set(engine.store.groups);
    metrics.stateEntries.set(engine.store.entries);
    metrics.stateEvicted.set(engine.store.evicted);
    metrics.replayed.set(engine.counts.replayed);
    metrics.lateEvents.set(engine.counts.late);
    metrics.batchSeconds.observe((performance.now() - started) / 1000);
    if (findings.length > 0) log.debug({ partition: batch.partition, findings: findings.length }, 'findings emitted');
  }

  return {
    handleBatch(batch) {
      const run = queue.then(() => handle(batch));
      queue = run.catch(() => undefined);
      return run;
    },
    async drain() {
      await queue;
    },
  };
}
