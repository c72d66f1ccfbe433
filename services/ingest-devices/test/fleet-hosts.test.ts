import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonDocument } from '#source';
import { normaliseFleetHost } from '../src/fleet-hosts.ts';

const OBSERVED = Date.UTC(2026, 10, 25);
const hosts = (file: string) =>
  readJsonDocument(readFileSync(path.join(import.meta.dirname, 'fixtures', file))).map((r) => normaliseFleetHost(r.value, { observedAt: OBSERVED }));

describe('Fleet hosts', () => {
  it('maps a host to a device version keyed by serial, owned by its IdP end user, with its IPs', () => {
    const [ana] = hosts('fleet-hosts-2026-06.json');
    expect(ana).toEqual({
      ok: true,
      version: {
        device_id: 'serial:C02FAKE0042',
        valid_from: Date.parse('2026-06-02T09:11:42Z'),
        source: { platform: 'fleet', feed: 'hosts', source_time: '2026-06-02T09:11:42Z', observed_at: OBSERVED },
        active: true,
        serial: 'C02FAKE0042',
        hostname: 'lt-0042.corp.example.com',
        os: 'macOS 15.5',
        managed: true,
        compliant: true,
        assigned_person_id: null,
        // The Chrome-profile email is only "seen on device"; the IdP user owns it.
        assigned_email: 'ana.lima@example.com',
        ip_addresses: ['10.20.30.40', '203.0.113.77'],
      },
      facts: { fleetId: 121, uuid: '6F0E2C1A-1B2C-4D5E-8F90-0A1B2C3D4E5F', serial: 'C02FAKE0042', lastEnrolledAt: Date.parse('2026-01-05T08:00:00Z') },
      notes: [],
    });
  });

  it('ignores placeholder serials, prefers the MDM mapping over a Chrome profile, reads failing policies', () => {
    const [, bo] = hosts('fleet-hosts-2026-06.json');
    expect(bo?.ok && bo.version).toMatchObject({
      device_id: 'uuid:1D2E3F40-5162-7384-95A6-B7C8D9E0F1A2',
      serial: null,
      managed: false,
      compliant: false,
      assigned_email: 'bo.chen@example.com',
    });
  });

  it('refuses a host with no stable key rather than keying it by hostname', () => {
    const [, , ghost] = hosts('fleet-hosts-2026-06.json');
    expect(ghost).toMatchObject({ ok: false, error: { code: 'TETHER_NORMALISE_INVALID' } });
    expect(normaliseFleetHost('nope', { observedAt: 0 })).toMatchObject({ ok: false });
    expect(normaliseFleetHost({ hardware_serial: 'X1', seen_time: 'last tuesday' }, { observedAt: 0 })).toMatchObject({ ok: false });
  });

  it('reads a re-enrolled, reassigned laptop as a new version of the same device', () => {
    const [before] = hosts('fleet-hosts-2026-06.json');
    const [after] = hosts('fleet-hosts-2026-10.json');
    expect(before?.ok && after?.ok).toBe(true);
    if (!before?.ok || !after?.ok) return;
    expect(after.version.device_id).toBe(before.version.device_id);
    expect(after.version.valid_from).toBeGreaterThan(before.version.valid_from);
    expect([before.version.assigned_email, after.version.assigned_email]).toEqual(['ana.lima@example.com', 'bo.chen@example.com']);
  });

  it('reads the detail endpoint envelope too', () => {
    const result = normaliseFleetHost({ host: { hardware_serial: 'ABC123', seen_time: '2026-01-01T00:00:00Z' } }, { observedAt: OBSERVED });
    expect(result.ok && result.version.device_id).toBe('serial:ABC123');
  });
});
