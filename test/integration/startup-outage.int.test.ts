// enrich and the sink started while a server they need is unreachable (the
// registry, Kafka, ClickHouse): they stay alive (/health 200), report
// not-ready naming what they wait for (/ready 503), and once the server is
// reachable again they start by themselves and lose nothing. The servers are
// the real ones behind a TCP gate the test opens; nothing is mocked.
import { afterEach, describe, expect, it } from 'vitest';
import { TABLES } from '#clickhouse';
import { captureLogger, tcpGate, testConfig, waitFor, type TcpGate } from '#testkit';
import { buildApp, type EnrichApp } from '../../services/enrich/src/app.ts';
import { loadEnrichConfig } from '../../services/enrich/src/config.ts';
import { buildSinkApp, type SinkApp } from '../../services/sink-clickhouse/src/app.ts';
import { numberedEvent } from '../../services/sink-clickhouse/test/fixtures.ts';
import { sinkTestEnv, type SinkTestEnv } from '../../services/sink-clickhouse/test/helpers.ts';
import { accessEvent } from '../../packages/schemas/test/samples.ts';
import { harness } from '../../services/enrich/test/harness.ts';

type Dependency = 'registry' | 'kafka' | 'clickhouse';
const EVENTS = 200;

/** A gate in front of the dependency and the variable that points the service through it. */
async function gateFor(dependency: Dependency): Promise<{ gate: TcpGate; env: Record<string, string> }> {
  const config = testConfig();
  const url = new URL(dependency === 'registry' ? config.TETHER_SCHEMA_REGISTRY_URL : config.TETHER_CLICKHOUSE_URL);
  const [host, port] = dependency === 'kafka' ? config.TETHER_KAFKA_BROKERS[0]!.split(':') : [url.hostname, url.port];
  const gate = await tcpGate({ host: host!, port: Number(port) });
  const through = `127.0.0.1:${gate.port}`;
  const env = dependency === 'kafka'
    ? { TETHER_KAFKA_BROKERS: through }
    : { [dependency === 'registry' ? 'TETHER_SCHEMA_REGISTRY_URL' : 'TETHER_CLICKHOUSE_URL']: `http://${through}${url.pathname.replace(/\/$/, '')}` };
  return { gate, env };
}

async function probe(port: number, path: string): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Alive, not ready, and saying which dependency it waits for. */
async function waitingFor(port: () => number | undefined, dependency: string): Promise<void> {
  await waitFor(async () => {
    const p = port();
    if (!p) return undefined;
    const [live, ready] = await Promise.all([probe(p, '/health'), probe(p, '/ready')]);
    return live.status === 200 && ready.status === 503 && ready.body.waiting_for?.dependency === dependency;
  }, { timeoutMs: 60_000, what: `alive and not ready, waiting for ${dependency}` });
}

const gates: TcpGate[] = [];
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  for (const gate of gates.splice(0)) await gate.shut();
});

describe('sink started while a dependency is down', () => {
  it.each<Dependency>(['registry', 'kafka', 'clickhouse'])('%s: waits, reports not ready, then stores every event once it is back', async (dependency) => {
    const env: SinkTestEnv = await sinkTestEnv();
    stops.push(() => env.close());
    const { gate, env: through } = await gateFor(dependency);
    gates.push(gate);
    const { log } = captureLogger('sink-clickhouse');
    const app: SinkApp = buildSinkApp(env.config({ TETHER_SINK_STREAMS: 'events', TETHER_SINK_BATCH_MAX_WAIT_MS: '200', ...through }), { log });
    stops.push(() => app.stop());
    const started = app.start();
    started.catch(() => undefined);

    await waitingFor(() => app.port() || undefined, dependency);
    // Events arrive while it waits.
    const events = Array.from({ length: EVENTS }, (_, i) => numberedEvent(i));
    await env.produce('accessEnriched', events, (e) => e.event.event_id);

    await gate.open();
    await started;
    await waitFor(async () => (await probe(app.port(), '/ready')).status === 200, { what: 'the sink ready' });
    await env.settled('sinkEvents', 'accessEnriched');
    expect(await env.count(`SELECT uniqExact(event_id) AS n FROM ${TABLES.accessEvents}`)).toBe(EVENTS);
  });
});

describe('enrich started while a dependency is down', () => {
  it.each<Dependency>(['registry', 'kafka'])('%s: waits, reports not ready, then enriches every event once it is back', async (dependency) => {
    const h = await harness();
    const { gate, env: through } = await gateFor(dependency);
    gates.push(gate);
    const output = await h.readEnriched();
    const config = loadEnrichConfig({ ...process.env, TETHER_TOPIC_PREFIX: h.prefix, TETHER_ENRICH_PORT: '0', TETHER_LOG_LEVEL: 'warn', TETHER_ENRICH_LATE_WAIT_MS: '0', ...through });
    const { log } = captureLogger('enrich');
    const app: EnrichApp = buildApp(config, { log });
    stops.push(() => app.stop());
    const started = app.start();
    started.catch(() => undefined);

    await waitingFor(() => app.port, dependency);
    const events = Array.from({ length: EVENTS }, (_, i) => ({ ...accessEvent, event_id: `outage-${dependency}-${i}` }));
    await h.writeEvents(events);

    await gate.open();
    await started;
    await waitFor(() => new Set(output.map((o) => o.value.event.event_id)).size === EVENTS || undefined, { what: `${EVENTS} events enriched` });
    expect((await probe(app.port!, '/ready')).body.checks).toMatchObject({ kafka: { ok: true }, registry: { ok: true }, identity_restored: { ok: true } });
  });
});
