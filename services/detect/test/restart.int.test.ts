// Kill -9 of the detect service in the middle of a threshold window, on the
// real broker and ClickHouse. Two of the three key creations of a burst are
// consumed and committed, the service is killed (no shutdown), a new one
// starts: the third creation completes the burst, so the window survived.
// Then the group's offsets are rewound to the beginning and the service
// replays every event: the groups recognise their events (no burst fires
// again) and the match finding emitted again carries its old id, so the
// findings table still shows each finding once.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSUMER_GROUPS } from '#config';
import { createClickHouse, migrate } from '#clickhouse';
import { createLogger } from '#log';
import { createCodec, createRegistryClient, type EnrichedAccessEvent } from '#schemas';
import { createTopics, freePort, readTopicToEnd, testConfig, testKafka, uniqueName, uniqueTopicPrefix, waitFor } from '#testkit';
import { buildSinkApp } from '../../sink-clickhouse/src/app.ts';
import { loadSinkConfig } from '../../sink-clickhouse/src/config.ts';
import { fixtureEvent } from '../src/rules/fixtures.ts';

const ENTRY = path.resolve(import.meta.dirname, '../src/index.ts');

const keyCreation = (id: string, minute: number): EnrichedAccessEvent => fixtureEvent({
  event: { event_id: id, action: 'api_key.created', time: Date.UTC(2025, 8, 2, 10, minute) },
  person: { person_id: '00uLee', email: 'lee@example.com' },
  device: { device_id: 'dev-1', managed: true },
  attribution: { method: 'direct_email', confidence: 0.9 },
}, 0, []);
const shadow = fixtureEvent({
  event: { event_id: 'shadow-1', action: 'project.updated', actor: { kind: 'api_key', api_key_id: 'key_Unknown1' }, time: Date.UTC(2025, 8, 2, 9, 0) },
  attribution: { method: 'unresolved', reasons: ['api_key_unknown: openai:api_key:key_Unknown1'] },
}, 0, []);

describe('detect restart on the real broker', () => {
  const base = testConfig();
  const prefix = uniqueTopicPrefix();
  const database = uniqueName('detect_restart');
  const kafka = testKafka('kafkajs');
  const log = createLogger({ service: 'test', level: 'warn' });
  const children: ChildProcess[] = [];
  const ch = createClickHouse({ url: base.TETHER_CLICKHOUSE_URL, database, username: base.TETHER_CLICKHOUSE_USER, password: base.TETHER_CLICKHOUSE_PASSWORD });
  let sinkStop: (() => Promise<void>) | undefined;

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await sinkStop?.();
    await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined);
    await ch.close();
  });

  async function startDetect(): Promise<{ child: ChildProcess; port: number; output: Buffer[] }> {
    const port = await freePort();
    const child = spawn(process.execPath, [ENTRY], {
      env: { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_DETECT_PORT: String(port), TETHER_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => output.push(c));
    child.stderr!.on('data', (c: Buffer) => output.push(c));
    children.push(child);
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`detect exited with ${child.exitCode}: ${Buffer.concat(output).toString().slice(-2_000)}`);
      return (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0)) === 200 || undefined;
    }, { what: 'detect to report healthy' });
    return { child, port, output };
  }

  /** The detect group has committed the enriched topic to its end. */
  async function consumedAll(topic: string): Promise<void> {
    await waitFor(async () => {
      const admin = await kafka.admin();
      try {
        const ends = await admin.topicOffsets(topic);
        const done = await admin.groupOffsets(`${prefix}${CONSUMER_GROUPS.detect}`, topic);
        return ends.every((p) => p.high === p.low || (done.get(p.partition) ?? -1n) >= p.high) || undefined;
      } finally {
        await admin.close();
      }
    }, { what: 'detect to commit every enriched event' });
  }

  it('keeps the window across kill -9 and emits no finding twice into query results', { timeout: 300_000 }, async () => {
    const topics = await createTopics(kafka, prefix);
    const codec = await createCodec({ registry: createRegistryClient(base.TETHER_SCHEMA_REGISTRY_URL), registryUrl: base.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    await migrate({ clickhouse: { url: base.TETHER_CLICKHOUSE_URL, username: base.TETHER_CLICKHOUSE_USER, password: base.TETHER_CLICKHOUSE_PASSWORD }, database, log });
    const sink = buildSinkApp(loadSinkConfig({
      ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_CLICKHOUSE_DATABASE: database, TETHER_SINK_PORT: '0',
      TETHER_SINK_STREAMS: 'findings', TETHER_SINK_BATCH_MAX_WAIT_MS: '100', TETHER_LOG_LEVEL: 'warn',
    }), { log });
    await sink.start();
    sinkStop = () => sink.stop();
    const producer = await kafka.producer();
    // One key for every event: one partition, as the enrich service keys a person's events.
    const send = (events: EnrichedAccessEvent[]) => producer.send(events.map((e) => ({ topic: topics.accessEnriched, key: '00uLee', value: codec.encode('accessEnriched', e) })));

    const first = await startDetect();
    await send([shadow, keyCreation('burst-1', 0), keyCreation('burst-2', 10)]);
    await consumedAll(topics.accessEnriched);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = await startDetect();
    await send([keyCreation('burst-3', 20)]);
    const findingsOf = async () => ch.queryRows<{ rule_id: string; event_ids: string[]; finding_id: string }>('SELECT rule_id, event_ids, finding_id FROM findings FINAL ORDER BY rule_id');
    const rows = await waitFor(async () => {
      const r = await findingsOf();
      return r.length >= 2 ? r : undefined;
    }, { what: 'the burst and the shadow finding in ClickHouse' });
    expect(rows.map((r) => [r.rule_id, r.event_ids])).toEqual([
      ['tether.api-key-burst', ['burst-1', 'burst-2', 'burst-3']],
      ['tether.shadow-access', ['shadow-1']],
    ]);
    await consumedAll(topics.accessEnriched);

    // Replay everything: stop gracefully (the group empties), rewind it to the beginning, start again.
    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
    const raw = new Kafka({ brokers: base.TETHER_KAFKA_BROKERS, clientId: uniqueName('rewind'), logLevel: logLevel.NOTHING }).admin();
    await raw.connect();
    await raw.setOffsets({ groupId: `${prefix}${CONSUMER_GROUPS.detect}`, topic: topics.accessEnriched, partitions: (await raw.fetchTopicOffsets(topics.accessEnriched)).map((p) => ({ partition: p.partition, offset: p.low })) });
    await raw.disconnect();
    const before = (await readTopicToEnd(kafka, codec, 'findings', topics.findings)).length;
    const third = await startDetect();
    await consumedAll(topics.accessEnriched);
    // The replay re-emitted the shadow finding (a match rule has no state): same id.
    const emitted = await waitFor(async () => {
      const all = await readTopicToEnd(kafka, codec, 'findings', topics.findings);
      return all.length > before ? all : undefined;
    }, { what: 'the replayed match finding on tether.findings' });
    expect(emitted.filter((f) => f.value.rule_id === 'tether.api-key-burst')).toHaveLength(1);
    const shadows = emitted.filter((f) => f.value.rule_id === 'tether.shadow-access');
    expect(shadows.length).toBeGreaterThanOrEqual(2);
    expect(new Set(shadows.map((f) => f.value.finding_id)).size).toBe(1);
    // The sink has stored the re-emitted copy too.
    await waitFor(async () => {
      const admin = await kafka.admin();
      try {
        const ends = await admin.topicOffsets(topics.findings);
        const done = await admin.groupOffsets(`${prefix}${CONSUMER_GROUPS.sinkFindings}`, topics.findings);
        return ends.every((p) => p.high === p.low || (done.get(p.partition) ?? -1n) >= p.high) || undefined;
      } finally {
        await admin.close();
      }
    }, { what: 'the sink to store every finding record' });
    expect((await findingsOf()).map((r) => [r.rule_id, r.finding_id])).toEqual(rows.map((r) => [r.rule_id, r.finding_id]));

    third.child.kill('SIGTERM');
    await once(third.child, 'exit');
    await producer.close();
    const admin = await kafka.admin();
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
    await admin.close();
  });
});
