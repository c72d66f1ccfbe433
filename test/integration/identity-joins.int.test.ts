// Records written by different importers meet events on the real broker and
// registry, through the real importers' command lines and an enrich app:
// - a Cursor event from "dana.lee+cursor@example.com" at "::ffff:203.0.113.9"
//   is Dana's, on the Fleet host recorded at 203.0.113.9; lookalike
//   addresses (Cyrillic а, zero-width space, fullwidth ＠) are nobody's;
// - an OpenAI service account's key, read with its inventories from a fake
//   Admin API on loopback, ends at the owner of the key's project.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { EnrichedAccessEvent } from '#schemas';
import { waitFor } from '#testkit';
import { harness } from '../../services/enrich/test/harness.ts';
import { fakePlatform, serveFake } from '../../services/ingest-ai/test/fake-platforms.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = {
  directory: path.join(ROOT, 'services/ingest-directory/src/index.ts'),
  devices: path.join(ROOT, 'services/ingest-devices/src/index.ts'),
  ai: path.join(ROOT, 'services/ingest-ai/src/index.ts'),
};
const HOUR = 3_600_000;
const OPENAI_KEY = 'sk-admin-identity-joins-7c2e91f4a0';

function file(name: string, text: string): string {
  const at = path.join(mkdtempSync(path.join(tmpdir(), 'tether-joins-')), name);
  writeFileSync(at, text);
  return at;
}

async function cli(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, TETHER_LOG_LEVEL: 'warn', ...env } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${path.relative(ROOT, script)} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.slice(0, 4_000));
  }
}

const DIRECTORY_HEADER = 'email,external_id,status,source,updated_at,display_name,department';

describe('identity joins across importers, on the real servers', () => {
  it('a plus address and an IPv4-mapped IPv6 address meet the directory person and the Fleet host; lookalikes meet nobody', async () => {
    const h = await harness();
    const env = { TETHER_TOPIC_PREFIX: h.prefix };
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();

    await cli(CLI.directory, ['import', file('directory.csv', `${DIRECTORY_HEADER}\nDana.Lee@Example.com,E200,active,workday,2025-01-01T00:00:00Z,Dana Lee,Platform\n`)], env);
    const host = {
      id: 7, uuid: '5A1C0E2B-7C3D-4E5F-8A9B-0C1D2E3F4A5B', hostname: 'dana-mbp.corp.example.com', hardware_serial: 'C02DANA0001', platform: 'darwin',
      os_version: 'macOS 15.6', primary_ip: '10.20.30.7', public_ip: '203.0.113.9', seen_time: iso(now - 2 * HOUR), status: 'online',
      mdm: { enrollment_status: 'On (automatic)' }, issues: { failing_policies_count: 0 },
      end_users: [{ idp_id: '00u-dana', idp_username: 'dana.lee@example.com', idp_full_name: 'Dana Lee' }],
    };
    await cli(CLI.devices, ['import', file('hosts.json', JSON.stringify({ hosts: [host] }))], env);

    const login = (id: string, email: string, ip: string) => JSON.stringify({
      event_id: id, timestamp: iso(now - HOUR), ip_address: ip, user_email: email, event_type: 'login', event_data: { login_type: 'sso', success: true },
    });
    const lookalikes = ['d\u0430na.lee+cursor@example.com', 'dana.lee\u200b+cursor@example.com', 'dana.lee+cursor\uff20example.com'];
    const lines = [login('evt_plus', 'dana.lee+cursor@example.com', '::ffff:203.0.113.9'), ...lookalikes.map((email, n) => login(`evt_lookalike_${n}`, email, '198.51.100.99'))];
    await cli(CLI.ai, ['cursor', 'import', file('cursor-audit.jsonl', `${lines.join('\n')}\n`)], { ...env, TETHER_CURSOR_API_KEY: 'key_unused_for_import' });

    const output = await h.readEnriched();
    await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '0' });
    const bySourceId = (id: string) => output.find((o) => o.value.event.source.source_event_id === id)?.value;
    const all = await waitFor(() => {
      const found = ['evt_plus', ...lookalikes.map((_, n) => `evt_lookalike_${n}`)].map(bySourceId);
      return found.every((e) => e !== undefined) ? (found as EnrichedAccessEvent[]) : undefined;
    }, { what: 'the four Cursor events enriched' });

    const [plus, ...others] = all;
    expect(plus!.person).toMatchObject({ person_id: 'workday:E200', email: 'dana.lee@example.com', display_name: 'Dana Lee' });
    expect(plus!.attribution).toMatchObject({ method: 'direct_email', device_method: 'ip_observation' });
    expect(plus!.device).toMatchObject({ device_id: 'serial:C02DANA0001', assigned_person_id: 'workday:E200' });
    // The event keeps what the platform wrote.
    expect([plus!.event.actor.email, plus!.event.src.ip]).toEqual(['dana.lee+cursor@example.com', '::ffff:203.0.113.9']);
    for (const e of others) {
      expect([e.event.actor.email, e.person, e.attribution.method]).toEqual([e.event.actor.email, null, 'unresolved']);
      expect(e.attribution.reasons[0]).toMatch(/^email_unknown: /);
    }
  });

  it("an OpenAI service account's key names the owner of its project", async () => {
    const h = await harness();
    const env = { TETHER_TOPIC_PREFIX: h.prefix };
    const now = Date.now();
    const fake = fakePlatform({ platform: 'openai', key: OPENAI_KEY, events: 20, start: now - 2 * HOUR, spacingMs: 60_000 });
    const server = await serveFake(fake, 'openai');
    onTestFinished(() => server.close());

    await cli(CLI.directory, ['import', file('directory.csv', `${DIRECTORY_HEADER}\ndana@example.com,E100,active,workday,2025-01-01T00:00:00Z,Dana Reyes,Finance\n`)], env);
    await cli(CLI.ai, ['openai', 'backfill', '--since', new Date(now - 3 * HOUR).toISOString()], {
      ...env, TETHER_OPENAI_ADMIN_KEY: OPENAI_KEY, TETHER_OPENAI_BASE_URL: server.baseUrl, TETHER_INGEST_PAGE_LIMIT: '20',
    });
    expect(fake.requests.filter((r) => r.path === '/v1/organization/projects/proj_Ab12Cd34/users').map((r) => r.status)).toEqual([200]);

    const output = await h.readEnriched();
    await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '0' });
    const expected = fake.goodIds.length;
    await waitFor(() => output.length >= expected || undefined, { what: `${expected} OpenAI events enriched` });

    const bySa = output.map((o) => o.value).filter((e) => e.event.actor.service_account_id === 'svc_acct_Pq7Yt');
    expect(bySa.length).toBeGreaterThan(0);
    for (const e of bySa) {
      expect(e.person).toMatchObject({ person_id: 'workday:E100', display_name: 'Dana Reyes', lifecycle_state: 'active' });
      expect(e.attribution.method).toBe('api_key_owner');
      expect(e.attribution.reasons.filter((r) => r.startsWith('project_has_no_owner'))).toEqual([]);
      expect(e.nhi_chain.map((l) => [l.kind, l.id])).toEqual([
        ['api_key', 'openai:api_key:key_Sv55Hk'],
        ['service_account', 'openai:service_account:svc_acct_Pq7Yt'],
        ['project', 'openai:project:proj_Ab12Cd34'],
        ['person', 'workday:E100'],
      ]);
    }
  });
});
