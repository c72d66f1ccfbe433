// osquery's own Kafka logger topic as a source, on the real broker: the
// records osquery's kafka_producer plugin writes become device versions and
// AI events; a message that is not JSON is dead-lettered with its bytes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames, type TopicRole } from '#config';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';

const CLI = path.join(import.meta.dirname, '../src/index.ts');
const T0 = 1_772_438_400;

describe('ingest-osquery consume, real Kafka and registry', () => {
  const prefix = uniqueTopicPrefix();
  const topics = topicNames(prefix);
  const osqueryTopic = `${prefix}osquery_results`;
  const kafka = testKafka('kafkajs');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    const admin = await kafka.admin();
    try {
      await admin.deleteTopics([...Object.values(topics), osqueryTopic]);
    } finally {
      await admin.close();
    }
  });
  let codec: Codec;
  const readAll = <R extends TopicRole>(role: R) => readTopicToEnd(kafka, codec, role, topics[role]);

  it('turns the kafka_producer topic into device versions and AI events', async () => {
    const admin = await kafka.admin();
    try {
      await admin.createTopics([{ name: osqueryTopic, partitions: 1 }]);
    } finally {
      await admin.close();
    }
    const producer = await kafka.producer();
    const message = (value: unknown) => ({ topic: osqueryTopic, key: null, value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) });
    await producer.send([
      message({ name: 'pack/it/system_info', hostIdentifier: 'k-1', unixTime: T0, counter: 0, columns: { hostname: 'k-1', uuid: 'UK1', hardware_serial: 'SERK1', cpu_brand: 'x' }, action: 'added' }),
      message({ name: 'pack/it/ifaces', hostIdentifier: 'k-1', unixTime: T0 + 60, counter: 1, diffResults: { added: [{ interface: 'en0', address: '10.3.0.7', mask: '255.255.0.0' }], removed: [] } }),
      message({ name: 'pack/it/procs', hostIdentifier: 'k-1', unixTime: T0 + 120, counter: 5, numerics: true, columns: { pid: 77, name: 'Claude', path: '/Applications/Claude.app/Contents/MacOS/Claude', uid: 501 }, action: 'added' }),
      message('{"name": "broken'),
    ]);
    await producer.close();

    const child = spawn(process.execPath, [CLI, 'consume'], {
      env: { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn', TETHER_OSQUERY_PORT: '0', TETHER_OSQUERY_KAFKA_TOPIC: osqueryTopic },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    const common = testConfig();
    codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const events = await waitFor(async () => {
      const out = await readAll('accessRaw');
      return out.length > 0 ? out : undefined;
    }, { what: 'the AI event', timeoutMs: 120_000 });
    expect(events.map((e) => [e.value.action, e.value.targets[0]?.id, e.value.src.device_id])).toEqual([['endpoint.ai_app.running', 'claude', 'serial:SERK1']]);
    const devices = new Map((await readAll('identityDevices')).map((r) => [r.key, r.value.ip_addresses]));
    expect(devices.get(`serial:SERK1@${(T0 + 60) * 1000}`)).toEqual(['10.3.0.7']);
    const dead = await waitFor(async () => {
      const out = await readAll('dlq');
      return out.length > 0 ? out : undefined;
    }, { what: 'the dead letter' });
    expect(dead.map((d) => [d.value.stage, d.value.original.toString()])).toEqual([['parsing', '{"name": "broken']]);
    child.kill('SIGTERM');
  });
});
