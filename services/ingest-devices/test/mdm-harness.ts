// For the MDM sources' integration tests: a local HTTP server answering as
// the MDM would (its paging, its auth exchange, a 429), and one run of a
// source through runSource on the real broker and registry, with the
// DeviceVersions and dead letters it left on their topics.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { loadConfig, topicNames, type TopicRole } from '#config';
import { createKafkaClient } from '#kafka';
import { createLogger } from '#log';
import { createCodec, createRegistryClient, type Codec } from '#schemas';
import { createMetrics } from '#service';
import {
  createKafkaCheckpointStore, createScrubber, createSourceRegistry, restoreCheckpoints, runSource, sourceRunnerEnvShape,
  type AnySourceDefinition, type BackfillSummary, type SourceCommand,
} from '#source';
import { createTopics, readTopicToEnd, testConfig, testKafka, uniqueTopicPrefix, waitFor } from '#testkit';

export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface FakeServer {
  baseUrl: string;
  requests: Request[];
  close(): Promise<void>;
}

/** `answer` is called with each request (and the base URL, for next links); what it returns is sent as JSON. */
export async function serveMdm(answer: (req: Omit<Request, 'status'>, baseUrl: string) => Answer): Promise<FakeServer> {
  const requests: Request[] = [];
  let baseUrl = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', baseUrl);
      const seen = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString() };
      let reply: Answer;
      try {
        reply = answer(seen, baseUrl);
      } catch (err) {
        reply = { status: 500, body: { error: String(err) } };
      }
      const status = reply.status ?? 200;
      requests.push({ ...seen, status });
      res.writeHead(status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { baseUrl, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface MdmRun {
  topics: Record<TopicRole, string>;
  codec: Codec;
  /** Runs the source once more (same topics, its checkpoints restored from Kafka). */
  run(command: SourceCommand): Promise<BackfillSummary>;
  devices(): ReturnType<typeof readTopicToEnd<'identityDevices'>>;
  dead(): ReturnType<typeof readTopicToEnd<'dlq'>>;
  cleanup(): Promise<void>;
}

const log = createLogger({ service: 'test', level: 'warn' });

export async function mdmRun(source: AnySourceDefinition, env: Record<string, string>): Promise<MdmRun> {
  const prefix = uniqueTopicPrefix();
  const kafka = testKafka('kafkajs');
  const topics = await waitFor(() => createTopics(kafka, prefix), { what: 'test topics' });
  const common = testConfig();
  const codec = await createCodec({ registry: createRegistryClient(common.TETHER_SCHEMA_REGISTRY_URL), registryUrl: common.TETHER_SCHEMA_REGISTRY_URL, topicPrefix: prefix });
  const registry = createSourceRegistry([source]);
  const config = loadConfig(z.object({ ...sourceRunnerEnvShape, ...registry.envShape }), env);
  const secrets = [...registry.endpoints(config).values()].flatMap((e) => e.auth.secrets);
  const producer = await createKafkaClient('platformatic', { brokers: common.TETHER_KAFKA_BROKERS, clientId: 'mdm-test' }, log).producer();
  return {
    topics,
    codec,
    async run(command) {
      const restored = await restoreCheckpoints({ client: kafka, codec, topic: topics.ingestCheckpoints, log, keep: (id) => id.startsWith(`${source.name}/`) });
      const checkpoints = createKafkaCheckpointStore({ producer, codec, topic: topics.ingestCheckpoints, restored });
      const deps = { service: 'ingest-devices-test', log, scrubber: createScrubber(secrets), producer, codec, topics, checkpoints, metrics: createMetrics('ingest-devices-test', { defaultMetrics: false }) };
      return runSource(source, command, { config, deps, signal: new AbortController().signal });
    },
    devices: () => readTopicToEnd(kafka, codec, 'identityDevices', topics.identityDevices),
    dead: () => readTopicToEnd(kafka, codec, 'dlq', topics.dlq),
    async cleanup() {
      await producer.close();
      const admin = await kafka.admin();
      await admin.deleteTopics(Object.values(topicNames(prefix))).finally(() => admin.close());
    },
  };
}

/** What a compacted topic keeps: the last value per key. */
export function latestPerKey<V>(records: readonly { key: string; value: V }[]): Map<string, V> {
  return new Map(records.map((r) => [r.key, r.value]));
}

export const iso = (ms: number) => new Date(ms).toISOString();
