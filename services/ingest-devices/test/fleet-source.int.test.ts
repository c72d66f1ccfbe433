// The Fleet source against a local Fleet API (paged hosts list, per-host
// detail with end_users, a bearer token, a 429 with retry-after, a host
// deleted between the list and its detail) through runSource on the real
// broker and registry: DeviceVersions on tether.identity.devices dated by
// Fleet's own times, a hostile host in the DLQ with its bytes, and a second
// listing after an offline reassignment adding only the new assignment.
import { afterAll, describe, expect, it } from 'vitest';
import { fleetSource } from '../src/sources/fleet/source.ts';
import { iso, latestPerKey, mdmRun, serveMdm, type FakeServer, type MdmRun } from './mdm-harness.ts';

const TOKEN = 'fleet-api-token-int-9b8a7c6d5e4f';
const DAY = 86_400_000;
const now = Date.now();
const t = (daysAgo: number) => iso(now - daysAgo * DAY);

function host(id: number, serial: string, extra: Record<string, unknown> = {}) {
  return {
    id, uuid: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`, hostname: `lt-${id}.corp.example.com`, hardware_serial: serial,
    platform: 'darwin', os_version: 'macOS 15.5', primary_ip: `10.9.0.${id % 250}`, public_ip: '203.0.113.50',
    last_enrolled_at: t(40), seen_time: t(1), status: 'online', mdm: { enrollment_status: 'On (automatic)' }, issues: { failing_policies_count: 0 }, ...extra,
  };
}

describe('fleet source, local Fleet API, real broker', () => {
  let server: FakeServer | undefined;
  let mdm: MdmRun | undefined;
  afterAll(async () => {
    await server?.close();
    await mdm?.cleanup();
  });

  it('lists every page, reads each host detail, rides out a 429, and lands versions dated by Fleet; a reassignment while offline adds one version', async () => {
    const listed = [host(1, 'C02INT0001'), host(2, 'C02INT0002'), host(3, 'C02INT0003'), host(4, 'C02INT0004'), host(5, 'C02INT0005', { seen_time: '2999-01-01T00:00:00Z' })];
    const endUsers = new Map<number, unknown[]>([[1, [{ idp_username: 'ana@example.com', idp_info_updated_at: t(30) }]], [2, [{ idp_username: 'bo@example.com', idp_info_updated_at: t(20) }]]]);
    let limited = false;
    server = await serveMdm((req) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return { status: 401, body: { message: 'Authentication required' } };
      if (req.path === '/api/v1/fleet/hosts') {
        if (!limited) {
          limited = true;
          return { status: 429, headers: { 'retry-after': '1' }, body: { message: 'too many requests' } };
        }
        const page = Number(req.query.get('page'));
        const size = Number(req.query.get('per_page'));
        return { body: { hosts: listed.slice(page * size, (page + 1) * size) } };
      }
      const detail = /^\/api\/v1\/fleet\/hosts\/(\d+)$/.exec(req.path);
      if (detail) {
        const id = Number(detail[1]);
        // Deleted between the list and its detail.
        if (id === 4) return { status: 404, body: { message: 'Resource Not Found' } };
        return { body: { host: { ...listed.find((h) => h.id === id), end_users: endUsers.get(id) ?? [] } } };
      }
      return { status: 404, body: { message: 'not found' } };
    });
    mdm = await mdmRun(fleetSource, { TETHER_FLEET_URL: server.baseUrl, TETHER_FLEET_API_TOKEN: TOKEN, TETHER_INGEST_PAGE_LIMIT: '2' });

    const first = await mdm.run({ mode: 'backfill', since: 0, until: null });
    expect(first.feeds.map((f) => [f.feed, f.error])).toEqual([['fleet/hosts', null]]);
    const lists = server.requests.filter((r) => r.path === '/api/v1/fleet/hosts');
    expect(lists.map((r) => [r.status, r.query.get('page'), r.query.get('per_page'), r.query.get('order_key'), r.query.get('device_mapping')])).toEqual([
      [429, '0', '2', 'id', 'true'], [200, '0', '2', 'id', 'true'], [200, '1', '2', 'id', 'true'], [200, '2', '2', 'id', 'true'],
    ]);
    expect(server.requests.filter((r) => r.path.startsWith('/api/v1/fleet/hosts/')).map((r) => [r.path, r.query.get('exclude_software')])).toEqual(
      [1, 2, 3, 4, 5].map((id) => [`/api/v1/fleet/hosts/${id}`, 'true']),
    );

    const devices = latestPerKey(await mdm.devices());
    const laptop = [...devices.entries()].filter(([, v]) => v.device_id === 'serial:C02INT0001').map(([key, v]) => [key, v.assigned_email, v.ip_addresses]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(laptop).toEqual([
      [`serial:C02INT0001@${Date.parse(t(40))}`, null, []],
      [`serial:C02INT0001@${Date.parse(t(30))}`, 'ana@example.com', []],
      [`serial:C02INT0001@${Date.parse(t(1))}`, 'ana@example.com', ['10.9.0.1', '203.0.113.50']],
    ]);
    // The host deleted before its detail is read from its list entry.
    expect([...devices.values()].filter((v) => v.device_id === 'serial:C02INT0004').map((v) => v.valid_from).sort()).toEqual([Date.parse(t(40)), Date.parse(t(1))]);
    const dead = await mdm.dead();
    expect(dead.map((d) => [d.value.source, d.value.stage, d.value.reason_code])).toEqual([['fleet/hosts', 'normalising', 'TETHER_NORMALISE_INVALID']]);
    expect(JSON.parse(dead[0]!.value.original.toString())).toMatchObject({ id: 5, hardware_serial: 'C02INT0005', seen_time: '2999-01-01T00:00:00Z' });

    // Reassigned while offline (same seen_time), then listed again: one new version, at the reassignment.
    endUsers.set(1, [{ idp_username: 'carol@example.com', idp_info_updated_at: t(0.5) }]);
    const second = await mdm.run({ mode: 'backfill', since: 0, until: null });
    expect(second.feeds.map((f) => [f.feed, f.sent, f.error])).toEqual([['fleet/hosts', 1, null]]);
    const after = [...latestPerKey(await mdm.devices()).entries()].filter(([key]) => !devices.has(key));
    expect(after.map(([key, v]) => [key, v.assigned_email, v.ip_addresses])).toEqual([[`serial:C02INT0001@${Date.parse(t(0.5))}`, 'carol@example.com', []]]);
  });
});
