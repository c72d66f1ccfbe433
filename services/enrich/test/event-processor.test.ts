// The batch handler in an in-memory driver: a real codec (schema ids from a
// stand-in registry), a producer that records what it was given.
import { describe, expect, it } from 'vitest';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { ConsumedMessage, ProduceRecord, Producer } from '#kafka';
import { createLogger } from '#log';
import { createCodec, type Codec } from '#schemas';
import { deadLetterWriter } from '#service';
import { createEventProcessor } from '../src/event-processor.ts';
import { createEnrichMetrics } from '../src/metrics.ts';
import { IdentityStore } from '../src/store/identity-store.ts';
import { anthropicSystemEvent, openaiKeyEvent, openaiSessionEvent } from './fixtures/events.ts';
import { at, directoryPerson, keyOf, nonHuman, platformAccount } from './fixtures/identities.ts';

async function driver(late = { waitMs: 60_000, maxEvents: 10, giveUpMs: 0 }) {
  let nextId = 1;
  const registry = { register: async () => ({ id: nextId++ }) } as unknown as SchemaRegistry;
  const codec: Codec = await createCodec({ registry, registryUrl: 'http://registry.invalid' });
  const sent: ProduceRecord[] = [];
  const producer: Producer = { send: async (records) => void sent.push(...records), close: async () => undefined };
  const store = new IdentityStore();
  const metrics = createEnrichMetrics({ defaultMetrics: false });
  const processor = createEventProcessor({
    codec, producer, view: store, metrics,
    deadLetters: deadLetterWriter({ service: 'enrich', dlqTopic: 'tether.dlq', codec, producer }),
    enrichedTopic: 'tether.access.enriched',
    log: createLogger({ service: 'test', level: 'silent' }),
    now: () => at('2025-12-01T00:00:00Z'),
    late,
    reattribution: { maxEvents: 100, maxAgeMs: 3_600_000 },
  });
  let offset = 0n;
  const message = (value: Buffer | null): ConsumedMessage => ({
    topic: 'tether.access.raw', partition: 0, offset: offset++, key: null, value, timestamp: at('2025-12-01T00:00:00Z') - 250, headers: {},
  });
  return { codec, sent, store, metrics, processor, message };
}

describe('event processor', () => {
  it('emits resolved events keyed by person, NHI or event id, dead-letters garbage, and settles only after held events are emitted', async () => {
    const d = await driver();
    const person = directoryPerson('00uDana', at('2025-01-01T00:00:00Z'), { email: 'dana@example.com' });
    const account = platformAccount('openai', 'user-K9p3Lm', at('2025-01-01T00:00:00Z'), { email: 'dana@example.com' });
    const orphanKey = nonHuman('openai', 'api_key', 'key_Orph', at('2025-01-01T00:00:00Z'), { parent_nhi_id: 'openai:project:proj_X' });
    const orphanProject = nonHuman('openai', 'project', 'proj_X', at('2025-01-01T00:00:00Z'));
    for (const v of [person, account]) d.store.apply('identityUsers', keyOf(v), v);
    for (const v of [orphanKey, orphanProject]) d.store.apply('identityNhi', keyOf(v), v);

    const time = at('2025-06-01T00:00:00Z');
    const known = openaiSessionEvent({ id: 'audit_log-1', time, type: 'login.succeeded', userId: 'user-K9p3Lm', email: 'dana@example.com' });
    const orphan = openaiKeyEvent({ id: 'audit_log-2', time, type: 'project.updated', keyId: 'key_Orph' });
    const system = anthropicSystemEvent({ id: 'activity_3', time });
    const late = openaiSessionEvent({ id: 'audit_log-4', time, type: 'login.succeeded', userId: 'user-Late', email: 'late@example.com' });
    const garbage = Buffer.from('{"not":"avro"}');

    const batch = d.processor.handleBatch({
      topic: 'tether.access.raw', partition: 0,
      messages: [known, orphan, garbage, system, late].map((e) => d.message(Buffer.isBuffer(e) ? e : d.codec.encode('accessRaw', e))),
    });
    let settled = false;
    void batch.then(() => { settled = true; });
    await new Promise((r) => setImmediate(r));

    const enriched = () => d.sent.filter((r) => r.topic === 'tether.access.enriched');
    expect(enriched().map((r) => r.key)).toEqual(['00uDana', 'openai:api_key:key_Orph', system.event_id]);
    expect(settled).toBe(false);
    expect(d.processor.waiting).toBe(1);

    const dead = d.sent.filter((r) => r.topic === 'tether.dlq');
    expect(dead).toHaveLength(1);
    const letter = await d.codec.decode('dlq', dead[0]!.value!);
    expect(letter).toMatchObject({ stage: 'parsing', service: 'enrich', reason_code: 'TETHER_DECODE', original_topic: 'tether.access.raw', original_offset: 2 });
    expect(letter.original.equals(garbage)).toBe(true);

    // The late person's records arrive; the held event resolves and the batch settles.
    const lateAccount = platformAccount('openai', 'user-Late', at('2025-05-01T00:00:00Z'), { email: 'late@example.com' });
    const latePerson = directoryPerson('00uLate', at('2025-05-01T00:00:00Z'), { email: 'late@example.com' });
    d.store.apply('identityUsers', keyOf(lateAccount), lateAccount);
    d.store.apply('identityUsers', keyOf(latePerson), latePerson);
    d.processor.identityChanged();
    await batch;
    expect(enriched().map((r) => r.key)).toEqual(['00uDana', 'openai:api_key:key_Orph', system.event_id, '00uLate']);

    const out = await Promise.all(enriched().map((r) => d.codec.decode('accessEnriched', r.value!)));
    expect(out.map((e) => e.event.event_id)).toEqual([known.event_id, orphan.event_id, system.event_id, late.event_id]);
    expect(out[3]!.attribution.method).toBe('platform_user_alias');
    expect(out[1]!.attribution.reasons).toContain('project_has_no_owner: openai:project:proj_X');
    expect(out[2]!.attribution.reasons).toContain('no_actor_identifiers');
    expect(out[0]!.event.raw.equals(known.raw)).toBe(true);

    const metrics = await d.metrics.registry.getMetricsAsJSON();
    const value = (name: string, labels: Record<string, string>) =>
      metrics.find((m) => m.name === name)?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    expect(value('tether_events_received_total', { component: 'enrich' })).toBe(5);
    expect(value('tether_events_sent_total', { component: 'enrich' })).toBe(4);
    expect(value('tether_events_dropped_total', { intentional: 'false' })).toBe(1);
    expect(value('tether_enrich_late_events_total', { cause: 'resolved' })).toBe(1);
    expect(value('tether_enrich_attribution_total', { method: 'unresolved' })).toBe(2);
  });

  it('emits again, attributed, an event whose identity data arrived after it left unresolved or platform-only', async () => {
    const d = await driver({ waitMs: 0, maxEvents: 10, giveUpMs: 0 });
    const time = at('2025-06-01T00:00:00Z');
    const ghost = openaiSessionEvent({ id: 'audit_log-7', time, type: 'login.succeeded', userId: 'user-Late', email: 'late@example.com' });
    const keyUse = openaiKeyEvent({ id: 'audit_log-8', time, type: 'project.updated', keyId: 'key_Late' });
    await d.processor.handleBatch({ topic: 'tether.access.raw', partition: 0, messages: [ghost, keyUse].map((e) => d.message(d.codec.encode('accessRaw', e))) });
    const enriched = async () => Promise.all(d.sent.filter((r) => r.topic === 'tether.access.enriched').map(async (r) => ({ key: r.key, value: await d.codec.decode('accessEnriched', r.value!) })));
    expect((await enriched()).map((e) => e.value.attribution.method)).toEqual(['unresolved', 'unresolved']);
    expect(d.processor.reattributable).toBe(2);

    // First only the platform account: better, but no directory person yet, so nothing is emitted again.
    const account = platformAccount('openai', 'user-Late', at('2025-05-01T00:00:00Z'), { email: 'late@example.com' });
    d.store.apply('identityUsers', keyOf(account), account);
    d.processor.identityChanged();
    await d.processor.drain();
    expect(await enriched()).toHaveLength(2);

    // Then the directory person and the key: both events are emitted again, attributed as of their time.
    const person = directoryPerson('00uLate', at('2025-05-01T00:00:00Z'), { email: 'late@example.com' });
    const key = nonHuman('openai', 'api_key', 'key_Late', at('2025-05-01T00:00:00Z'), { owner_platform_user_id: 'openai:user-Late' });
    d.store.apply('identityUsers', keyOf(person), person);
    d.store.apply('identityNhi', keyOf(key), key);
    d.processor.identityChanged();
    await d.processor.drain();
    const out = await enriched();
    expect(out).toHaveLength(4);
    const again = out.slice(2);
    expect(again.map((e) => e.key)).toEqual(['00uLate', '00uLate']);
    expect(again.map((e) => e.value.event.event_id).sort()).toEqual([ghost.event_id, keyUse.event_id].sort());
    expect(again.map((e) => e.value.attribution.method).sort()).toEqual(['api_key_owner', 'platform_user_alias']);
    for (const e of again) expect(e.value.attribution.reasons).toContain('reattributed_after_late_identity');
    // Still remembered (identity data may arrive in parts), but emitted again only when the attribution changes.
    expect(d.processor.reattributable).toBe(2);

    // Nothing changes on a later identity change: each event is emitted again at most once per improvement.
    d.processor.identityChanged();
    await d.processor.drain();
    expect(await enriched()).toHaveLength(4);
  });
});
