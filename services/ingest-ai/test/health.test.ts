// Health that tells the truth: an API answering 401 to every audit-log
// request turns /health red after TETHER_INGEST_UNHEALTHY_AFTER polls,
// although the re-read pass of the same feed (nothing due yet) and the
// inventories succeed every time.
import { describe, expect, it } from 'vitest';
import { startOpsServer } from '#service';
import { offlineApp } from './offline-app.ts';

const KEY = 'sk-admin-health-6a7b8c9d0e';
const NOW = Date.parse('2026-03-03T12:00:00Z');

describe('feed health in poll mode', () => {
  it('a feed whose every request is refused (401) turns /health red after N polls; other feeds stay green', async () => {
    let auditRequests = 0;
    const fetchFn = (async (input: URL | string) => {
      const url = new URL(String(input));
      if (url.pathname === '/v1/organization/audit_logs') {
        auditRequests++;
        return new Response('{"error":{"message":"invalid admin key"}}', { status: 401 });
      }
      return new Response('{"object":"list","data":[],"has_more":false}', { status: 200 });
    }) as typeof fetch;
    const { app } = await offlineApp({
      env: {
        TETHER_OPENAI_ADMIN_KEY: KEY,
        TETHER_OPENAI_BASE_URL: 'http://fake.invalid/v1',
        TETHER_INGEST_POLL_INTERVAL_MS: '1000',
        TETHER_INGEST_UNHEALTHY_AFTER: '3',
        // The second read of each window is on (the default hour): with nothing due it succeeds without a request.
        TETHER_INGEST_REREAD_MS: '3600000',
      },
      key: KEY,
      fetch: fetchFn,
      now: () => NOW,
    });
    const ops = await startOpsServer({ port: 0, registry: app.metrics.registry, health: () => app.health() });
    const controller = new AbortController();
    const polling = app.poll(['openai'], controller.signal);
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${ops.port}/health`);
      return { status: res.status, body: (await res.json()) as { state: string; checks: Record<string, { ok: boolean; detail: string }> } };
    };
    try {
      await expect.poll(() => auditRequests, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
      await expect.poll(async () => (await health()).body.checks['openai/audit_logs']?.detail ?? '', { timeout: 30_000 }).toContain('1 failed runs in a row');
      expect((await health()).status).toBe(200);
      await expect.poll(async () => (await health()).status, { timeout: 30_000 }).toBe(503);
      const { body } = await health();
      expect(auditRequests).toBeGreaterThanOrEqual(3);
      expect(body.state).toBe('running');
      expect(body.checks['openai/audit_logs']).toMatchObject({ ok: false, detail: expect.stringMatching(/poll: [3-9] failed runs in a row: .*HTTP 401/) });
      expect(body.checks['openai/users']).toMatchObject({ ok: true });
      expect(JSON.stringify(body)).not.toContain(KEY);
    } finally {
      controller.abort();
      await polling;
      await ops.close();
    }
  }, 60_000);
});
