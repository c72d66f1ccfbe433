// ClickHouse goes away for 30 s while events keep flowing: the sink pauses
// and retries, reports itself unhealthy, resumes by itself when the server
// is back, and every event is there once. The server here is a private
// ClickHouse 18.16 process (own ports and data), never the shared stack's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TABLES } from '#clickhouse';
import { captureLogger, waitFor } from '#testkit';
import { buildSinkApp, type SinkApp } from '../src/app.ts';
import { numberedEvent } from './fixtures.ts';
import { sinkTestEnv, type SinkTestEnv } from './helpers.ts';
import { privateClickHouse, type PrivateClickHouse } from './private-clickhouse.ts';

const OUTAGE_MS = 30_000;
const CHUNK = 100;

describe('sink-clickhouse through a ClickHouse outage', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tether-private-ch-'));
  let server: PrivateClickHouse | undefined;
  let env: SinkTestEnv | undefined;
  let app: SinkApp | undefined;

  afterAll(async () => {
    await app?.stop();
    await env?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses nothing and duplicates nothing when ClickHouse is down for ${OUTAGE_MS / 1000} s`, { timeout: 300_000 }, async () => {
    server = await privateClickHouse(dir);
    await server.start();
    env = await sinkTestEnv({ clickhouseUrl: server.url });
    const { log, lines } = captureLogger('sink-clickhouse');
    app = buildSinkApp(env.config({
      TETHER_SINK_STREAMS: 'events',
      TETHER_SINK_BATCH_ROWS: '500',
      TETHER_SINK_BATCH_MAX_WAIT_MS: '200',
      TETHER_SINK_RETRY_MAX_MS: '2000',
      TETHER_SINK_INSERT_TIMEOUT_MS: '5000',
    }), { log });
    await app.start();

    // A steady flow of events for the whole test.
    let produced = 0;
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        const events = Array.from({ length: CHUNK }, (_, i) => numberedEvent(produced + i));
        await env!.produce('accessEnriched', events, (e) => e.person?.person_id ?? e.event.event_id);
        produced += CHUNK;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    const stored = () => env!.count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`);
    await waitFor(async () => (await stored()) > 0, { what: 'first rows before the outage' });

    await server.kill();
    const downAt = Date.now();
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${app!.port()}/ready`);
      return { status: res.status, body: (await res.json()) as { streams: { paused: boolean }[] } };
    };
    // The sink notices, pauses consumption and says so.
    const down = await waitFor(async () => {
      const h = await health();
      return h.status === 503 && h.body.streams[0]?.paused ? h : undefined;
    }, { timeoutMs: 25_000, what: 'an unhealthy, paused sink' });
    expect(down.status).toBe(503);
    const producedWhileDown = produced;
    // The outage lasts its full length while events keep arriving (this is the scenario, not a sync wait).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - downAt))));
    expect(produced).toBeGreaterThan(producedWhileDown);

    await server.start();
    // Resumes by itself: healthy again without anyone touching the sink.
    await waitFor(async () => (await health()).status === 200, { timeoutMs: 60_000, what: 'a healthy sink after the outage' });
    const afterOutage = produced;
    await waitFor(() => produced >= afterOutage + 5 * CHUNK, { what: 'more events after the outage' });
    flowing = false;
    await flow;

    try {
      await waitFor(async () => (await stored()) === produced, { timeoutMs: 120_000, what: `${produced} events stored` });
    } catch (err) {
      const said = lines.filter((l) => !l.includes('"level":"debug"')).slice(-15).join('\n');
      throw new Error(`${(err as Error).message}; stored ${await stored()}; the sink said:\n${said}`);
    }
    await env.settled('sinkEvents', 'accessEnriched');
    expect(await env.count(`SELECT uniqExact(event_id) AS n FROM ${TABLES.accessEvents}`)).toBe(produced);
    expect(await env.count(`SELECT count() AS n FROM ${TABLES.accessEventsByPerson} FINAL`)).toBe(produced);
    const metrics = await app.metrics.registry.getSingleMetricAsString('tether_sink_write_retries_total');
    expect(metrics).toMatch(/table="access_events",kind="unavailable"/);
    expect(lines.some((l) => l.includes('succeeded again; resuming'))).toBe(true);
  });
});
