import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { topicNames } from '#config';
import { tetherError } from '#errors';
import { createLogger } from '#log';
import type { AccessEvent, Codec } from '#schemas';
import { createMetrics, deadLetterWriter } from '#service';
import { createMemoryCheckpointStore } from '../src/checkpoint-store.ts';
import { noAuth } from '../src/auth.ts';
import { defineSource } from '../src/define-source.ts';
import { createPageSink, type ProcessedItem } from '../src/page-sink.ts';
import { createSourceRegistry } from '../src/source-registry.ts';
import { offlineCodec, recordingProducer } from '#testkit';

const topics = topicNames('t.');

function event(id: string): AccessEvent {
  return {
    event_id: id,
    source: { platform: 'openai', feed: 'audit_logs', source_event_id: id, ingested_at: 1, ingest_version: 'x' },
    time: 1767312000000,
    time_raw: '1767312000',
    action: 'login.succeeded',
    source_type: 'login.succeeded',
    outcome: 'success',
    ocsf: { category_uid: 3, class_uid: 3002, activity_id: 1, type_uid: 300201, severity_id: 1 },
    actor: { kind: 'human', platform_user_id: 'user-1', email: 'a@example.com', name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null },
    targets: [],
    scope: { organization_id: null, project_id: null, workspace_id: null },
    src: { ip: null, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null },
    connector: null,
    raw: Buffer.from(`{"id":"${id}"}`),
    unmapped: '{}',
  };
}

async function setup(codec?: Codec) {
  const c = codec ?? (await offlineCodec());
  const producer = recordingProducer();
  const checkpoints = createMemoryCheckpointStore();
  const metrics = createMetrics('test', { defaultMetrics: false });
  const deadLetters = deadLetterWriter({ service: 'test', dlqTopic: topics.dlq, codec: c, producer, scrub: (t) => t.replaceAll('sk-secret', '[redacted]') });
  const sink = createPageSink({ producer, codec: c, topics, checkpoints, deadLetters, metrics, log: createLogger({ service: 'test', level: 'silent' }) });
  return { codec: c, producer, checkpoints, metrics, sink };
}

const ok = (id: string): ProcessedItem => ({ raw: Buffer.from(id), result: { ok: true, records: [{ role: 'accessRaw', key: id, value: event(id) }] } });

describe('createPageSink', () => {
  it('dead-letters a record too large for Kafka, with the head of its bytes, and sends the rest', async () => {
    const { producer, sink, codec } = await setup();
    const huge = event('big');
    huge.raw = Buffer.alloc(2 * 1024 * 1024, 'x');
    const item: ProcessedItem = { raw: huge.raw, result: { ok: true, records: [{ role: 'accessRaw', key: 'big', value: huge }] } };
    const result = await sink.commit({ source: 'openai/audit_logs', items: [ok('e1'), item, ok('e2')] });
    expect(result).toMatchObject({ sent: 2, dead: 1 });
    const letters = await Promise.all(producer.sent.filter((r) => r.topic === topics.dlq).map((r) => codec.decode('dlq', r.value!)));
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stage: 'encoding', reason_code: 'TETHER_RECORD_TOO_LARGE', message: expect.stringMatching(/record limit.*truncated to its first 524288 of 2097152 bytes/) });
    expect(letters[0]!.original.length).toBe(512 * 1024);
    for (const r of producer.sent) expect(r.value!.length).toBeLessThan(1024 * 1024);
  });

  it('sends the page, then saves the checkpoint with the records added', async () => {
    const { producer, checkpoints, sink, codec } = await setup();
    const result = await sink.commit({ source: 'openai/audit_logs', items: [ok('e1'), ok('e2')], checkpoint: { id: 'openai/audit_logs/poll', cursor: '{"n":1}' } });
    expect(result.sent).toBe(2);
    expect(producer.sent.map((r) => [r.topic, r.key])).toEqual([[topics.accessRaw, 'e1'], [topics.accessRaw, 'e2']]);
    expect((await codec.decode('accessRaw', producer.sent[0]!.value!)).event_id).toBe('e1');
    expect(checkpoints.saved).toEqual([expect.objectContaining({ checkpoint_id: 'openai/audit_logs/poll', cursor: '{"n":1}', records_total: 2 })]);
    await sink.commit({ source: 'openai/audit_logs', items: [ok('e3')], checkpoint: { id: 'openai/audit_logs/poll', cursor: '{"n":2}' } });
    expect(checkpoints.get('openai/audit_logs/poll')!.records_total).toBe(3);
  });

  it('does not move the checkpoint when Kafka did not acknowledge the page', async () => {
    const { producer, checkpoints, sink } = await setup();
    producer.failNext(tetherError('TETHER_PRODUCE', 'broker down', { retriable: true }));
    await expect(sink.commit({ source: 's', items: [ok('e1')], checkpoint: { id: 'c', cursor: '1' } })).rejects.toMatchObject({ code: 'TETHER_PRODUCE' });
    expect(checkpoints.get('c')).toBeUndefined();
  });

  it('a pipelined page checkpoints only after the page before it, and never when that one failed', async () => {
    const { checkpoints, sink } = await setup();
    let finishPrevious!: () => void;
    const previous = new Promise<void>((resolve) => (finishPrevious = resolve));
    const pending = sink.commit({ source: 's', items: [ok('e2')], after: previous, checkpoint: { id: 'c', cursor: '2' } });
    await new Promise((r) => setTimeout(r, 10));
    expect(checkpoints.get('c')).toBeUndefined();
    finishPrevious();
    await pending;
    expect(checkpoints.get('c')!.cursor).toBe('2');

    const failed = Promise.reject(new Error('page 3 not acknowledged'));
    failed.catch(() => undefined);
    await expect(sink.commit({ source: 's', items: [ok('e4')], after: failed, checkpoint: { id: 'c', cursor: '4' } })).rejects.toThrow('page 3');
    expect(checkpoints.get('c')!.cursor).toBe('2');
  });

  it('dead-letters failed items with stage, reason and original bytes, scrubbed, and keeps the rest flowing', async () => {
    const { producer, sink, codec, metrics } = await setup();
    const bad: ProcessedItem = { raw: Buffer.from('{"id":7,"note":"sk-secret"}'), result: { ok: false, stage: 'normalising', error: tetherError('TETHER_NORMALISE_INVALID', 'no id in sk-secret') } };
    const result = await sink.commit({ source: 'openai/audit_logs', items: [ok('e1'), bad, ok('e2')] });
    expect(result).toMatchObject({ sent: 2, dead: 1 });
    expect(producer.calls).toHaveLength(1);
    const dlq = producer.sent.filter((r) => r.topic === topics.dlq);
    expect(dlq).toHaveLength(1);
    const letter = await codec.decode('dlq', dlq[0]!.value!);
    expect(letter).toMatchObject({ stage: 'normalising', reason_code: 'TETHER_NORMALISE_INVALID', source: 'openai/audit_logs', message: 'no id in [redacted]' });
    expect(letter.original.toString()).toBe('{"id":7,"note":"sk-secret"}');
    const errors = await metrics.errors.get();
    expect(errors.values).toEqual([expect.objectContaining({ value: 1, labels: { component: 'openai/audit_logs', error_code: 'TETHER_NORMALISE_INVALID', stage: 'normalising' } })]);
  });

  it('a record the schema refuses goes to the DLQ at the encoding stage, whole item at once', async () => {
    const { producer, sink, codec } = await setup();
    const broken = { ...event('e9'), time: 'yesterday' } as unknown as AccessEvent;
    const item: ProcessedItem = { raw: Buffer.from('orig'), result: { ok: true, records: [{ role: 'accessRaw', key: 'e8', value: event('e8') }, { role: 'accessRaw', key: 'e9', value: broken }] } };
    const result = await sink.commit({ source: 's', items: [item] });
    expect(result).toMatchObject({ sent: 0, dead: 1 });
    const letter = await codec.decode('dlq', producer.sent[0]!.value!);
    expect(letter).toMatchObject({ stage: 'encoding', reason_code: 'TETHER_SCHEMA_INVALID' });
    expect(letter.original.toString()).toBe('orig');
  });

  it('the same event id twice in one page: the same bytes go out twice (one event downstream); different bytes, the later one is dead-lettered', async () => {
    const { producer, sink, codec, metrics } = await setup();
    const item = (id: string, raw: string): ProcessedItem => ({ raw: Buffer.from(raw), result: { ok: true, records: [{ role: 'accessRaw', key: id, value: { ...event(id), raw: Buffer.from(raw) } }] } });
    const result = await sink.commit({
      source: 'openai/audit_logs',
      items: [item('e1', '{"id":"e1"}'), item('e1', '{"id":"e1"}'), item('e2', '{"id":"e2","v":1}'), item('e2', '{"id":"e2","v":2}'), item('e3', '{"id":"e3"}')],
    });
    expect(result).toMatchObject({ sent: 4, dead: 1 });
    expect(producer.sent.filter((r) => r.topic === topics.accessRaw).map((r) => r.key)).toEqual(['e1', 'e1', 'e2', 'e3']);
    const [letter] = await Promise.all(producer.sent.filter((r) => r.topic === topics.dlq).map((r) => codec.decode('dlq', r.value!)));
    expect(letter).toMatchObject({ stage: 'normalising', reason_code: 'TETHER_DUPLICATE_CONFLICT', message: expect.stringContaining('e2 came twice') });
    expect(letter!.original.toString()).toBe('{"id":"e2","v":2}');
    const errors = await metrics.errors.get();
    expect(errors.values).toContainEqual(expect.objectContaining({ labels: { component: 'openai/audit_logs', error_code: 'TETHER_DUPLICATE_CONFLICT', stage: 'normalising' } }));
  });

  it("saves a page's state checkpoints (a source's fold) after its records and before its own checkpoint, taken when saved", async () => {
    const { producer, sink, checkpoints } = await setup();
    let taken = 0;
    await sink.commit({
      source: 'openai/audit_logs',
      items: [ok('e1')],
      state: () => [{ id: 'openai/connectors/00', cursor: `state-${++taken}` }],
      checkpoint: { id: 'openai/audit_logs/poll', cursor: 'page-2' },
    });
    expect(producer.sent.length).toBeGreaterThan(0);
    expect(checkpoints.saved.map((c) => [c.checkpoint_id, c.cursor])).toEqual([['openai/connectors/00', 'state-1'], ['openai/audit_logs/poll', 'page-2']]);
    expect(taken).toBe(1);
  });
});

describe('createSourceRegistry shared variables', () => {
  it('lets sources share a variable only through one schema object', () => {
    const shared = { TETHER_SHARED_PATH: z.string().default('x') };
    const source = (name: string, env: z.ZodRawShape) =>
      defineSource({ name, description: name, env, endpoint: () => ({ baseUrl: 'http://x.invalid', auth: noAuth }), feeds: () => ({ eventFeeds: [], inventories: [], importFeeds: {}, defaultImportFeed: 'x' }) });
    expect(Object.keys(createSourceRegistry([source('a', shared), source('b', shared)]).envShape)).toEqual(['TETHER_SHARED_PATH']);
    expect(() => createSourceRegistry([source('a', shared), source('b', { TETHER_SHARED_PATH: z.string() })])).toThrow(/already a's/);
  });
});
