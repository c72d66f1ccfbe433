// npm run bench:reattribution [-- --identities 100000 --window 50000]
// The enrich service's re-attribution sweep in process: an identity store of
// N people (each with a platform account and an API key), a full window of W
// events whose actors nothing names, then one sweep in which nothing improves
// (the cost every identity change pays, at most once a second) and one in
// which every event resolves. Prints numbers; asserts nothing.
import { parseArgs } from 'node:util';
import { createReattributionWindow } from '../services/enrich/src/reattribution.ts';
import { resolveEvent } from '../services/enrich/src/resolve/enrich.ts';
import { IdentityStore } from '../services/enrich/src/store/identity-store.ts';
import { openaiKeyEvent, openaiSessionEvent } from '../services/enrich/test/fixtures/events.ts';
import { at, directoryPerson, keyOf, nonHuman, platformAccount } from '../services/enrich/test/fixtures/identities.ts';
import type { AccessEvent } from '#schemas';

const { values } = parseArgs({ options: { identities: { type: 'string', default: '100000' }, window: { type: 'string', default: '50000' } } });
const N = Number(values.identities);
const W = Number(values.window);
const since = at('2025-01-01T00:00:00Z');

const store = new IdentityStore();
for (let i = 0; i < N; i++) {
  const person = directoryPerson(`00u${i}`, since, { email: `p${i}@example.com` });
  const account = platformAccount('openai', `user-${i}`, since, { email: `p${i}@example.com` });
  const key = nonHuman('openai', 'api_key', `key_${i}`, since, { owner_platform_user_id: `openai:user-${i}` });
  store.apply('identityUsers', keyOf(person), person);
  store.apply('identityUsers', keyOf(account), account);
  store.apply('identityNhi', keyOf(key), key);
}

// Actors that arrive later: late-<i> people, accounts and keys.
const time = at('2025-06-01T00:00:00Z');
const events: AccessEvent[] = Array.from({ length: W }, (_, i) => i % 2
  ? openaiSessionEvent({ id: `s-${i}`, time, type: 'login.succeeded', userId: `user-late${i}`, email: `late${i}@example.com` })
  : openaiKeyEvent({ id: `k-${i}`, time, type: 'project.updated', keyId: `key_late${i}` }));

let emitted = 0;
const window = createReattributionWindow<AccessEvent>({
  maxEvents: W,
  maxAgeMs: 86_400_000,
  now: Date.now,
  resolve: (e) => resolveEvent(e, store),
  emit: async (items) => {
    emitted += items.length;
  },
  minIntervalMs: 0,
});
for (const e of events) window.remember(e.event_id, e, resolveEvent(e, store));
console.log(`store: ${N} people, ${N} accounts, ${N} keys; window: ${window.size} events remembered; heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB`);

let started = performance.now();
window.identityChanged();
await window.idle();
console.log(`sweep, nothing improves: ${(performance.now() - started).toFixed(0)} ms for ${W} events (${Math.round(W / ((performance.now() - started) / 1000))} events/s)`);

for (let i = 0; i < W; i++) {
  const person = directoryPerson(`00uLate${i}`, since, { email: `late${i}@example.com` });
  const account = platformAccount('openai', `user-late${i}`, since, { email: `late${i}@example.com` });
  const key = nonHuman('openai', 'api_key', `key_late${i}`, since, { owner_platform_user_id: `openai:user-late${i}` });
  store.apply('identityUsers', keyOf(person), person);
  store.apply('identityUsers', keyOf(account), account);
  store.apply('identityNhi', keyOf(key), key);
}
started = performance.now();
window.identityChanged();
await window.idle();
console.log(`sweep, every event resolves: ${(performance.now() - started).toFixed(0)} ms; ${emitted} emitted again, ${window.size} left`);
