// An example consumer of tether.access.enriched, as a detection rule or a
// SIEM forwarder would write one: kafkajs and the Confluent schema registry
// client, nothing of Tether's own code but the generated types.
//
//   node examples/consume-enriched.ts                 # new events, until Ctrl-C
//   node examples/consume-enriched.ts --from-beginning --max 100
//
// Reads TETHER_KAFKA_BROKERS, TETHER_SCHEMA_REGISTRY_URL and TETHER_TOPIC_PREFIX
// (the same names as the services, the local stack's addresses by default).
//
// Re-attribution: an event enriched before the identity data that names its
// person arrived is emitted again once it does: the same event_id, a later
// enrichment.enriched_at. Treat the enriched stream as upserts keyed by
// event_id, keeping the version with the latest enriched_at; an equal or
// older enriched_at is a redelivery (at-least-once) and changes nothing.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import type { EnrichedAccessEvent } from '../packages/schemas/src/generated-types.ts';

const { values } = parseArgs({ options: { 'from-beginning': { type: 'boolean', default: false }, max: { type: 'string' }, group: { type: 'string' } } });
const brokers = (process.env.TETHER_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const registryUrl = process.env.TETHER_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:18081/apis/ccompat/v7';
const topic = `${process.env.TETHER_TOPIC_PREFIX ?? ''}tether.access.enriched`;
const max = values.max === undefined ? Infinity : Number(values.max);

/**
 * The latest enrichment seen per event, so a re-attributed event replaces
 * the earlier one and a redelivery is recognised. Bounded: keep ids at least
 * as long as enrich re-attributes (TETHER_ENRICH_REATTRIBUTE_WINDOW_MS, 24 h
 * by default); a store with upserts by event_id (ClickHouse's
 * ReplacingMergeTree, a keyed table) does this for you.
 */
export class LatestByEvent {
  readonly #seen = new Map<string, number>();
  readonly #capacity: number;
  constructor(capacity = 500_000) {
    this.#capacity = capacity;
  }

  /** 'new', 'reattributed' (a later enrichment of an event seen before) or 'duplicate'. */
  offer(event: EnrichedAccessEvent): 'new' | 'reattributed' | 'duplicate' {
    const id = event.event.event_id;
    const at = event.enrichment.enriched_at;
    const before = this.#seen.get(id);
    if (before !== undefined && at <= before) return 'duplicate';
    this.#seen.delete(id);
    this.#seen.set(id, at);
    if (this.#seen.size > this.#capacity) this.#seen.delete(this.#seen.keys().next().value!);
    return before === undefined ? 'new' : 'reattributed';
  }
}

async function main(): Promise<void> {
  const registry = new SchemaRegistry({ host: registryUrl });
  const kafka = new Kafka({ brokers, clientId: 'tether-example-consumer', logLevel: logLevel.WARN });
  // A group of your own: every consumer group receives every event.
  const consumer = kafka.consumer({ groupId: values.group ?? `tether-example-${randomBytes(4).toString('hex')}` });
  const latest = new LatestByEvent();
  let handled = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: values['from-beginning'] });
  const done = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    void consumer.run({
      eachMessage: async ({ message }) => {
        if (!message.value || handled >= max) return;
        // Confluent wire format: magic byte, schema id, Avro body; the client fetches the writer's schema by id.
        const enriched = (await registry.decode(message.value)) as EnrichedAccessEvent;
        const seen = latest.offer(enriched);
        if (seen !== 'duplicate') {
          const who = enriched.person?.email ?? enriched.nhi_chain.at(-1)?.id ?? 'unattributed';
          process.stdout.write(`${JSON.stringify({
            seen, event_id: enriched.event.event_id, time: new Date(enriched.event.time).toISOString(), action: enriched.event.action,
            platform: enriched.event.source.platform, who, method: enriched.attribution.method, device: enriched.device?.hostname ?? null,
            enriched_at: new Date(enriched.enrichment.enriched_at).toISOString(),
          })}\n`);
        }
        if (++handled >= max) resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();
}

if (import.meta.main) await main();
