// npm run bench:grants [-- --records 100000 --batch 1000]
// Grant events per second through the path the Google source takes on the
// source framework: its normaliser as the runner calls it, the connector
// fold (versions next to the events, the changed ledger shards serialised
// per page as the page sink saves them), Avro encoding and produce to the
// real broker (topics under a fresh prefix). Google token activities in the
// real shape: grants, revokes and, mostly, token uses. Prints numbers;
// asserts nothing.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { commonEnvShape, loadConfig } from '#config';
import { loadCatalogue } from '#catalogue';
import { createLogger } from '#log';
import type { AccessEvent } from '#schemas';
import { connectPipeline } from '#service/pipeline';
import { connectorFold } from '../services/ingest-grants/src/inventory/connector-fold.ts';
import { onFramework } from '../services/ingest-grants/src/sources/grant-source.ts';
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

const normalise = onFramework('google', GOOGLE_TOKEN_FEED, normaliseGoogleToken);

function normaliseAll(raws: Buffer[]): AccessEvent[] {
  const events: AccessEvent[] = [];
  for (const raw of raws) {
    const result = normalise(JSON.parse(raw.toString('utf8')), { platform: 'google', feed: 'token_activity', ingestedAt: Date.now(), rawBytes: raw });
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
const fold = connectorFold({ source: 'google', catalogue, useResolutionMs: 3_600_000 });
let versions = 0;
let shardBytes = 0;
start = performance.now();
for (let i = 0; i < raws.length; i += BATCH) {
  const out = [];
  for (const event of normaliseAll(raws.slice(i, i + BATCH))) {
    out.push({ topic: pipeline.topics.accessRaw, key: event.event_id, value: pipeline.codec.encode('accessRaw', event) });
    for (const r of fold.apply(event)) {
      if (r.role !== 'identityConnectors') continue;
      out.push({ topic: pipeline.topics.identityConnectors, key: r.key, value: pipeline.codec.encode('identityConnectors', r.value) });
      versions++;
    }
  }
  await producer.send(out);
  // What the page sink saves before the page's checkpoint: the ledger shards the page changed.
  const shards = fold.changed().map((c) => {
    shardBytes += c.cursor.length;
    return { topic: pipeline.topics.ingestCheckpoints, key: c.id, value: pipeline.codec.encode('ingestCheckpoints', { checkpoint_id: c.id, cursor: c.cursor, updated_at: Date.now(), records_total: 0 }) };
  });
  if (shards.length > 0) await producer.send(shards);
}
const seconds = (performance.now() - start) / 1000;
await producer.close();

console.log(`grant events: ${RECORDS} Google token activities (${Object.keys(fold.ledger.connectors).length} connectors, ${versions} connector versions produced, ${(shardBytes / 1e6).toFixed(1)} MB of ledger shards saved)`);
console.log(`normalise only:                         ${Math.round(normaliseRate).toLocaleString('en')} events/s`);
console.log(`normalise + inventory + encode + produce: ${Math.round(RECORDS / seconds).toLocaleString('en')} events/s (${seconds.toFixed(1)} s, batches of ${BATCH}, ${config.TETHER_KAFKA_PRODUCER_CLIENT})`);
