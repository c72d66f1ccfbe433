// IdP change history on the real broker and registry: an Okta System Log
// export and an Entra directoryAudits export imported through ingest-ai onto
// tether.identity.users, then events before and after each change enriched
// by enrich: each is attributed to the one person of that IdP user, in the
// state and with the fields they had at the event's time.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#config';
import { createLogger } from '#log';
import type { EnrichedAccessEvent } from '#schemas';
import { createScrubber } from '#source';
import { waitFor } from '#testkit';
import { cursorAuditEvent } from '../../enrich/test/fixtures/events.ts';
import { harness } from '../../enrich/test/harness.ts';
import { connectApp } from '../src/app.ts';
import { ingestAiEnvSchema } from '../src/config.ts';
import { fixturePath } from './fixtures.ts';

const OKTA = 'okta:00u1ab2CdExAmPlE3f4';
const ENTRA = 'entra:5f2c0d1e-8a47-4b7e-9d3c-2e6f1a0b9c84';

/** [event id, email, time, expected person, lifecycle state, display name or department] */
const CASES: Array<[string, string, string, string, string, { display_name?: string; department?: string }]> = [
  ['o-before-rename', 'dana.ruiz@example.com', '2025-03-01T09:00:00Z', OKTA, 'active', { display_name: 'Dana Ruiz' }],
  ['o-after-rename', 'dana.lee@example.com', '2025-04-15T09:00:00Z', OKTA, 'active', { display_name: 'Dana Lee' }],
  ['o-suspended', 'dana.lee@example.com', '2025-05-06T09:00:00Z', OKTA, 'suspended', {}],
  ['o-unsuspended', 'dana.lee@example.com', '2025-05-20T09:00:00Z', OKTA, 'active', {}],
  ['o-left', 'dana.lee@example.com', '2025-07-01T09:00:00Z', OKTA, 'inactive', {}],
  ['e-joiner', 'lee.park@example.com', '2025-03-01T09:00:00Z', ENTRA, 'active', { department: 'Sales' }],
  ['e-mover', 'lee.park@example.com', '2025-03-25T09:00:00Z', ENTRA, 'active', { department: 'Finance' }],
  ['e-renamed', 'lee.kim@example.com', '2025-04-11T09:00:00Z', ENTRA, 'active', { display_name: 'Lee Kim' }],
  ['e-disabled', 'lee.kim@example.com', '2025-06-01T12:00:00Z', ENTRA, 'inactive', {}],
  ['e-restored', 'lee.kim@example.com', '2025-06-21T12:00:00Z', ENTRA, 'active', {}],
];

describe('IdP change history through ingest-ai and enrich', () => {
  it('attributes events before and after each imported change to the person as they were then', async () => {
    const h = await harness();
    const config = loadConfig(ingestAiEnvSchema, {
      ...process.env,
      TETHER_TOPIC_PREFIX: h.prefix,
      TETHER_LOG_LEVEL: 'warn',
      TETHER_OKTA_USERS_ORG_URL: 'https://example.okta.com', TETHER_OKTA_USERS_API_TOKEN: 'okta-int-token-51c0',
      TETHER_ENTRA_USERS_TENANT_ID: 't-1', TETHER_ENTRA_USERS_CLIENT_ID: 'c-1', TETHER_ENTRA_USERS_CLIENT_SECRET: 'entra-int-secret-77',
    });
    const { app, close } = await connectApp(config, { log: createLogger({ service: 'ingest-ai', level: 'warn' }), scrubber: createScrubber([]) });
    try {
      const signal = new AbortController().signal;
      const okta = await app.importFile('okta-users', 'system_log', fixturePath('okta-users', 'system-log.json'), signal);
      const entra = await app.importFile('entra-users', 'directory_audits', fixturePath('entra-users', 'directory-audits.json'), signal);
      expect([...okta.feeds, ...entra.feeds].map((f) => [f.sent, f.dead])).toEqual([[7, 0], [6, 0]]);
    } finally {
      await close();
    }

    const output = await h.readEnriched();
    await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '0' });
    const events = CASES.map(([id, email, time]) => cursorAuditEvent({ id, time: Date.parse(time), email }));
    await h.writeEvents(events);
    await waitFor(() => output.length >= events.length || undefined, { what: 'every event enriched' });
    const byId = new Map<string, EnrichedAccessEvent>(output.map((o) => [o.value.event.source.source_event_id, o.value]));
    for (const [id, , , person, state, fields] of CASES) {
      expect(byId.get(id)?.person, id).toMatchObject({ person_id: person, lifecycle_state: state, ...fields });
      expect(byId.get(id)?.attribution.method, id).toBe('direct_email');
    }
  });
});
