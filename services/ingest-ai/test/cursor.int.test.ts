// Cursor backfill through the real CLI, Kafka and registry, killed with
// SIGKILL in the middle of the audit log (page-number paging) and restarted:
// every audit and usage event reaches tether.access.raw exactly once, bad
// records reach tether.dlq, and neither the key nor its Basic-auth form is in
// any output line.
import { afterAll, describe, expect, it } from 'vitest';
import { deriveEventId } from '#schemas';
import { secretForms } from '#source';
import { killAndRestart, readAll, recordsOn, type KillRestartResult } from './kill-restart.ts';

const KEY = 'crsr_int_4f7e1a9b2c8d3e6f0a5b';

describe('ingest-ai cursor backfill, killed and restarted', () => {
  let run: KillRestartResult | undefined;
  afterAll(async () => run?.cleanup());

  it('delivers every record exactly once across the kill', async () => {
    run = await killAndRestart('cursor', KEY, { usageEvents: 30 });
    const { fake, kafka, codec, topics } = run;
    expect(run.first.child.signalCode).toBe('SIGKILL');
    expect(fake.requests.filter((r) => r.path === '/teams/audit-logs').map((r) => r.status).slice(0, 3)).toEqual([200, 429, 500]);
    const resumed = fake.requests.slice(run.restartAt).find((r) => r.path === '/teams/audit-logs')!;
    expect(Number(resumed.query.get('page'))).toBeGreaterThan(1);

    const audit = new Set(fake.goodIds.filter((id) => id.startsWith('evt_')));
    const expected = fake.goodIds.map((id) => deriveEventId('cursor', audit.has(id) ? 'audit_logs' : 'usage_events', id));
    const events = await readAll(kafka, codec, 'accessRaw', topics.accessRaw);
    const ids = events.map((e) => e.event_id);
    expect(ids.length).toBe(await recordsOn(kafka, topics.accessRaw));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(expected.sort());
    expect(events.filter((e) => e.source.feed === 'usage_events')).toHaveLength(30);

    const dead = await readAll(kafka, codec, 'dlq', topics.dlq);
    expect(dead.map((d) => [d.stage, d.reason_code, d.source])).toEqual([
      ['normalising', 'TETHER_NORMALISE_INVALID', 'cursor/audit_logs'],
      ['normalising', 'TETHER_NORMALISE_INVALID', 'cursor/audit_logs'],
    ]);
    expect(dead.map((d) => d.original.toString()).sort()).toEqual([...fake.badElements].sort());

    const output = [...run.first.output, ...run.second.output].join('');
    for (const secret of secretForms(KEY)) expect(output).not.toContain(secret);
  });
});
