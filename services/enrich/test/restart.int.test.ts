// Delivery on the real broker: an instance stopped mid-stream and a new one
// started lose no event and repeat only whole events (same event id, same
// attribution); events nobody can be resolved for are emitted with reasons
// after their wait; undecodable input goes to the DLQ and processing goes on.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CONSUMER_GROUPS } from '#config';
import type { AccessEvent } from '#schemas';
import { freePort, waitFor } from '#testkit';
import { anthropicSystemEvent, cursorAuditEvent, openaiKeyEvent, openaiSessionEvent } from './fixtures/events.ts';
import { at, directoryPerson, nonHuman, platformAccount } from './fixtures/identities.ts';
import type { EnrichApp } from '../src/app.ts';
import { harness } from './harness.ts';

const PEOPLE = 20;
const people = Array.from({ length: PEOPLE }, (_, i) => directoryPerson(`00u${i}`, at('2025-01-01T00:00:00Z'), { email: `p${i}@example.com`, department: i % 2 ? 'Sales' : 'Finance' }));
const accounts = Array.from({ length: PEOPLE }, (_, i) => platformAccount('openai', `user-${i}`, at('2025-01-02T00:00:00Z'), { email: `p${i}@example.com` }));
const project = nonHuman('openai', 'project', 'proj_R', at('2025-01-01T00:00:00Z'));
const keys = Array.from({ length: PEOPLE }, (_, i) => nonHuman('openai', 'api_key', `key_${i}`, at('2025-01-03T00:00:00Z'), { parent_nhi_id: project.nhi_id, owner_platform_user_id: `openai:user-${i}` }));

function eventAt(n: number): AccessEvent {
  const time = at('2025-03-01T00:00:00Z') + n * 1000;
  const who = n % PEOPLE;
  switch (n % 3) {
    case 0: return openaiSessionEvent({ id: `s-${n}`, time, type: 'login.succeeded', userId: `user-${who}`, email: `p${who}@example.com` });
    case 1: return openaiKeyEvent({ id: `k-${n}`, time, type: 'project.updated', keyId: `key_${who}` });
    default: return cursorAuditEvent({ id: `c-${n}`, time, email: `P${who}@Example.com` });
  }
}

// Longer than the waits inside, so a stall fails with what was missing rather than a bare timeout.
const TEST_TIMEOUT_MS = 300_000;

/** True once every sent event was enriched; otherwise throws what is missing, for the timeout message. */
function allEnriched(output: ReadonlyArray<{ value: { event: { event_id: string } } }>, ids: ReadonlySet<string>, app: EnrichApp): true {
  const seen = new Set(output.map((o) => o.value.event.event_id));
  const missing = [...ids].filter((id) => !seen.has(id));
  if (missing.length === 0) return true;
  throw new Error(`${missing.length} of ${ids.size} not enriched yet (e.g. ${missing.slice(0, 3).join(', ')}); instance health ${JSON.stringify(app.health())}`);
}

describe('enrich delivery on the real broker', () => {
  it('loses nothing across a restart mid-stream, emits the unresolvable with reasons, dead-letters garbage', async () => {
    const h = await harness();
    await h.writeIdentities([...people, ...accounts, project, ...keys]);
    const output = await h.readEnriched();
    const deadLetters = await h.readDeadLetters();
    const env = { TETHER_ENRICH_LATE_WAIT_MS: '1500', TETHER_ENRICH_GIVE_UP_MS: '0', TETHER_ENRICH_MAX_BATCH: '25' };

    const first: AccessEvent[] = Array.from({ length: 300 }, (_, n) => eventAt(n));
    const ghost = openaiSessionEvent({ id: 'ghost-1', time: at('2025-03-02T00:00:00Z'), type: 'login.succeeded', userId: 'user-Ghost', email: 'ghost@example.com' });
    const system = anthropicSystemEvent({ id: 'activity_sys', time: at('2025-03-02T00:00:00Z') });
    const garbage = Buffer.from('{"type":"login.succeeded","note":"JSON where Avro was expected"}');

    // A record whose key does not name its version could never be removed by its tombstone: refused.
    const impostor = directoryPerson('00uImpostor', at('2025-01-01T00:00:00Z'), { email: 'p1@example.com' });
    await h.writeIdentityAs('00u1@1735689600000', impostor);

    const app1 = await h.startApp(env);
    expect(app1.store.personHistory('00uImpostor')).toEqual([]);
    await h.writeEvents(first.slice(0, 150));
    await h.writeEvents([ghost]);
    await h.writeRaw(garbage);
    await h.writeEvents(first.slice(150));
    await waitFor(() => output.length >= 100, { what: 'the first instance to enrich some events' });

    // Stop while more events keep arriving.
    const second = Array.from({ length: 300 }, (_, n) => eventAt(300 + n));
    const producing = (async () => {
      for (let i = 0; i < second.length; i += 50) await h.writeEvents(second.slice(i, i + 50));
      await h.writeEvents([system]);
    })();
    await app1.stop();
    await producing;

    const app2 = await h.startApp(env);
    const sent = [...first, ghost, ...second, system];
    const ids = new Set(sent.map((e) => e.event_id));
    await waitFor(() => allEnriched(output, ids, app2), { what: 'every event enriched', timeoutMs: 200_000 });

    // Nothing lost; nothing unknown; repeats only of whole events with the same attribution.
    const seen = new Map<string, string>();
    for (const { key, value } of output) {
      expect(ids.has(value.event.event_id)).toBe(true);
      const signature = JSON.stringify([key, value.person?.person_id ?? null, value.attribution.method, value.nhi_chain]);
      const earlier = seen.get(value.event.event_id);
      if (earlier !== undefined && !value.attribution.reasons.includes('late_wait_cut_short_by_shutdown')) expect(signature).toBe(earlier);
      seen.set(value.event.event_id, signature);
    }
    const of = (e: AccessEvent) => output.filter((o) => o.value.event.event_id === e.event_id).map((o) => o.value);
    for (const e of sent.filter((x) => x !== ghost && x !== system)) {
      for (const enriched of of(e)) expect(enriched.person?.person_id).toBe(`00u${Number(e.source.source_event_id.split('-')[1]) % PEOPLE}`);
    }

    // The unresolvable: emitted with why, never dropped.
    const ghostOut = of(ghost).at(-1)!;
    expect(ghostOut.person).toBeNull();
    expect(ghostOut.attribution.method).toBe('unresolved');
    expect(ghostOut.attribution.reasons).toEqual(expect.arrayContaining(['platform_user_unknown: openai:user-Ghost', 'email_unknown: ghost@example.com']));
    expect(ghostOut.attribution.reasons.some((r) => r === 'identity_wait_timeout' || r === 'late_wait_cut_short_by_shutdown')).toBe(true);
    expect(of(system).at(-1)!.attribution.reasons).toContain('no_actor_identifiers');

    await waitFor(() => deadLetters.length >= 2, { what: 'the dead letters' });
    const decodeFailure = deadLetters.find((d) => d.original_topic === h.topics.accessRaw)!;
    expect(decodeFailure).toMatchObject({ service: 'enrich', stage: 'parsing', reason_code: 'TETHER_DECODE' });
    expect(decodeFailure.original.equals(garbage)).toBe(true);
    const refused = deadLetters.find((d) => d.original_topic === h.topics.identityUsers)!;
    expect(refused).toMatchObject({ reason_code: 'TETHER_IDENTITY_INVALID', stage: 'parsing' });
    expect((await h.codec.decode('identityUsers', refused.original)).person_id).toBe('00uImpostor');

    // Every input offset is committed once its output is acknowledged.
    const group = `${h.prefix}${CONSUMER_GROUPS.enrich}`;
    await waitFor(async () => {
      const { committed, high } = await h.committed(group);
      return committed === high;
    }, { what: 'offsets committed up to the end' });

    const health = await fetch(`http://127.0.0.1:${app2.port}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${app2.port}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ state: 'running', checks: { identity_restored: { ok: true }, kafka: { ok: true }, registry: { ok: true } } });
    const metrics = await (await fetch(`http://127.0.0.1:${app2.port}/metrics`)).text();
    expect(metrics).toMatch(/tether_enrich_restored\{service="enrich"\} 1/);
  }, TEST_TIMEOUT_MS);

  it('loses nothing when an instance is killed mid-stream (SIGKILL, no graceful stop)', async () => {
    const h = await harness();
    await h.writeIdentities([...people, ...accounts, project, ...keys]);
    const output = await h.readEnriched();
    const env = { TETHER_ENRICH_LATE_WAIT_MS: '1500', TETHER_ENRICH_GIVE_UP_MS: '0', TETHER_ENRICH_MAX_BATCH: '10' };

    const port = await freePort();
    const child = spawn(process.execPath, [path.resolve(import.meta.dirname, '../src/index.ts')], {
      env: { ...process.env, ...env, TETHER_TOPIC_PREFIX: h.prefix, TETHER_ENRICH_PORT: String(port), TETHER_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200, { what: 'the child instance to run' });

    // Events keep arriving until after the kill, so it lands mid-stream.
    const sent: AccessEvent[] = [];
    let killed = false;
    const producing = (async () => {
      while (!killed) {
        const chunk = Array.from({ length: 30 }, (_, i) => eventAt(sent.length + i));
        sent.push(...chunk);
        await h.writeEvents(chunk);
      }
      const after = Array.from({ length: 30 }, (_, i) => eventAt(sent.length + i));
      sent.push(...after);
      await h.writeEvents(after);
    })();
    await waitFor(() => output.length >= 200, { what: 'the child to enrich some events' });
    child.kill('SIGKILL');
    await exited;
    killed = true;
    await producing;
    const atKill = output.length;

    const app = await h.startApp(env);
    const ids = new Set(sent.map((e) => e.event_id));
    await waitFor(() => allEnriched(output, ids, app), { what: 'every event enriched', timeoutMs: 200_000 });
    expect(atKill).toBeLessThan(sent.length);
    for (const { value } of output) {
      expect(ids.has(value.event.event_id)).toBe(true);
      expect(value.person?.person_id).toBe(`00u${Number(value.event.source.source_event_id.split('-')[1]) % PEOPLE}`);
    }
  }, TEST_TIMEOUT_MS);
});

