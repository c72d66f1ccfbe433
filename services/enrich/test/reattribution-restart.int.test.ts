// The re-attribution window survives a restart, on the real broker: events
// backfilled before the directory (emitted unresolved, or only to a platform
// account), then enrich restarts, then the directory is imported, partly while
// no instance runs and partly after the new one started: every event ends
// attributed, as of its own time, by the new instance.
import { describe, expect, it } from 'vitest';
import type { EnrichedAccessEvent } from '#schemas';
import { waitFor } from '#testkit';
import { cursorAuditEvent, openaiSessionEvent } from './fixtures/events.ts';
import { at, directoryPerson, platformAccount } from './fixtures/identities.ts';
import { harness } from './harness.ts';

const DAY = 86_400_000;

describe('re-attribution across an enrich restart', () => {
  it('attributes backfilled events when the directory is imported after the restart', async () => {
    const h = await harness();
    const output = await h.readEnriched();
    const t = at('2025-03-03T09:00:00Z');
    const account = platformAccount('openai', 'user-Ana', at('2025-01-02T00:00:00Z'), { email: 'ana@example.com' });
    await h.writeIdentities([account]);
    const events = [
      openaiSessionEvent({ id: 'bf-1', time: t, type: 'login.succeeded', userId: 'user-Ana', email: 'ana@example.com' }),
      cursorAuditEvent({ id: 'bf-2', time: t + 60_000, email: 'bo@example.com' }),
      // A joiner whose first AI use came two days before their directory record (provisioning lag).
      cursorAuditEvent({ id: 'bf-3', time: t + 120_000, email: 'cy@example.com' }),
    ];
    const env = { TETHER_ENRICH_LATE_WAIT_MS: '300', TETHER_ENRICH_GIVE_UP_MS: '0' };
    const first = await h.startApp(env);
    await h.writeEvents(events);
    await waitFor(() => output.length >= 3 || undefined, { what: 'the backfill emitted after its wait' });
    const firstMethods = new Map(output.map((o) => [o.value.event.event_id, o.value.attribution.method]));
    expect(firstMethods.get(events[0]!.event_id)).toBe('platform_account_only');
    expect(firstMethods.get(events[1]!.event_id)).toBe('unresolved');
    expect(firstMethods.get(events[2]!.event_id)).toBe('unresolved');
    expect(first.health()).toMatchObject({ reattributable_events: 3 });
    await first.stop();

    // Part of the directory arrives while no instance runs, the rest after the new one started.
    const ana = directoryPerson('00uAna', at('2025-01-01T00:00:00Z'), { email: 'ana@example.com', department: 'Legal' });
    await h.writeIdentities([ana]);
    const second = await h.startApp(env);
    expect(second.health()).toMatchObject({ reattributable_events: 3 });
    const bo = directoryPerson('00uBo', at('2025-02-01T00:00:00Z'), { email: 'bo@example.com' });
    const boLeft = directoryPerson('00uBo', at('2025-06-01T00:00:00Z'), { email: 'bo@example.com', active: false, lifecycle_state: 'inactive' });
    const cy = directoryPerson('00uCy', t + 2 * DAY, { email: 'cy@example.com' });
    await h.writeIdentities([bo, boLeft, cy]);

    const latest = () => {
      const byEvent = new Map<string, EnrichedAccessEvent>();
      for (const { value } of output) {
        const had = byEvent.get(value.event.event_id);
        if (!had || had.enrichment.enriched_at <= value.enrichment.enriched_at) byEvent.set(value.event.event_id, value);
      }
      return byEvent;
    };
    await waitFor(() => events.every((e) => latest().get(e.event_id)?.person?.person_id?.startsWith('00u')) || undefined, {
      what: 'every backfilled event attributed by the restarted instance',
    });
    const now = latest();
    expect(now.get(events[0]!.event_id)).toMatchObject({ person: { person_id: '00uAna', department: 'Legal' }, attribution: { method: 'platform_user_alias' } });
    // Bo is reported as he was in March (active), not as today's leaver.
    expect(now.get(events[1]!.event_id)).toMatchObject({ person: { person_id: '00uBo', lifecycle_state: 'active' }, attribution: { method: 'direct_email' } });
    expect(now.get(events[2]!.event_id)).toMatchObject({ person: { person_id: '00uCy' }, attribution: { method: 'direct_email' } });
    expect(now.get(events[2]!.event_id)!.attribution.confidence).toBeCloseTo(0.7, 5);
    for (const e of events) expect(now.get(e.event_id)!.attribution.reasons).toContain('reattributed_after_late_identity');
    expect(now.get(events[2]!.event_id)!.attribution.reasons.some((r) => r.startsWith('address_first_held_after_event: cy@example.com'))).toBe(true);
  });
});
