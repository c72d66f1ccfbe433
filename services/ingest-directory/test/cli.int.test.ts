// The import CLI as operators run it, against the real Kafka and registry:
// a hostile export lands its good rows and dead-letters the rest with their
// exact bytes; importing it again repeats the same keys; a file that cannot
// be read is dead-lettered whole and the command fails.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames, type TopicRole } from '#config';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix } from '#testkit';

const run = promisify(execFile);
const CLI = path.join(import.meta.dirname, '../src/index.ts');
const fixture = path.join(import.meta.dirname, 'fixtures/hostile.csv');

describe('ingest-directory import, real Kafka and registry', () => {
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

  it('lands good rows, dead-letters bad ones with their bytes, repeats keys on re-import, refuses an unreadable file', async () => {
    await run(process.execPath, [CLI, 'import', fixture], { env });
    await run(process.execPath, [CLI, 'import', fixture], { env });
    const unreadable = path.join(mkdtempSync(path.join(tmpdir(), 'tether-directory-')), 'export.csv');
    writeFileSync(unreadable, 'mail;id\na@example.com;E1\n');
    const failed = await run(process.execPath, [CLI, 'import', unreadable], { env }).then(() => 0, (err: { code: number }) => err.code);
    expect(failed).toBe(1);

    const common = testConfig();
    const codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    const users = await readAll(codec, 'identityUsers');
    // Delivery is at least once (a producer retry may write a record twice): the second import repeats the keys, adds none.
    const once = [`hr:E1@${Date.UTC(2026, 0, 1)}`, `hr:E10@${Date.UTC(2026, 0, 10)}`, `hr:E2@${Date.UTC(2026, 0, 2)}`];
    expect([...new Set(users.map((u) => u.key))].sort()).toEqual([...once].sort());
    for (const key of once) expect(users.filter((u) => u.key === key).length).toBeGreaterThanOrEqual(2);
    expect(users.find((u) => u.key.startsWith('hr:E2@'))!.value.display_name).toBe("=cmd|' /C calc'!A0");

    const dead = await readAll(codec, 'dlq');
    // Seven bad rows from each import and the unreadable file, each at least once.
    const letters = new Map(dead.map((d) => [`${d.value.message}\u0000${d.value.original.toString('base64')}`, d]));
    expect(letters.size).toBe(7 + 1);
    expect(dead.length).toBeGreaterThanOrEqual(7 * 2 + 1);
    const file = readFileSync(fixture);
    const rowLetters = dead.filter((d) => d.value.message.startsWith('line '));
    expect(rowLetters.every((d) => file.includes(d.value.original) && d.value.reason_code === 'TETHER_SOURCE_PARSE')).toBe(true);
    const latin1 = rowLetters.find((d) => d.value.message.startsWith('line 8:'))!.value.original;
    expect(latin1.equals(Buffer.from('jose@example.com,E6,active,hr,2026-01-06,Jos\xe9 Ara\xfajo,,,,', 'latin1'))).toBe(true);
    const whole = dead.find((d) => !d.value.message.startsWith('line '))!.value;
    expect(whole).toMatchObject({ stage: 'parsing', reason_code: 'TETHER_SOURCE_PARSE', service: 'ingest-directory', source: 'directory/csv' });
    expect(whole.original.equals(readFileSync(unreadable))).toBe(true);
  });
});
