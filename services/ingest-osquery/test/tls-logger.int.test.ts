// The TLS logger endpoint as osquery talks to it, on the real Kafka and
// registry: enrolment with the secret, node keys checked, gzip bodies, an
// answer only once records are stored, and a restart that keeps both the
// node keys and each host's state.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { topicNames, type TopicRole } from '#config';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { freePort, readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';

const CLI = path.join(import.meta.dirname, '../src/index.ts');
const ENROLL_SECRET = 'enroll-secret-for-tests-0123456789';
const T0 = 1_772_438_400;

const record = (host: string, name: string, offsetS: number, counter: number, action: 'added' | 'removed', columns: Record<string, string>) => ({
  name, hostIdentifier: host, calendarTime: 'ignored when unixTime is there', unixTime: T0 + offsetS, epoch: 0, counter, numerics: false, decorations: {}, columns, action,
});
const info = record('lt-9', 'pack/it/system_info', 0, 0, 'added', { hostname: 'lt-9', uuid: 'U-9', hardware_serial: 'SER9', cpu_brand: 'x' });
const iface = (t: number, counter: number, action: 'added' | 'removed', address: string) => record('lt-9', 'pack/it/interfaces', t, counter, action, { interface: 'en0', address, mask: '255.255.255.0' });

describe('ingest-osquery TLS logger endpoint, real Kafka and registry', () => {
  const prefix = uniqueTopicPrefix();
  const topics = topicNames(prefix);
  const kafka = testKafka('kafkajs');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    const admin = await kafka.admin();
    try {
      await admin.deleteTopics(Object.values(topics));
    } finally {
      await admin.close();
    }
  });

  let base = '';
  async function start(): Promise<ChildProcess> {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn', TETHER_OSQUERY_PORT: '0', TETHER_OSQUERY_TLS_PORT: String(port),
        TETHER_OSQUERY_ENROLL_SECRET: ENROLL_SECRET, TETHER_OSQUERY_NODE_KEY_SECRET: 'node-key-secret-for-tests-0123456789abcdef',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(child);
    await waitFor(() => fetch(`${base}/enroll`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }).then((r) => r.status === 401 || undefined), { what: 'the endpoint', timeoutMs: 120_000 });
    return child;
  }
  const post = (route: string, body: unknown, gzip = false) =>
    fetch(`${base}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
      body: gzip ? gzipSync(JSON.stringify(body)) : JSON.stringify(body),
    });
  let codec: Codec;
  const readAll = <R extends TopicRole>(role: R) => readTopicToEnd(kafka, codec, role, topics[role]);

  it('enrolls with the secret only, refuses unknown node keys, stores gzip posts before answering, and keeps host state over a restart', async () => {
    let child = await start();
    const common = testConfig();
    codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });

    const refused = await post('/enroll', { enroll_secret: 'wrong', host_identifier: 'lt-9' });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ node_invalid: true });
    const forged = await post('/log', { node_key: 'bHQtOQ.forged', log_type: 'result', data: [info] });
    expect([forged.status, await forged.json()]).toEqual([401, { node_invalid: true }]);

    const enrolled = await post('/enroll', { enroll_secret: ENROLL_SECRET, host_identifier: 'lt-9', host_details: {} });
    const { node_key: nodeKey } = (await enrolled.json()) as { node_key: string };
    expect(nodeKey).toMatch(/\./);

    const status = await post('/log', { node_key: nodeKey, log_type: 'status', data: [{ severity: 0, message: 'hello' }] });
    expect(status.status).toBe(200);
    const stored = await post('/log', { node_key: nodeKey, log_type: 'result', _compress: true, data: [info, iface(0, 0, 'added', '10.1.0.1'), iface(0, 0, 'added', '10.1.0.2')] }, true);
    expect(stored.status).toBe(200);
    // Answered only after Kafka acknowledged: the version is readable now, without waiting.
    const first = await readAll('identityDevices');
    expect(first.map((r) => [r.key, r.value.ip_addresses]).at(-1)).toEqual([`serial:SER9@${T0 * 1000}`, ['10.1.0.1', '10.1.0.2']]);

    const bad = await post('/log', { node_key: nodeKey, log_type: 'result', data: [{ name: 'q', hostIdentifier: 'lt-9', action: 'added', columns: {} }] });
    expect(bad.status).toBe(200);
    expect((await readAll('dlq')).map((d) => d.value.reason_code)).toEqual(['TETHER_NORMALISE_INVALID']);

    // Killed and started again: the old node key still holds, and the host's addresses are remembered, so a removal leaves the other one.
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    child = await start();
    const after = await post('/log', { node_key: nodeKey, log_type: 'result', data: [iface(600, 1, 'removed', '10.1.0.1')] });
    expect(after.status).toBe(200);
    const versions = new Map((await readAll('identityDevices')).map((r) => [r.key, r.value.ip_addresses]));
    expect(versions.get(`serial:SER9@${(T0 + 600) * 1000}`)).toEqual(['10.1.0.2']);
    child.kill('SIGTERM');
  });
});
