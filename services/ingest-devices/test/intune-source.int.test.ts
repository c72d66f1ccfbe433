// The Intune source against a local Entra token endpoint and Graph API (the
// client credentials exchange, managedDevices paged by @odata.nextLink, a
// 429 with Retry-After) through runSource on the real broker and registry:
// DeviceVersions on tether.identity.devices from each enrolment on, a
// re-enrolment taking over, a hostile device in the DLQ with its bytes, and
// the client secret and token in no record.
import { afterAll, describe, expect, it } from 'vitest';
import { intuneSource } from '../src/sources/intune/source.ts';
import { iso, latestPerKey, mdmRun, serveMdm, type FakeServer, type MdmRun } from './mdm-harness.ts';

const TENANT = 'contoso.example';
const CLIENT_ID = '6731de76-14a6-49ae-97bc-6eba6914391e';
const SECRET = 'intune-client-secret-int-Qx7~2b9c';
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.int-intune-access-token';
const DAY = 86_400_000;
const now = Date.now();
const t = (daysAgo: number) => iso(now - daysAgo * DAY);

const device = (n: number, serial: string, extra: Record<string, unknown> = {}) => ({
  id: `9a8b7c6d-0000-4000-8000-${String(n).padStart(12, '0')}`, deviceName: `LT-${n}`, serialNumber: serial, userPrincipalName: `user${n}@example.com`,
  operatingSystem: 'macOS', osVersion: '15.5', complianceState: 'compliant', managedDeviceOwnerType: 'company', managementAgent: 'mdm',
  enrolledDateTime: t(60), lastSyncDateTime: t(1), ...extra,
});

describe('intune source, local Entra and Graph, real broker', () => {
  let server: FakeServer | undefined;
  let mdm: MdmRun | undefined;
  afterAll(async () => {
    await server?.close();
    await mdm?.cleanup();
  });

  it('gets a token by client credentials, follows every nextLink, rides out a 429, lands versions from each enrolment', async () => {
    const pages = [
      [device(1, 'C02INTUNE01'), device(2, '0'), device(3, 'C02INTUNE03', { enrolledDateTime: t(200), lastSyncDateTime: t(90), userPrincipalName: 'old@example.com' })],
      [device(4, 'C02INTUNE03', { enrolledDateTime: t(30), userPrincipalName: 'new@example.com' }), device(5, 'C02INTUNE05', { lastSyncDateTime: '2026-13-01T00:00:00Z' })],
      [device(6, 'C02INTUNE06', { complianceState: 'noncompliant' })],
    ];
    let limited = false;
    server = await serveMdm((req, base) => {
      if (req.method === 'POST' && req.path === `/${TENANT}/oauth2/v2.0/token`) {
        const form = new URLSearchParams(req.body);
        if (form.get('grant_type') !== 'client_credentials' || form.get('client_id') !== CLIENT_ID || form.get('client_secret') !== SECRET) {
          return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } };
        }
        return { body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: TOKEN } };
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.' } } };
      if (req.path !== '/v1.0/deviceManagement/managedDevices') return { status: 404, body: { error: { code: 'ResourceNotFound' } } };
      const index = Number(req.query.get('$skiptoken') ?? 0);
      if (index === 1 && !limited) {
        limited = true;
        return { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'Too many requests' } } };
      }
      const next = index + 1 < pages.length ? { '@odata.nextLink': `${base}/v1.0/deviceManagement/managedDevices?$skiptoken=${index + 1}` } : {};
      return { body: { '@odata.context': `${base}/v1.0/$metadata#deviceManagement/managedDevices`, value: pages[index], ...next } };
    });
    mdm = await mdmRun(intuneSource, {
      TETHER_INTUNE_TENANT_ID: TENANT, TETHER_INTUNE_CLIENT_ID: CLIENT_ID, TETHER_INTUNE_CLIENT_SECRET: SECRET,
      TETHER_INTUNE_GRAPH_URL: `${server.baseUrl}/v1.0`, TETHER_INTUNE_AUTHORITY_URL: server.baseUrl,
    });

    const summary = await mdm.run({ mode: 'backfill', since: 0, until: null });
    expect(summary.feeds.map((f) => [f.feed, f.error])).toEqual([['intune/managed_devices', null]]);
    const token = server.requests.filter((r) => r.method === 'POST');
    expect(token).toHaveLength(1);
    expect(new URLSearchParams(token[0]!.body).get('scope')).toBe(`${server.baseUrl}/.default`);
    const graph = server.requests.filter((r) => r.path === '/v1.0/deviceManagement/managedDevices');
    expect(graph.map((r) => [r.status, r.query.get('$skiptoken')])).toEqual([[200, null], [429, '1'], [200, '1'], [200, '2']]);
    expect(graph[0]!.query.get('$select')).toContain('serialNumber');

    const devices = latestPerKey(await mdm.devices());
    const of = (id: string) => [...devices.entries()].filter(([, v]) => v.device_id === id).map(([key, v]) => [key, v.assigned_email, v.compliant, v.active]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(of('serial:C02INTUNE01')).toEqual([[`serial:C02INTUNE01@${Date.parse(t(60))}`, 'user1@example.com', true, true], [`serial:C02INTUNE01@${Date.parse(t(1))}`, 'user1@example.com', true, true]]);
    expect(of('intune:9a8b7c6d-0000-4000-8000-000000000002')).toHaveLength(2);
    // The re-enrolled laptop: the old enrolment's user until the new enrolment, then the new one's.
    expect(of('serial:C02INTUNE03').map(([key, email]) => [Number(String(key).split('@')[1]), email])).toEqual([
      [Date.parse(t(200)), 'old@example.com'], [Date.parse(t(90)), 'old@example.com'], [Date.parse(t(30)), 'new@example.com'], [Date.parse(t(1)), 'new@example.com'],
    ]);
    expect(of('serial:C02INTUNE06').every(([, , compliant]) => compliant === false)).toBe(true);

    const dead = await mdm.dead();
    expect(dead.map((d) => [d.value.source, d.value.reason_code, d.value.message])).toEqual([['intune/managed_devices', 'TETHER_NORMALISE_INVALID', 'lastSyncDateTime "2026-13-01T00:00:00Z" is not a calendar date']]);
    expect(JSON.parse(dead[0]!.value.original.toString())).toEqual(pages[1]![1]);
    const everything = JSON.stringify([...devices.values(), ...dead.map((d) => d.value.original.toString())]);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(TOKEN);
  });
});
