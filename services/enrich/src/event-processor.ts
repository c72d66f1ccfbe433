// The raw-event side of the service: decode a batch, resolve each event
// against identity state, emit the enriched records keyed by person (or NHI,
// or event), and hold back events whose identities are not known yet. A batch
// settles only after every one of its events was produced and acknowledged,
// including those that waited, so committed offsets never pass an event that
// is still in flight. Undecodable input goes to the DLQ.
import { isRetriable } from '#errors';
import type { ConsumedBatch, ConsumedMessage, Producer } from '#kafka';
import type { Logger } from '#log';
import type { AccessEvent, Codec, EnrichedAccessEvent } from '#schemas';
import type { DeadLetterInput, DeadLetterWriter } from '#service';
import { createLateBuffer, type LateBuffer, type Released } from './late-buffer.ts';
import { COMPONENT, type EnrichMetrics } from './metrics.ts';
import { createReattributionWindow, type ReattributionJournal, type ReattributionWindow } from './reattribution.ts';
import type { JournalEntry } from './reattribution-journal.ts';
import { awaitsIdentity, outputKey, resolveEvent, toEnriched, type Resolution } from './resolve/enrich.ts';
import { REASON, type ResolveRules } from './resolve/policy.ts';
import type { IdentityView } from './store/identity-store.ts';

export interface EventProcessorDeps {
  codec: Codec;
  producer: Producer;
  deadLetters: DeadLetterWriter;
  view: IdentityView;
  enrichedTopic: string;
  metrics: EnrichMetrics;
  log: Logger;
  now: () => number;
  late: { waitMs: number; maxEvents: number; giveUpMs: number };
  reattribution: { maxEvents: number; maxAgeMs: number; journal?: ReattributionJournal<AccessEvent> };
  /** The join's configurable rules (provisioning lag); the defaults when absent. */
  rules?: Readonly<ResolveRules>;
}

export interface EventProcessor {
  handleBatch(batch: ConsumedBatch): Promise<void>;
  /** Identity state changed: events waiting for it are re-tried. */
  identityChanged(): void;
  /** Emits every waiting event (with a reason) and stops holding new ones. */
  close(): Promise<void>;
  /** Resolves once no batch is being handled and no re-attribution is under way. */
  drain(): Promise<void>;
  readonly waiting: number;
  /** Emitted events that a later identity record may still attribute. */
  readonly reattributable: number;
  /** Takes back the re-attribution window a previous instance journalled, then re-resolves it. */
  restoreReattribution(entries: readonly JournalEntry[]): void;
}

interface Input {
  event: AccessEvent;
  message: ConsumedMessage;
}

export function createEventProcessor(deps: EventProcessorDeps): EventProcessor {
  const { codec, producer, deadLetters, view, metrics, log, now } = deps;

  /** Produces enriched records (undecodable ones to the DLQ); `input.message` absent for re-attributions. */
  async function emit(items: ReadonlyArray<{ input: Input | { event: AccessEvent; message?: undefined }; enriched: EnrichedAccessEvent }>): Promise<void> {
    if (items.length === 0) return;
    const records = [];
    const dead: DeadLetterInput[] = [];
    const methods = new Map<string, number>();
    const deviceMethods = new Map<string, number>();
    for (const { input, enriched } of items) {
      try {
        records.push({ topic: deps.enrichedTopic, key: outputKey(enriched), value: codec.encode('accessEnriched', enriched) });
        tally(methods, enriched.attribution.method);
        tally(deviceMethods, enriched.attribution.device_method);
      } catch (error) {
        // A re-attribution has no consumed record: its original is the event's own raw bytes.
        dead.push(input.message ? deadLetter(input.message, 'encoding', error) : { stage: 'encoding', source: input.event.source.platform, error, original: input.event.raw });
      }
    }
    await producer.send(records);
    await sendDeadLetters(dead);
    const acked = now();
    for (const { input } of items) if (input.message) metrics.addedLatency.observe(Math.max(0, acked - input.message.timestamp) / 1000);
    metrics.sent.inc({ component: COMPONENT }, records.length);
    for (const [method, count] of methods) metrics.attribution.inc({ method }, count);
    for (const [method, count] of deviceMethods) metrics.deviceAttribution.inc({ method }, count);
  }

  const window: ReattributionWindow<AccessEvent> = createReattributionWindow<AccessEvent>({
    ...deps.reattribution,
    now,
    resolve: (event) => resolveEvent(event, view, deps.rules),
    emit: async (items) => {
      await emit(items.map(({ item, resolution }) => ({
        input: { event: item },
        enriched: toEnriched(item, resolution, now(), { reasons: [REASON.reattributed] }),
      })));
      metrics.reattributed.inc(items.length);
    },
    onError: (err) => log.warn({ err }, 're-attribution emit failed: kept for the next identity change'),
  });

  function remember(event: AccessEvent, resolution: Resolution): void {
    window.remember(event.event_id, event, resolution);
    metrics.reattributable.set(window.size);
  }

  const buffer: LateBuffer<Input> = createLateBuffer<Input>({
    ...deps.late,
    now,
    resolve: (input) => resolveEvent(input.event, view, deps.rules),
    emit: async (released: Released<Input>[]) => {
      await emit(released.map(({ item, resolution, waitedMs, reasons }) => ({
        input: item,
        enriched: toEnriched(item.event, resolution, now(), { waitedMs, reasons }),
      })));
      for (const { item, resolution } of released) remember(item.event, resolution);
      await window.flush();
    },
    onRelease: (cause, count) => {
      metrics.lateReleased.inc({ cause }, count);
      if (cause !== 'resolved') log.debug({ cause, count }, 'events emitted without waiting for identity data any longer');
    },
  });

  async function sendDeadLetters(dead: DeadLetterInput[]): Promise<void> {
    if (dead.length === 0) return;
    await deadLetters.send(dead);
    for (const d of dead) metrics.errors.inc({ component: COMPONENT, error_code: errorCode(d.error), stage: d.stage });
    metrics.dropped.inc({ component: COMPONENT, intentional: 'false' }, dead.length);
    log.warn({ count: dead.length, stage: dead[0]!.stage, topic: dead[0]!.topic, partition: dead[0]!.partition }, 'records sent to the dead-letter topic');
  }

  /** Decodes without a promise when the writer's schema is known (nearly always); undefined when it must be fetched. */
  function decodeNow(message: ConsumedMessage): Input | DeadLetterInput | undefined {
    if (message.value === null) {
      return deadLetter(message, 'parsing', new Error('raw access event record has no value'));
    }
    try {
      const event = codec.decodeKnown?.('accessRaw', message.value);
      return event === undefined ? undefined : { event, message };
    } catch (error) {
      return deadLetter(message, 'parsing', error);
    }
  }

  async function decode(message: ConsumedMessage): Promise<Input | DeadLetterInput> {
    try {
      return { event: await codec.decode('accessRaw', message.value!), message };
    } catch (error) {
      // A registry that is briefly unreachable says nothing about the record: fail the batch, redeliver.
      if (isRetriable(error)) throw error;
      return deadLetter(message, 'parsing', error);
    }
  }

  async function decodeAll(messages: readonly ConsumedMessage[]): Promise<Array<Input | DeadLetterInput>> {
    const decoded: Array<Input | DeadLetterInput> = new Array(messages.length);
    const unknownWriter: number[] = [];
    for (let i = 0; i < messages.length; i++) {
      const item = decodeNow(messages[i]!);
      if (item === undefined) unknownWriter.push(i);
      else decoded[i] = item;
    }
    if (unknownWriter.length > 0) {
      await Promise.all(unknownWriter.map(async (i) => {
        decoded[i] = await decode(messages[i]!);
      }));
    }
    return decoded;
  }

  const inFlight = new Set<Promise<void>>();

  async function handleBatch(batch: ConsumedBatch): Promise<void> {
    metrics.received.inc({ component: COMPONENT }, batch.messages.length);
    const decoded = await decodeAll(batch.messages);
    const ready: Array<{ input: Input; resolution: Resolution; enriched: EnrichedAccessEvent }> = [];
    const waits: Promise<void>[] = [];
    const dead: DeadLetterInput[] = [];
    const at = now();
    for (const item of decoded) {
      if (!('event' in item)) {
        dead.push(item);
        continue;
      }
      const resolution = resolveEvent(item.event, view, deps.rules);
      if (awaitsIdentity(resolution)) waits.push(buffer.hold(item, resolution));
      else ready.push({ input: item, resolution, enriched: toEnriched(item.event, resolution, at) });
    }
    metrics.lateHeld.set(buffer.size);
    const waited = Promise.all(waits);
    // Observed even if emitting the ready events throws first.
    waited.catch(() => undefined);
    await sendDeadLetters(dead);
    await emit(ready);
    for (const { input, resolution } of ready) remember(input.event, resolution);
    await window.flush();
    if (waits.length > 0) {
      log.debug({ topic: batch.topic, partition: batch.partition, waiting: waits.length }, 'batch waits for late identity data');
      await waited;
      metrics.lateHeld.set(buffer.size);
    }
  }

  return {
    get waiting() {
      return buffer.size;
    },

    get reattributable() {
      return window.size;
    },

    handleBatch(batch) {
      const handling = handleBatch(batch);
      const tracked = handling.then(() => undefined, () => undefined);
      inFlight.add(tracked);
      void tracked.then(() => inFlight.delete(tracked));
      return handling;
    },

    async drain() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
      await window.idle();
    },

    identityChanged() {
      buffer.retry();
      window.identityChanged();
    },

    restoreReattribution(entries) {
      for (const { key, enriched } of entries) {
        window.restore(key, enriched.event, { method: enriched.attribution.method, personId: enriched.person?.person_id, deviceId: enriched.device?.device_id ?? null }, enriched.enrichment.enriched_at);
      }
      metrics.reattributable.set(window.size);
      // Identity data that arrived while no instance ran is swept now.
      window.identityChanged();
    },

    close: () => buffer.close(),
  };
}

function deadLetter(message: ConsumedMessage, stage: 'parsing' | 'encoding', error: unknown): DeadLetterInput {
  return {
    stage,
    source: message.topic,
    error,
    original: message.value ?? Buffer.alloc(0),
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
  };
}

function tally(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('TETHER_') ? code : 'TETHER_DECODE';
}
