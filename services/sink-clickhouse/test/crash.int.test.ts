// At-least-once with idempotent rows: the sink process is killed with
// SIGKILL while it writes (no graceful stop, offsets of the batch in hand
// uncommitted) and started again; every event is there once after
// deduplication, whatever was redelivered.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TABLES } from '#clickhouse';
import { waitFor } from '#testkit';
import { numberedEvent } from './fixtures.ts';
import { sinkTestEnv, type SinkTestEnv } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const ENTRY = path.join(ROOT, 'services/sink-clickhouse/src/index.ts');
const TOTAL = 12_000;

describe('sink-clickhouse killed mid-batch', () => {
  let env: SinkTestEnv | undefined;
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await env?.close();
  });

  function startSink(): { child: ChildProcess; output: string[] } {
    const output: string[] = [];
    const child = spawn(process.execPath, [ENTRY], {
      cwd: ROOT,
      env: env!.childEnv({ TETHER_SINK_STREAMS: 'events', TETHER_SINK_BATCH_ROWS: '1500', TETHER_SINK_BATCH_MAX_WAIT_MS: '300' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk) => output.push(String(chunk)));
    child.stderr!.on('data', (chunk) => output.push(String(chunk)));
    children.push(child);
    return { child, output };
  }

  async function produce(from: number, to: number) {
    for (let start = from; start < to; start += 1_000) {
      const events = Array.from({ length: Math.min(1_000, to - start) }, (_, i) => numberedEvent(start + i));
      await env!.produce('accessEnriched', events, (e) => e.person?.person_id ?? e.event.event_id);
    }
  }

  const rawCount = () => env!.count(`SELECT count() AS n FROM ${TABLES.accessEvents}`);
  const distinctCount = () => env!.count(`SELECT count() AS n FROM ${TABLES.accessEvents} FINAL`);

  it('restarts after kill -9 with every distinct event stored exactly once after dedup', async () => {
    env = await sinkTestEnv();
    // Half the events, plus a producer-side duplicate of the first 500.
    await produce(0, TOTAL / 2);
    await produce(0, 500);

    const first = startSink();
    await waitFor(async () => (await rawCount()) > 0, { what: `first rows from the sink; output: ${first.output.join('')}` });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    expect(first.child.signalCode).toBe('SIGKILL');
    const atKill = await rawCount();

    // Events keep arriving while the sink is down.
    await produce(TOTAL / 2, TOTAL);
    expect(atKill).toBeLessThan(TOTAL);

    const second = startSink();
    await waitFor(async () => (await distinctCount()) === TOTAL, {
      timeoutMs: 170_000,
      what: `${TOTAL} distinct events; output: ${second.output.join('').slice(-2_000)}`,
    });
    // Everything read was committed, and redelivered copies (if any) collapse.
    await env.settled('sinkEvents', 'accessEnriched');
    expect(await rawCount()).toBeGreaterThanOrEqual(TOTAL);
    expect(await env.count(`SELECT uniqExact(event_id) AS n FROM ${TABLES.accessEvents}`)).toBe(TOTAL);
    expect(await env.count(`SELECT count() AS n FROM ${TABLES.accessEventsByPerson} FINAL`)).toBe(TOTAL);

    second.child.kill('SIGTERM');
    const code = await new Promise((resolve) => second.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  });
});
