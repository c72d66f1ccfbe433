// npm run bench:scim [-- --users 300 --patches 4 --concurrency 8]
// Sustained SCIM writes/s and their latency through the real HTTP server,
// the real broker and registry: each simulated IdP connection creates users
// (POST) then changes each a few times (PATCH in Entra's form), every write
// acknowledged by Kafka before it is answered. Then a restart is timed
// (state rebuilt from the identity topics). One run; asserts nothing.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createKafkaClient } from '#kafka';
import { createLogger } from '#log';
import { topicNames } from '#config';
import { buildScimApp } from '../services/scim/src/app.ts';
import { loadScimConfig } from '../services/scim/src/config.ts';

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '300' },
    patches: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '8' },
  },
});
const USERS = Number(values.users);
const PATCHES = Number(values.patches);
const CONCURRENCY = Number(values.concurrency);
const TOKEN = randomBytes(16).toString('hex');
const prefix = `bench_scim_${Date.now().toString(36)}.`;
const env = { ...process.env, TETHER_TOPIC_PREFIX: prefix, TETHER_SCIM_PORT: '0', TETHER_SCIM_TOKEN: TOKEN, TETHER_SCIM_PLATFORM: 'entra', TETHER_LOG_LEVEL: 'warn' };
const config = loadScimConfig(env);
const log = createLogger({ service: 'bench-scim', level: 'warn' });

let app = buildScimApp(config, { log });
await app.start();
const call = async (method: string, path: string, body: unknown): Promise<{ status: number; json: { id?: string } }> => {
  const res = await fetch(`http://127.0.0.1:${app.port}/scim/v2${path}`, {
    method, body: JSON.stringify(body), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
  });
  return { status: res.status, json: (await res.json()) as { id?: string } };
};

const latencies: number[] = [];
let failures = 0;
const timed = async (method: string, path: string, body: unknown) => {
  const t = performance.now();
  const res = await call(method, path, body);
  latencies.push(performance.now() - t);
  if (res.status >= 300) failures++;
  return res;
};
const user = (i: number) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
  externalId: `ext-${i}`, userName: `user${i}@bench.example`, active: true,
  emails: [{ primary: true, type: 'work', value: `user${i}@bench.example` }], name: { givenName: `User`, familyName: `${i}` },
  password: 'never-stored-Pa55', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Dept 0', employeeNumber: String(i) },
});
const patch = (n: number) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
  Operations: [
    { op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: `Dept ${n}` },
    { op: 'Replace', path: 'title', value: `Title ${n}` },
  ],
});

let next = 0;
const started = performance.now();
await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
  for (let i = next++; i < USERS; i = next++) {
    const { json } = await timed('POST', '/Users', user(i));
    for (let p = 1; p <= PATCHES; p++) await timed('PATCH', `/Users/${json.id}`, patch(p));
  }
}));
const seconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);

await app.stop();
const restartStarted = performance.now();
app = buildScimApp(config, { log });
await app.start();
const restartMs = performance.now() - restartStarted;
const restored = app.service!.directory.counts().users;
await app.stop();

const admin = await createKafkaClient('kafkajs', { brokers: config.TETHER_KAFKA_BROKERS, clientId: 'bench-scim-cleanup' }, log).admin();
await admin.deleteTopics(Object.values(topicNames(prefix))).catch(() => undefined);
await admin.close();

console.log(JSON.stringify({
  users: USERS, writes: latencies.length, failures, concurrency: CONCURRENCY,
  writes_per_s: Math.round(latencies.length / seconds), p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: latencies.at(-1)!.toFixed(1),
  restart_ms: Math.round(restartMs), restored_users: restored,
}));
