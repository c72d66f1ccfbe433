// Anthropic backfill through the real CLI, Kafka and registry, killed with
// SIGKILL in the middle and restarted: every activity, and every event the
// key and invite inventories stand for, reaches tether.access.raw exactly
// once; bad records reach tether.dlq; the admin key is in no output line.
import { afterAll, describe, expect, it } from 'vitest';
import { deriveEventId } from '#schemas';
import { killAndRestart, readAll, recordsOn, type KillRestartResult } from './kill-restart.ts';

const KEY = 'sk-ant-admin01-int-9Qw2Er4Ty6Ui8Op';

describe('ingest-ai anthropic backfill, killed and restarted', () => {
  let run: KillRestartResult | undefined;
  afterAll(async () => run?.cleanup());

  it('delivers every record exactly once across the kill', async () => {
    run = await killAndRestart('anthropic', KEY, {});
    const { fake, kafka, codec, topics } = run;
    expect(run.first.child.signalCode).toBe('SIGKILL');
    expect(fake.requests.filter((r) => r.path === '/v1/compliance/activities').map((r) => r.status).slice(0, 3)).toEqual([200, 429, 500]);
    const resumed = fake.requests.slice(run.restartAt).find((r) => r.path === '/v1/compliance/activities')!;
    expect(resumed.query.get('after_id')).toMatch(/^activity_gen/);

    const derived = [
      ...['apikey_01FakeK5', 'apikey_01FakeK8', 'apikey_01FakeK9'].map((id) => deriveEventId('anthropic', 'api_keys', `${id}:created`)),
      ...['invite_01FakeI1', 'invite_01FakeI0'].map((id) => deriveEventId('anthropic', 'invites', `${id}:sent`)),
    ];
    const expected = [...fake.goodIds.map((id) => deriveEventId('anthropic', 'compliance_activities', id)), ...derived];
    const events = await readAll(kafka, codec, 'accessRaw', topics.accessRaw);
    const ids = events.map((e) => e.event_id);
    expect(ids.length).toBe(await recordsOn(kafka, topics.accessRaw));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(expected.sort());
    expect(events.find((e) => e.targets[0]?.id === 'apikey_01FakeK5' && e.action === 'api_key.created')!.actor).toMatchObject({ email: 'kim@example.com' });

    const dead = await readAll(kafka, codec, 'dlq', topics.dlq);
    expect(dead.map((d) => [d.stage, d.reason_code])).toEqual([['normalising', 'TETHER_NORMALISE_INVALID'], ['normalising', 'TETHER_NORMALISE_INVALID']]);
    expect(dead.map((d) => d.original.toString()).sort()).toEqual([...fake.badElements].sort());

    const output = [...run.first.output, ...run.second.output].join('');
    expect(output).toContain('request failed, retrying');
    expect(output).not.toContain(KEY);
  });
});
