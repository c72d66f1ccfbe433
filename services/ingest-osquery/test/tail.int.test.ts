// The filesystem-logger transport as deployed, on the real Kafka and
// registry: a results file that grows, gets a half-written line, is killed
// with -9, rotates and is truncated in place, still lands every device
// version and AI-tool event exactly as a single clean read of every line
// would make them.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '#catalogue';
import { topicNames, type TopicRole } from '#config';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';
import { endpointCatalogue } from '../src/endpoint-catalogue.ts';
import { parseJsonBytes, processResult, type HostStates } from '../src/results-processor.ts';

const CLI = path.join(import.meta.dirname, '../src/index.ts');

const T0 = 1_772_438_400; // Mon Mar  2 08:00:00 2026 UTC
let counter = 0;
function line(host: string, name: string, offsetS: number, action: 'added' | 'removed', columns: Record<string, string>, run = counter++): string {
  return JSON.stringify({ name, hostIdentifier: host, unixTime: T0 + offsetS, epoch: 0, counter: run, numerics: false, decorations: {}, columns, action });
}
const info = (host: string, serial: string) => line(host, 'pack/it/system_info', 0, 'added', { hostname: `${host}.corp.example.com`, uuid: `UUID-${serial}`, hardware_serial: serial, cpu_brand: 'x' }, 0);
const iface = (host: string, t: number, action: 'added' | 'removed', address: string) => line(host, 'pack/it/interface_addresses', t, action, { interface: 'en0', address, mask: '255.255.255.0' });
const login = (host: string, t: number, user: string) => line(host, 'pack/it/logged_in_users', t, 'added', { type: 'user', user, tty: 'console', host: '', time: String(T0 + t) });
const chatgpt = (host: string, t: number, pid: number) =>
  line(host, 'pack/it/ai_processes', t, 'added', { pid: String(pid), name: 'ChatGPT', path: '/Applications/ChatGPT.app/Contents/MacOS/ChatGPT', cmdline: '', uid: '501' });

describe('ingest-osquery tail, real Kafka and registry', () => {
  const prefix = uniqueTopicPrefix();
  const topics = topicNames(prefix);
  const kafka = testKafka('kafkajs');
  const dir = mkdtempSync(path.join(tmpdir(), 'tether-osquery-'));
  const file = path.join(dir, 'osqueryd.results.log');
  const env = { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn', TETHER_OSQUERY_PORT: '0', TETHER_OSQUERY_POLL_MS: '50', TETHER_OSQUERY_USER_DOMAIN: 'example.com' };
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

  const start = () => {
    const child = spawn(process.execPath, [CLI, 'tail', file], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(child);
    return child;
  };
  const killed = (child: ChildProcess) => new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
  /** Every whole line written so far once, in order, through the same processor: what the topics must end up holding. */
  function oracle(written: readonly string[]) {
    const hosts: HostStates = new Map();
    const options = { catalogue: endpointCatalogue(loadCatalogue()), ingestedAt: 0, observedAt: 0, userDomain: 'example.com' };
    const expected = { devices: new Map<string, unknown>(), events: new Set<string>(), dead: new Set<string>() };
    const whole = written.join('').split('\n').slice(0, -1);
    for (const l of whole.filter((s) => s !== '')) {
      const parsed = parseJsonBytes(Buffer.from(l));
      if (!parsed.ok) {
        expected.dead.add(l);
        continue;
      }
      const item = processResult(hosts, parsed.value, Buffer.from(l), options);
      if (!item.result.ok) throw new Error(`fixture line refused: ${l}`);
      for (const r of item.result.records) {
        if (r.role === 'identityDevices') expected.devices.set(r.key, [r.value.assigned_email, r.value.ip_addresses]);
        if (r.role === 'accessRaw') expected.events.add(r.key);
      }
    }
    return expected;
  }
  let codec: Codec;
  const devicesOnTopic = async () => new Map((await readAll('identityDevices')).map((r) => [r.key, [r.value.assigned_email, r.value.ip_addresses]]));
  /** Waits until the topics hold what the lines written so far make. */
  const caughtUp = (written: readonly string[], what: string) =>
    waitFor(async () => {
      const want = oracle(written);
      const devices = await devicesOnTopic();
      const events = await keysOf('accessRaw');
      const dead = new Set((await readAll('dlq')).map((d) => d.value.original.toString()));
      return [...want.dead].every((l) => dead.has(l)) && [...want.devices].every(([k, v]) => JSON.stringify(devices.get(k)) === JSON.stringify(v)) && [...want.events].every((k) => events.has(k)) ? true : undefined;
    }, { what, timeoutMs: 120_000 });
  const readAll = <R extends TopicRole>(role: R) => readTopicToEnd(kafka, codec, role, topics[role]);
  const keysOf = async (role: TopicRole) => new Set((await readAll(role)).map((r) => r.key));

  it('loses and repeats nothing across growth, a half line, kill -9, rotation and truncation', async () => {
    const written: string[] = [];
    const write = (text: string) => {
      appendFileSync(file, text);
      written.push(text);
    };
    const lines = (...l: string[]) => write(l.map((s) => `${s}\n`).join(''));
    lines(info('lt-1', 'SER1'), iface('lt-1', 0, 'added', '10.0.0.11'), login('lt-1', 60, 'ana'), chatgpt('lt-1', 120, 100));
    let child = start();

    const common = testConfig();
    codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
    await caughtUp(written, 'the first lines');

    // Growth, then a line cut in two by the writer when the tailer is killed.
    lines(iface('lt-1', 3600, 'removed', '10.0.0.11'), iface('lt-1', 3600, 'added', '10.0.0.12'));
    const half = chatgpt('lt-1', 3700, 101);
    write(half.slice(0, 40));
    await caughtUp(written, 'the lease change');
    await killed(child);
    write(`${half.slice(40)}\n`);

    // Rotation while the tailer is down: lines left in the old file, a new file with another host.
    lines(login('lt-1', 3800, 'ben'));
    renameSync(file, `${file}.1`);
    writeFileSync(file, '');
    lines(info('dt-2', 'SER2'), iface('dt-2', 4000, 'added', '10.0.0.11'), 'not json at all');
    child = start();
    await caughtUp(written, 'the rotated-in host');

    // copytruncate: the file emptied in place and refilled.
    truncateSync(file, 0);
    lines(chatgpt('dt-2', 5000, 200), iface('dt-2', 5000, 'removed', '10.0.0.11'));
    await caughtUp(written, 'the lines after truncation');
    await killed(child);

    // Nothing more than one clean read of every line would make, and nothing less.
    const expected = oracle(written);
    const devices = await devicesOnTopic();
    expect(devices).toEqual(expected.devices);
    expect(await keysOf('accessRaw')).toEqual(expected.events);
    expect(expected.events.size).toBe(3);
    const dead = await readAll('dlq');
    expect(new Set(dead.map((d) => d.value.original.toString()))).toEqual(expected.dead);
    expect(expected.dead).toEqual(new Set(['not json at all']));

    // The lease moved: 10.0.0.11 was lt-1's until 09:00, then dt-2's from 09:06:40 until 09:23:20.
    const at = (s: number) => Date.parse('2026-03-02T08:00:00Z') + s * 1000;
    const holders = (t: number) => {
      const latest = new Map<string, { validFrom: number; ips: string[] }>();
      for (const [key, value] of devices) {
        const [id, from] = key.split('@') as [string, string];
        if (Number(from) <= t && (latest.get(id)?.validFrom ?? -1) < Number(from)) latest.set(id, { validFrom: Number(from), ips: (value as [string, string[]])[1] });
      }
      return [...latest].filter(([, v]) => v.ips.includes('10.0.0.11')).map(([id]) => id);
    };
    expect(holders(at(1800))).toEqual(['serial:SER1']);
    expect(holders(at(4500))).toEqual(['serial:SER2']);
    expect(holders(at(6000))).toEqual([]);
  });
});
