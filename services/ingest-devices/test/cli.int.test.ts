// The import CLI as operators run it, against the real Kafka and registry:
// two Fleet exports imported newest first land every version under stable
// keys, and refused hosts reach the DLQ with their exact bytes.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames, type TopicRole } from '#config';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix } from '#testkit';

const run = promisify(execFile);
const CLI = path.join(import.meta.dirname, '../src/index.ts');
const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);

describe('ingest-devices import, real Kafka and registry', () => {
  const prefix = uniqueTopicPrefix();
  const topics = topicNames(prefix);
  const kafka = testKafka('kafkajs');
  const env = { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn' };
  afterAll(async () => {
    const admin = await kafka.admin();
    try {
      await admin.deleteTopics(Object.values(topics));
    } finally {
      await admin.close();
    }
  });

  const readAll = <R extends TopicRole>(codec: Codec, role: R) => readTopicToEnd(kafka, codec, role, topics[role]);

  it('lands the newer export and then the older one as history, and dead-letters refused hosts with their bytes', async () => {
    const future = JSON.stringify({ id: 9, hardware_serial: 'FUTURE9', seen_time: '2999-01-01T00:00:00Z' });
    const noKey = JSON.stringify({ id: 10, hostname: 'ghost', seen_time: '2026-11-20T00:00:00Z' });
    const jsonl = path.join(mkdtempSync(path.join(tmpdir(), 'tether-devices-')), 'hosts.jsonl');
    writeFileSync(jsonl, `${future}\n${noKey}\nnot json\n`);
    for (const file of [fixture('fleet-hosts-2026-11.json'), fixture('fleet-hosts-2026-06.json'), jsonl]) await run(process.execPath, [CLI, 'import', file], { env });

    const common = testConfig();
    const codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    // What a reader of the compacted topic gets: the latest value per key (a producer retry may write one twice).
    const devices = [...new Map((await readAll(codec, 'identityDevices')).map((d) => [d.key, d])).values()];
    expect(devices.map((d) => [d.key, d.value.assigned_email]).sort()).toEqual([
      [`serial:C02FAKE0042@${Date.parse('2026-06-02T09:11:42Z')}`, 'ana.lima@example.com'],
      [`serial:C02FAKE0042@${Date.parse('2026-11-18T08:30:00Z')}`, 'bo.chen@example.com'],
      [`serial:C02OFFLINE1@${Date.parse('2026-11-02T09:00:00Z')}`, 'carol.black@example.com'],
      [`uuid:1D2E3F40-5162-7384-95A6-B7C8D9E0F1A2@${Date.parse('2026-06-02T10:00:00Z')}`, 'bo.chen@example.com'],
    ]);

    const dead = await readAll(codec, 'dlq');
    const distinct = [...new Map(dead.map((d) => [JSON.stringify([d.value.stage, d.value.reason_code, d.value.original.toString()]), d])).values()];
    expect(distinct.map((d) => [d.value.stage, d.value.reason_code, d.value.original.toString()])).toEqual([
      ['normalising', 'TETHER_NORMALISE_INVALID', '{"id":123,"hostname":"ghost","hardware_serial":"","platform":"ubuntu","seen_time":"2026-06-02T10:00:00Z"}'],
      ['normalising', 'TETHER_NORMALISE_INVALID', future],
      ['normalising', 'TETHER_NORMALISE_INVALID', noKey],
      ['parsing', 'TETHER_SOURCE_PARSE', 'not json'],
    ]);
  });
});
