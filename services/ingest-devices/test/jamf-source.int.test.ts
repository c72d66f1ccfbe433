// The Jamf source against a local Jamf Pro API (a user's bearer token from
// POST /api/v1/auth/token, computers-inventory paged by page / page-size
// with its sections and totalCount, a 429 with Retry-After, a token revoked
// mid-listing) through runSource on the real broker and registry:
// DeviceVersions on tether.identity.devices, a hostile computer in the DLQ
// with its bytes, the password and tokens in no record.
import { afterAll, describe, expect, it } from 'vitest';
import { jamfSource } from '../src/sources/jamf/source.ts';
import { iso, latestPerKey, mdmRun, serveMdm, type FakeServer, type MdmRun } from './mdm-harness.ts';

const USER = 'tether-api';
const PASSWORD = 'jamf-password-int-4c2e8a1f';
const DAY = 86_400_000;
const now = Date.now();
const t = (daysAgo: number) => iso(now - daysAgo * DAY);

const computer = (id: number, serial: string, general: Record<string, unknown> = {}) => ({
  id: String(id), udid: `UDID-${id}`,
  general: { name: `LT-${id}`, lastIpAddress: `203.0.113.${id}`, lastReportedIp: `10.7.0.${id}`, platform: 'Mac', remoteManagement: { managed: true }, reportDate: t(2), lastContactTime: t(1), lastEnrolledDate: t(100), ...general },
  hardware: { serialNumber: serial, macAddress: '02:00:5e:00:00:01' },
  userAndLocation: { username: `user${id}`, email: `user${id}@example.com` },
});

describe('jamf source, local Jamf Pro API, real broker', () => {
  let server: FakeServer | undefined;
  let mdm: MdmRun | undefined;
  afterAll(async () => {
    await server?.close();
    await mdm?.cleanup();
  });

  it('exchanges the user for a token, pages to totalCount, rides out a 429 and a revoked token, lands versions', async () => {
    const computers = [computer(1, 'C02JAMFI001'), computer(2, 'C02JAMFI002'), computer(3, 'Not Specified'), computer(4, 'C02JAMFI004', { lastContactTime: 'yesterday' }), computer(5, 'C02JAMFI005')];
    const issued: string[] = [];
    let limited = false;
    server = await serveMdm((req) => {
      if (req.method === 'POST' && req.path === '/api/v1/auth/token') {
        if (req.headers.authorization !== `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`) return { status: 401, body: { httpStatus: 401, errors: [] } };
        issued.push(`jamf-token-${issued.length + 1}-${now}`);
        return { body: { token: issued.at(-1), expires: iso(Date.now() + 20 * 60_000) } };
      }
      if (req.path !== '/api/v1/computers-inventory') return { status: 404, body: { httpStatus: 404, errors: [] } };
      const bearer = req.headers.authorization?.replace(/^Bearer /, '');
      const page = Number(req.query.get('page'));
      // The first token is revoked once the first page was served.
      if (bearer !== issued.at(-1) || (page > 0 && bearer === issued[0])) return { status: 401, body: { httpStatus: 401, errors: [{ code: 'INVALID_TOKEN' }] } };
      if (page === 1 && !limited) {
        limited = true;
        return { status: 429, headers: { 'retry-after': '1' }, body: { httpStatus: 429, errors: [] } };
      }
      const size = Number(req.query.get('page-size'));
      return { body: { totalCount: computers.length, results: computers.slice(page * size, (page + 1) * size) } };
    });
    mdm = await mdmRun(jamfSource, { TETHER_JAMF_URL: server.baseUrl, TETHER_JAMF_USERNAME: USER, TETHER_JAMF_PASSWORD: PASSWORD, TETHER_INGEST_PAGE_LIMIT: '2' });

    const summary = await mdm.run({ mode: 'backfill', since: 0, until: null });
    expect(summary.feeds.map((f) => [f.feed, f.error])).toEqual([['jamf/computers', null]]);
    expect(issued).toHaveLength(2);
    const listed = server.requests.filter((r) => r.path === '/api/v1/computers-inventory');
    expect(listed.map((r) => [r.status, r.query.get('page'), r.query.get('page-size')])).toEqual([
      [200, '0', '2'], [401, '1', '2'], [429, '1', '2'], [200, '1', '2'], [200, '2', '2'],
    ]);
    expect(listed[0]!.query.getAll('section')).toEqual(['GENERAL', 'HARDWARE', 'USER_AND_LOCATION']);
    expect(listed[0]!.query.get('sort')).toBe('id:asc');

    const devices = latestPerKey(await mdm.devices());
    const of = (id: string) => [...devices.entries()].filter(([, v]) => v.device_id === id).map(([key, v]) => [Number(key.split('@')[1]), v.assigned_email, v.ip_addresses, v.managed]).sort((a, b) => Number(a[0]) - Number(b[0]));
    expect(of('serial:C02JAMFI001')).toEqual([
      [Date.parse(t(100)), 'user1@example.com', [], true],
      [Date.parse(t(2)), 'user1@example.com', ['10.7.0.1'], true],
      [Date.parse(t(1)), 'user1@example.com', ['10.7.0.1', '203.0.113.1'], true],
    ]);
    expect(of('jamf:3')).toHaveLength(3);
    expect(of('serial:C02JAMFI005')).toHaveLength(3);

    const dead = await mdm.dead();
    expect(dead.map((d) => [d.value.source, d.value.reason_code, d.value.message])).toEqual([['jamf/computers', 'TETHER_NORMALISE_INVALID', 'general.lastContactTime "yesterday" is not an RFC 3339 date-time with a zone']]);
    expect(JSON.parse(dead[0]!.value.original.toString())).toEqual(computers[3]);
    const everything = JSON.stringify([...devices.values(), ...dead.map((d) => d.value.original.toString())]);
    for (const secret of [PASSWORD, ...issued]) expect(everything).not.toContain(secret);
  });
});
