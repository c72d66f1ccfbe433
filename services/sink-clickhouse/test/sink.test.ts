// The stream sink's control flow with in-memory stand-ins for Kafka's
// consumer and ClickHouse (the real servers are in *.int.test.ts): when a
// batch may be committed, backpressure, rejoining after a consumer crash.
import { describe, expect, it } from 'vitest';
import { topicNames } from '#config';
import { ACCESS_EVENT_COLUMNS, type ClickHouse } from '#clickhouse';
import { readRowBinary } from '../../../packages/clickhouse/test/row-binary-reader.ts';
import type { ConsumeOptions, Consumer } from '#kafka';
import type { Codec, EnrichedAccessEvent } from '#schemas';
import { tetherError } from '#errors';
import type { DeadLetterInput, DeadLetterWriter } from '#service';
import { captureLogger, waitFor } from '#testkit';
import { createSinkMetrics } from '../src/metrics.ts';
import { createStreamSink } from '../src/sink.ts';
import { numberedEvent } from './fixtures.ts';

const topics = topicNames('unit.');

function fakeConsumer() {
  const calls: string[] = [];
  let options: ConsumeOptions | undefined;
  const consumer: Consumer = {
    run: async (o) => { options = o; calls.push('run'); },
    pause: () => { calls.push('pause'); },
    resume: () => { calls.push('resume'); },
    stop: async () => { calls.push('stop'); },
  };
  return { consumer, calls, options: () => options! };
}

/**
 * Values on the wire are just indexes into this list: the codec is not under
 * test here. 'w:<index>' was written with a schema the codec must fetch from
 * the registry, which fails (retriably) while `registry.down`.
 */
function fakeCodec(events: EnrichedAccessEvent[], registry = { down: false }): Codec {
  return {
    encode: () => Buffer.alloc(0),
    decode: async (_role, bytes) => {
      const text = bytes.toString();
      if (text.startsWith('w:') && registry.down) throw tetherError('TETHER_SCHEMA_REGISTRY', 'registry unreachable fetching schema 7: fetch failed', { retriable: true });
      const event = events[Number(text.replace(/^w:/, ''))];
      if (!event) throw Object.assign(new Error('not in the Confluent wire format'), { code: 'TETHER_DECODE' });
      return event as never;
    },
    schemaId: () => 1,
  };
}

function fakeClickHouse(down: { value: boolean }) {
  const inserted: object[] = [];
  let attempts = 0;
  const ch: ClickHouse = {
    database: 'unit',
    insertRows: async (_table, rows) => {
      attempts += 1;
      if (down.value) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' });
      inserted.push(...rows);
    },
    insertRowBinary: async (_table, columns, chunks) => {
      attempts += 1;
      if (down.value) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' });
      expect(columns).toEqual(ACCESS_EVENT_COLUMNS.map(([name]) => name));
      inserted.push(...readRowBinary(Buffer.concat(chunks), ACCESS_EVENT_COLUMNS));
    },
    queryRows: async () => [],
    queryStream: async function* () {},
    command: async () => {},
    ping: async () => true,
    close: async () => {},
  };
  return { ch, inserted, attempts: () => attempts };
}

function setup(down = { value: false }, registry = { down: false }) {
  const events = [numberedEvent(1), numberedEvent(2), numberedEvent(3)];
  const consumers: ReturnType<typeof fakeConsumer>[] = [];
  const clickhouse = fakeClickHouse(down);
  const letters: DeadLetterInput[] = [];
  const deadLetters: DeadLetterWriter = { build: () => { throw new Error('unused'); }, send: async (inputs) => { letters.push(...inputs); } };
  const { log, lines } = captureLogger('sink-clickhouse');
  const sink = createStreamSink({
    spec: { name: 'events', groupId: 'unit.group', roles: ['accessEnriched'] },
    topics,
    consumer: () => {
      const fake = fakeConsumer();
      consumers.push(fake);
      return fake.consumer;
    },
    codec: fakeCodec(events, registry),
    clickhouse: clickhouse.ch,
    deadLetters,
    metrics: createSinkMetrics({ defaultMetrics: false }),
    log,
    batch: { rows: 100, bytes: 1 << 20, maxWaitMs: 50, idleMs: 5, minIdleRows: 1 },
    retry: { initialDelayMs: 1, maxDelayMs: 5, multiplier: 2 },
  });
  const deliver = (values: string[]) =>
    consumers.at(-1)!.options().eachBatch({
      topic: topics.accessEnriched,
      partition: 0,
      messages: values.map((value, i) => ({
        topic: topics.accessEnriched, partition: 0, offset: BigInt(i), key: null, value: Buffer.from(value), timestamp: 0, headers: {},
      })),
    });
  return { sink, consumers, inserted: clickhouse.inserted, attempts: clickhouse.attempts, letters, lines, deliver };
}

describe('stream sink', () => {
  it('resolves a batch (so it may be committed) only once its rows are inserted', async () => {
    const { sink, inserted, deliver } = setup();
    await sink.start();
    await deliver(['0', '1', '2']);
    expect(inserted.map((r) => (r as { event_id: string }).event_id)).toEqual([numberedEvent(1), numberedEvent(2), numberedEvent(3)].map((e) => e.event.event_id));
  });

  it('pauses consumption while ClickHouse refuses, retries, and resumes by itself', async () => {
    const down = { value: true };
    const { sink, consumers, inserted, attempts, deliver, lines } = setup(down);
    await sink.start();
    let settled = false;
    const batch = deliver(['0', '1']).then(() => (settled = true));
    await waitFor(() => sink.status().paused && attempts() >= 3, { what: 'a paused stream retrying' });
    expect(settled).toBe(false);
    expect(inserted).toEqual([]);
    down.value = false;
    await batch;
    expect(inserted).toHaveLength(2);
    expect(consumers[0]!.calls).toEqual(['run', 'pause', 'resume']);
    expect(sink.status()).toMatchObject({ paused: false, lastWriteError: null });
    expect(lines.some((l) => l.includes('insert failed; pausing consumption and retrying'))).toBe(true);
  });

  it('dead-letters what it cannot decode and still writes the rest', async () => {
    const { sink, inserted, letters, deliver } = setup();
    await sink.start();
    await deliver(['0', 'garbage', '2']);
    expect(inserted).toHaveLength(2);
    expect(letters).toEqual([expect.objectContaining({ stage: 'parsing', topic: topics.accessEnriched, offset: 1n, original: Buffer.from('garbage') })]);
  });

  it('waits for a registry that is down instead of dead-lettering what it cannot decode yet', async () => {
    const registry = { down: true };
    const { sink, inserted, letters, deliver } = setup({ value: false }, registry);
    await sink.start();
    let settled = false;
    const batch = deliver(['0', 'w:1']).then(() => (settled = true));
    await waitFor(() => sink.status().paused || undefined, { what: 'a stream paused on the registry' });
    expect(settled).toBe(false);
    expect(sink.status().lastWriteError).toContain('registry unreachable');
    registry.down = false;
    await batch;
    expect(letters).toEqual([]);
    expect(inserted).toHaveLength(2);
    expect(sink.status().paused).toBe(false);
  });

  it('replaces a crashed consumer and rejoins its group', async () => {
    const { sink, consumers, deliver, inserted } = setup();
    await sink.start();
    consumers[0]!.options().onCrash!(new Error('The coordinator is not aware of this member'));
    await waitFor(() => consumers.length === 2 && consumers[1]!.calls.includes('run'), { what: 'a second consumer running' });
    expect(consumers[0]!.calls).toContain('stop');
    expect(sink.status().consuming).toBe(true);
    await deliver(['1']);
    expect(inserted).toHaveLength(1);
  });

  it('writes what is buffered at once on stop', async () => {
    const { sink, inserted, deliver } = setup();
    await sink.start();
    const batch = deliver(['0']);
    await sink.stop();
    await batch;
    expect(inserted).toHaveLength(1);
  });
});
