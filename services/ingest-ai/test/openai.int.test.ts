// OpenAI backfill through the real CLI, Kafka and registry, killed with
// SIGKILL in the middle and restarted: every audit record reaches
// tether.access.raw exactly once, bad records reach tether.dlq with their
// bytes, the admin key appears in no output line.
import { afterAll, describe, expect, it } from 'vitest';
import { deriveEventId } from '#schemas';
import { killAndRestart, readAll, recordsOn, type KillRestartResult } from './kill-restart.ts';

const KEY = 'sk-admin-int-openai-5d1c9e77a0b3f2';

describe('ingest-ai openai backfill, killed and restarted', () => {
  let run: KillRestartResult | undefined;
  afterAll(async () => run?.cleanup());

  it('delivers every record exactly once across the kill', async () => {
    run = await killAndRestart('openai', KEY, {});
    const { fake, kafka, codec, topics } = run;
    expect(run.first.child.signalCode).toBe('SIGKILL');
    expect(run.checkpointsAtKill).toBeGreaterThan(0);

    // The server's 429 (with Retry-After) and 500 were met and ridden out.
    expect(fake.requests.filter((r) => r.path === '/v1/organization/audit_logs').map((r) => r.status).slice(0, 3)).toEqual([200, 429, 500]);
    // The restart resumed from its checkpoint: its first audit request continues after a record id.
    const resumed = fake.requests.slice(run.restartAt).find((r) => r.path === '/v1/organization/audit_logs')!;
    expect(resumed.query.get('after')).toMatch(/^audit_log-gen/);

    const events = await readAll(kafka, codec, 'accessRaw', topics.accessRaw);
    const ids = events.map((e) => e.event_id);
    expect(ids.length).toBe(await recordsOn(kafka, topics.accessRaw));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(fake.goodIds.map((id) => deriveEventId('openai', 'audit_logs', id)).sort());

    const dead = await readAll(kafka, codec, 'dlq', topics.dlq);
    expect(dead.map((d) => [d.stage, d.reason_code, d.source])).toEqual([
      ['normalising', 'TETHER_NORMALISE_INVALID', 'openai/audit_logs'],
      ['normalising', 'TETHER_NORMALISE_INVALID', 'openai/audit_logs'],
    ]);
    expect(dead.map((d) => d.original.toString()).sort()).toEqual([...fake.badElements].sort());

    const nhis = await readAll(kafka, codec, 'identityNhi', topics.identityNhi);
    expect(new Set(nhis.map((n) => n.nhi_id)).size).toBe(6);
    expect(nhis.find((n) => n.nhi_id === 'openai:api_key:key_Zx81Qw')).toMatchObject({ owner_email: 'dana@example.com', parent_nhi_id: 'openai:project:proj_Ab12Cd34' });

    const output = [...run.first.output, ...run.second.output].join('');
    expect(output).toContain('request failed, retrying');
    expect(output).not.toContain(KEY);
    // The restart finishes the backfill and says so in its summary line.
    expect(run.second.output.join('')).toMatch(/backfill finished: 4 feeds, [1-9]\d* records/);
  });
});
