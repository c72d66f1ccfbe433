// Identity data that arrives long after the events (a directory import after
// an audit backfill), on the real broker: the events leave unresolved once
// their wait ends, and are emitted again, attributed as of their own time,
// when the identity records arrive.
import { describe, expect, it } from 'vitest';
import { waitFor } from '#testkit';
import { openaiKeyEvent, openaiSessionEvent } from './fixtures/events.ts';
import { at, directoryPerson, nonHuman, platformAccount } from './fixtures/identities.ts';
import { harness } from './harness.ts';

describe('enrich with identity data that arrives after the events', () => {
  it('emits the events unresolved after their wait, then again attributed once the identities arrive', async () => {
    const h = await harness();
    const output = await h.readEnriched();
    const time = at('2025-03-01T09:00:00Z');
    const events = [
      openaiSessionEvent({ id: 'late-1', time, type: 'login.succeeded', userId: 'user-Mo', email: 'mo@example.com' }),
      openaiKeyEvent({ id: 'late-2', time: time + 60_000, type: 'project.updated', keyId: 'key_Mo' }),
    ];
    const app = await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '500', TETHER_ENRICH_GIVE_UP_MS: '0' });
    await h.writeEvents(events);
    await waitFor(() => output.length >= 2 || undefined, { what: 'both events emitted after their wait' });
    expect(output.map((o) => o.value.attribution.method)).toEqual(['unresolved', 'unresolved']);
    expect(app.health()).toMatchObject({ reattributable_events: 2 });

    // The person left before today: the events must carry their state as of March.
    const person = directoryPerson('00uMo', at('2025-01-01T00:00:00Z'), { email: 'mo@example.com', department: 'R&D' });
    const left = directoryPerson('00uMo', at('2025-06-01T00:00:00Z'), { email: 'mo@example.com', department: 'R&D', active: false, lifecycle_state: 'inactive' });
    const account = platformAccount('openai', 'user-Mo', at('2025-01-02T00:00:00Z'), { email: 'mo@example.com' });
    const key = nonHuman('openai', 'api_key', 'key_Mo', at('2025-01-03T00:00:00Z'), { owner_platform_user_id: 'openai:user-Mo' });
    await h.writeIdentities([person, left, account, key]);

    await waitFor(() => output.length >= 4 || undefined, { what: 'both events emitted again' });
    const again = output.slice(2);
    expect(again.map((o) => o.key)).toEqual(['00uMo', '00uMo']);
    const byId = new Map(again.map((o) => [o.value.event.event_id, o.value]));
    expect(byId.get(events[0]!.event_id)?.attribution).toMatchObject({ method: 'platform_user_alias' });
    expect(byId.get(events[1]!.event_id)?.attribution).toMatchObject({ method: 'api_key_owner' });
    for (const o of again) {
      expect(o.value.person).toMatchObject({ person_id: '00uMo', lifecycle_state: 'active', department: 'R&D' });
      expect(o.value.attribution.reasons).toContain('reattributed_after_late_identity');
      expect(o.value.enrichment.enriched_at).toBeGreaterThan(output[0]!.value.enrichment.enriched_at);
    }
    // Still remembered: the rest of the identity data could name someone else, which would be emitted again.
    expect(app.health()).toMatchObject({ reattributable_events: 2 });
  });
});
