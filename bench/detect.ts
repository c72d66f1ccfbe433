// npm run bench:detect [-- --persons 5000 --events 200000]
// The same approach as bench:enrich, shorter: identities and raw events on a
// fresh topic prefix, then, in one run on this machine,
//   enrich  - the enrich service (own process) enriches the backlog: events/s;
//   detect  - the detect service (own process, the starter pack) evaluates the
//             enriched backlog: events/s, from health 200 until its group has
//             committed every enriched event (findings and state written).
// The mix exercises every starter rule: key use (5 % of owners left, keys
// seen from several networks), key creations in bursts, sessions, connector
// use, unattributed actors. Prints numbers; asserts nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commonEnvSchema, CONSUMER_GROUPS, loadConfig, topicNames } from '#config';
import { createKafkaClient, type ProduceRecord } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient, versionKey, type AccessEvent } from '#schemas';
import { freePort } from '#testkit';
import { anthropicSystemEvent, googleTokenEvent, openaiKeyEvent, openaiSessionEvent } from '../services/enrich/test/fixtures/events.ts';
import { at, connectorGrant, device, directoryPerson, nonHuman, platformAccount } from '../services/enrich/test/fixtures/identities.ts';
import { produceAll } from './lib/produce.ts';

const { values } = parseArgs({ options: { persons: { type: 'string', default: '5000' }, events: { type: 'string', default: '200000' } } });
const P = Number(values.persons);
const M = Number(values.events);
const config = loadConfig(commonEnvSchema);
const log = createLogger({ service: 'bench-detect', level: 'warn' });
const prefix = `bench_detect_${Date.now().toString(36)}.`;
const topics = topicNames(prefix);
const kafka = createKafkaClient('platformatic', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-detect' }, log);
const ROOT = path.resolve(import.meta.dirname, '..');
const JAN = at('2025-01-01T00:00:00Z');
const JUN = at('2025-06-01T00:00:00Z');

function* identities(codec: Awaited<ReturnType<typeof createCodec>>): Generator<ProduceRecord> {
  const rec = (role: 'identityUsers' | 'identityDevices' | 'identityNhi' | 'identityConnectors', id: string, v: { valid_from: number }): ProduceRecord =>
    ({ topic: topics[role], key: versionKey(id, v.valid_from), value: codec.encode(role, v as never) });
  yield rec('identityNhi', 'openai:project:proj_0', nonHuman('openai', 'project', 'proj_0', JAN, { name: 'p0' }));
  for (let i = 0; i < P; i++) {
    const email = `person${i}@example.com`;
    yield rec('identityUsers', `00u${i}`, directoryPerson(`00u${i}`, JAN, { email, display_name: `Person ${i}` }));
    if (i % 20 === 3) yield rec('identityUsers', `00u${i}`, directoryPerson(`00u${i}`, JUN, { email, active: false, lifecycle_state: 'inactive' }));
    yield rec('identityUsers', `openai:user-${i}`, platformAccount('openai', `user-${i}`, JAN + 1, { email }));
    yield rec('identityNhi', `openai:api_key:key_${i}`, nonHuman('openai', 'api_key', `key_${i}`, JAN + 2, {
      name: `key-${i}`, parent_nhi_id: 'openai:project:proj_0', owner_platform_user_id: `openai:user-${i}`, owner_email: email, created_at: JAN + 2,
    }));
    if (i % 2 === 0) yield rec('identityDevices', `dev-${i}`, device(`dev-${i}`, JAN, { serial: `S${i}`, assigned_person_id: `00u${i}`, managed: i % 10 !== 0, ip_addresses: [`10.${i >> 8 & 255}.${i & 255}.1`] }));
    if (i % 50 === 0) yield rec('identityConnectors', `google:app-${i}:${email}`, connectorGrant('google', `app-${i}`, email, JAN, { app_name: 'ChatGPT', granted_by_email: email }));
  }
}

/** Event n: 40 % key use, 20 % logins, 15 % key creations (bursts), 10 % connector use, 10 % unknown keys, 5 % system. */
function eventAt(n: number): AccessEvent {
  const i = (n * 7919) % P;
  const time = at('2025-07-01T00:00:00Z') + n * 1_000;
  const slot = n % 20;
  const ip = `${slot % 3 === 0 ? 198 : 10}.${i >> 8 & 255}.${(i + (n % 5)) & 255}.${n % 250}`;
  if (slot < 8) return openaiKeyEvent({ id: `k${n}`, time, type: 'project.updated', keyId: `key_${i}`, ip });
  if (slot < 12) return openaiSessionEvent({ id: `s${n}`, time, type: 'login.succeeded', userId: `user-${i}`, email: `person${i}@example.com`, ip: `10.${i >> 8 & 255}.${i & 255}.1` });
  if (slot < 15) return openaiSessionEvent({ id: `c${n}`, time, type: 'api_key.created', userId: `user-${n % 40}`, email: `person${n % 40}@example.com`, ip });
  if (slot < 17) return googleTokenEvent({ id: `g${n}`, time, clientId: `app-${(i % Math.ceil(P / 50)) * 50}`, appName: 'ChatGPT', ip });
  if (slot < 19) return openaiKeyEvent({ id: `u${n}`, time, type: 'project.updated', keyId: `key_unknown_${n % 100}`, ip });
  return anthropicSystemEvent({ id: `a${n}`, time });
}


async function total(read: (admin: Awaited<ReturnType<typeof kafka.admin>>) => Promise<bigint>): Promise<number> {
  const admin = await kafka.admin();
  try {
    return Number(await read(admin));
  } finally {
    await admin.close();
  }
}
const highs = (topic: string) => total(async (a) => (await a.topicOffsets(topic)).reduce((s, p) => s + p.high, 0n));
const committed = (group: string, topic: string) => total(async (a) => [...(await a.groupOffsets(group, topic)).values()].reduce((s, o) => s + (o > 0n ? o : 0n), 0n));

async function poll(check: () => Promise<boolean>, intervalMs = 250): Promise<void> {
  while (!(await check().catch(() => false))) await new Promise((r) => setTimeout(r, intervalMs));
}

function service(script: string, port: number, extra: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [path.join(ROOT, script), ...(script.endsWith('cli.ts') ? ['run'] : [])], {
    env: { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_LOG_LEVEL: 'warn', TETHER_KAFKA_BROKERS: config.TETHER_KAFKA_BROKERS.join(','), TETHER_SCHEMA_REGISTRY_URL: config.TETHER_SCHEMA_REGISTRY_URL, ...extra },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

const healthy = (port: number) => poll(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200);

async function main(): Promise<void> {
  const admin = await kafka.admin();
  await admin.createTopics(Object.entries(topics).map(([role, name]) => ({
    name, partitions: 3, compacted: role.startsWith('identity') || role === 'detectState',
    config: role.startsWith('identity') || role === 'detectState' ? undefined : { 'retention.bytes': '-1' },
  })));
  await admin.close();
  const codec = await createCodec({ registry: createRegistryClient(config.TETHER_SCHEMA_REGISTRY_URL), registryUrl: config.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  await produceAll(kafka, identities(codec));
  await produceAll(kafka, (function* () {
    for (let n = 0; n < M; n++) {
      const e = eventAt(n);
      yield { topic: topics.accessRaw, key: e.event_id, value: codec.encode('accessRaw', e) };
    }
  })());
  console.log(`input: ${P} persons (5 % left), ${M} raw events`);

  const children: ChildProcess[] = [];
  try {
    const enrichPort = await freePort();
    children.push(service('services/enrich/src/index.ts', enrichPort, { TETHER_ENRICH_PORT: String(enrichPort), TETHER_ENRICH_LATE_WAIT_MS: '0' }));
    await healthy(enrichPort);
    let started = performance.now();
    await poll(async () => (await highs(topics.accessEnriched)) >= M, 500);
    const enrichSeconds = (performance.now() - started) / 1000;
    console.log(`enrich: ${M} events in ${enrichSeconds.toFixed(1)} s = ${Math.round(M / enrichSeconds)} events/s`);
    children.pop()!.kill('SIGTERM');

    const enriched = await highs(topics.accessEnriched);
    const detectPort = await freePort();
    children.push(service('services/detect/src/cli.ts', detectPort, { TETHER_DETECT_PORT: String(detectPort) }));
    await healthy(detectPort);
    started = performance.now();
    await poll(async () => (await committed(`${prefix}${CONSUMER_GROUPS.detect}`, topics.accessEnriched)) >= enriched, 250);
    const detectSeconds = (performance.now() - started) / 1000;
    const findings = await highs(topics.findings);
    const scraped = await (await fetch(`http://127.0.0.1:${detectPort}/metrics`)).text();
    const gauge = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(scraped)?.[1]);
    console.log(`detect: ${enriched} events through ${gauge('tether_detect_rules')} rules in ${detectSeconds.toFixed(1)} s = ${Math.round(enriched / detectSeconds)} events/s; ${findings} findings; state ${gauge('tether_detect_state_groups')} groups, ${gauge('tether_detect_state_entries')} entries`);
    console.log(`detect / enrich throughput: ${(enrichSeconds / detectSeconds).toFixed(2)}x`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1_000));
    const cleanup = await kafka.admin();
    await cleanup.deleteTopics(Object.values(topics)).catch(() => undefined);
    await cleanup.close();
  }
}

await main();
