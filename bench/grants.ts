// npm run bench:grants [-- --records 100000 --batch 1000]
// Grant events per second through normalisation (Google token activities in
// the real shape: grants, revokes and, mostly, token uses), the connector
// inventory fold, Avro encoding and produce to the real broker (topics under
// a fresh prefix). Prints numbers; asserts nothing.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commonEnvShape, loadConfig } from '#config';
import { loadCatalogue } from '#catalogue';
import { createLogger } from '#log';
import type { AccessEvent } from '#schemas';
import { connectPipeline } from '#service/pipeline';
import { applyGrantEvent, connectorRecord, emptyLedger } from '../services/ingest-grants/src/inventory/connector-versions.ts';
import { grantContext } from '../services/ingest-grants/src/normalise/grant-event.ts';
import { GOOGLE_TOKEN_FEED, normaliseGoogleToken } from '../services/ingest-grants/src/sources/google/token-activity.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, batch: { type: 'string', default: '1000' } } });
const RECORDS = Number(values.records);
const BATCH = Number(values.batch);
const run = Date.now().toString(36);
const config = loadConfig(z.object({ ...commonEnvShape }), { ...process.env, TETHER_TOPIC_PREFIX: `bench-grants-${run}.` });
const log = createLogger({ service: 'bench-grants', level: 'warn' });
const catalogue = loadCatalogue();

const APPS = [['gpt-1.apps.googleusercontent.com', 'ChatGPT'], ['claude-1.apps.googleusercontent.com', 'Claude'], ['notes-1.apps.googleusercontent.com', 'Team Notes']] as const;
const T0 = Date.parse('2025-03-01T00:00:00Z');

/** Raw bytes of Google token activities: per user and app a grant, uses every few minutes, a revoke now and then. */
function records(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < RECORDS; i++) {
    const user = i % 500;
    const [clientId, appName] = APPS[i % APPS.length]!;
    const step = Math.floor(i / 1500);
    const name = step === 0 && i < 1500 ? 'authorize' : i % 97 === 0 ? 'revoke' : i % 89 === 0 ? 'authorize' : 'activity';
    const params: unknown[] = [{ name: 'client_id', value: clientId }, { name: 'app_name', value: appName }, { name: 'client_type', value: 'WEB' }];
    if (name === 'activity') params.push({ name: 'api_name', value: 'drive' }, { name: 'method_name', value: 'drive.files.get' }, { name: 'num_response_bytes', intValue: '5121' });
    else params.push({ name: 'scope', multiValue: ['https://www.googleapis.com/auth/drive.readonly', 'openid'] });
    out.push(Buffer.from(JSON.stringify({
      kind: 'admin#reports#activity',
      id: { time: new Date(T0 + i * 1_000).toISOString(), uniqueQualifier: String(-4412098765501234567n + BigInt(i)), applicationName: 'token', customerId: 'C01ab2cd3' },
      actor: { callerType: 'USER', email: `user${user}@example.com`, profileId: String(114477889900112233445n + BigInt(user)) },
      ipAddress: name === 'activity' ? '20.171.206.9' : '203.0.113.24',
      events: [{ type: 'auth', name, parameters: params }],
    })));
  }
  return out;
}

function normaliseAll(raws: Buffer[]): AccessEvent[] {
  const events: AccessEvent[] = [];
  for (const raw of raws) {
    const result = normaliseGoogleToken(JSON.parse(raw.toString('utf8')), grantContext('google', GOOGLE_TOKEN_FEED, Date.now(), raw));
    if (!result.ok) throw result.error;
    events.push(...result.events);
  }
  return events;
}

const raws = records();
let start = performance.now();
const normalisedOnly = normaliseAll(raws).length;
const normaliseRate = normalisedOnly / ((performance.now() - start) / 1000);

const pipeline = await connectPipeline(config, 'bench-grants', log);
const producer = await pipeline.kafka.producer.producer();
const ledger = emptyLedger();
let versions = 0;
start = performance.now();
for (let i = 0; i < raws.length; i += BATCH) {
  const out = [];
  for (const event of normaliseAll(raws.slice(i, i + BATCH))) {
    out.push({ topic: pipeline.topics.accessRaw, key: event.event_id, value: pipeline.codec.encode('accessRaw', event) });
    for (const v of applyGrantEvent(ledger, event, { catalogue, useResolutionMs: 3_600_000 })) {
      const r = connectorRecord(v);
      out.push({ topic: pipeline.topics.identityConnectors, key: r.key, value: pipeline.codec.encode('identityConnectors', r.value) });
      versions++;
    }
  }
  await producer.send(out);
}
const seconds = (performance.now() - start) / 1000;
await producer.close();

console.log(`grant events: ${RECORDS} Google token activities (${Object.keys(ledger.connectors).length} connectors, ${versions} connector versions produced)`);
console.log(`normalise only:                         ${Math.round(normaliseRate).toLocaleString('en')} events/s`);
console.log(`normalise + inventory + encode + produce: ${Math.round(RECORDS / seconds).toLocaleString('en')} events/s (${seconds.toFixed(1)} s, batches of ${BATCH}, ${config.TETHER_KAFKA_PRODUCER_CLIENT})`);
