// Intune managedDevices pages in the Graph v1.0 shape, read and versioned
// through the framework's snapshot diff: serial as the key the sources meet
// on (a placeholder serial keys by the Intune id), UPN or email as the
// assignee, compliance and management state, intervals from enrolment, a
// re-enrolment closing the old record, hostile values dead-lettered.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import { odataPage, type HttpClient } from '#source';
import { readIntuneDevice } from '../src/sources/intune/managed-device.ts';
import { intuneSource } from '../src/sources/intune/source.ts';
import { asOf, listing } from './snapshots.ts';

const ms = (iso: string) => Date.parse(iso);
const OBSERVED = ms('2026-03-02T12:00:00Z');
const page = (name: string) => odataPage(JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8')), '/deviceManagement/managedDevices');
const [page1, page2] = [page('intune-managed-devices-page1.json'), page('intune-managed-devices-page2.json')];
const devices = [...page1.items, ...page2.items];
const inventory = intuneSource.feeds({ http: {} as HttpClient, pageLimit: 100, directory: { emailOf: () => null }, log: createLogger({ service: 'test', level: 'silent' }) }, z.object(intuneSource.env).parse({})).inventories[0]!;
const read = (i: number) => readIntuneDevice(devices[i], { observedAt: OBSERVED, what: 'the listing' });

describe('Intune managed devices', () => {
  it('pages follow @odata.nextLink as given; the last page has none', () => {
    expect(page1.next).toBe("https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$select=id,deviceName&$skiptoken=LastDeviceName%3d%27Guest-iPhone%27");
    expect(page2.next).toBeNull();
  });

  it('reads a device: serial key like Fleet, UPN as assignee, compliant, managed by MDM, enrolment and last sync with their text', () => {
    const ana = read(0);
    expect(ana).toEqual({
      ok: true,
      notes: [],
      reading: {
        platform: 'intune', recordId: '9a8b7c6d-0000-4000-8000-00000000a001', deviceId: 'serial:C02FAKE0042', serial: 'C02FAKE0042', hostname: 'LT-0042', os: 'macOS 15.5',
        managed: true, compliant: true, active: true, assignedEmail: 'ana.lima@example.com',
        enrolledAt: { ms: ms('2026-01-05T08:02:11Z'), text: '2026-01-05T08:02:11Z', column: 'enrolledDateTime' },
        assignedAt: null,
        observations: [{ at: { ms: ms('2026-03-02T08:55:00Z'), text: '2026-03-02T08:55:00Z', column: 'lastSyncDateTime' }, ips: [] }],
      },
    });
  });

  it('keys a placeholder serial by the Intune id, reads seven-digit fractions, a guest UPN by its email, grace period and EAS-only devices', () => {
    expect(read(1).ok && read(1)).toMatchObject({ reading: { deviceId: 'intune:9a8b7c6d-0000-4000-8000-00000000a002', serial: null, compliant: false, managed: true, assignedEmail: 'bo.chen@example.com', observations: [{ at: { ms: ms('2026-03-01T22:10:05.123Z') } }] } });
    // A guest's UPN is no mailbox; Go/.NET's zero time is "never enrolled".
    expect(read(2).ok && read(2)).toMatchObject({ reading: { deviceId: 'serial:F2LFAKE0003', assignedEmail: 'dee.park@partner.example', compliant: false, enrolledAt: null } });
    expect(read(5).ok && read(5)).toMatchObject({ reading: { deviceId: 'intune:9a8b7c6d-0000-4000-8000-00000000a006', managed: false, compliant: null } });
  });

  it('dead-letters an impossible date, a device without an id, a control character in a name, a time written as a number; the rest of the pages go on', async () => {
    const first = await listing(inventory, devices, OBSERVED);
    expect(first.dead.map((d) => [d.code, d.message])).toEqual([
      ['TETHER_NORMALISE_INVALID', 'lastSyncDateTime "2026-02-30T08:00:00Z" is not a calendar date'],
      ['TETHER_NORMALISE_INVALID', 'managed device has no id'],
      ['TETHER_NORMALISE_INVALID', 'deviceName "LT-\\u0000-NUL" holds a control, invisible or replacement character'],
      ['TETHER_NORMALISE_INVALID', 'lastSyncDateTime is a number, not an RFC 3339 string'],
    ]);
    expect(first.dead.map((d) => JSON.parse(d.raw))).toEqual(devices.slice(6));
    expect(new Set(first.versions.map((v) => v.device_id)).size).toBe(5);
  });

  it('holds from the enrolment; a re-enrolment (a new id for the same serial) takes over from its enrolment; the old record gone ends after its last sync', async () => {
    const first = await listing(inventory, devices, OBSERVED);
    const laptop = 'serial:C02REIMG100';
    expect(first.versions.filter((v) => v.device_id === laptop).map((v) => [new Date(v.valid_from).toISOString(), v.source.source_time, v.assigned_email, v.os])).toEqual([
      ['2025-06-01T09:00:00.000Z', '2025-06-01T09:00:00Z', 'carol.black@example.com', 'macOS 15.3'],
      ['2026-01-10T17:30:00.000Z', '2026-01-10T17:30:00Z', 'carol.black@example.com', 'macOS 15.3'],
      ['2026-02-01T09:00:00.000Z', '2026-02-01T09:00:00Z', 'dan.moss@example.com', 'macOS 15.5'],
      ['2026-03-01T12:00:00.000Z', '2026-03-01T12:00:00Z', 'dan.moss@example.com', 'macOS 15.5'],
    ]);
    // Events from last autumn are Carol's, from February on Dan's; Intune gives no addresses.
    expect(asOf(first.versions, laptop, ms('2025-10-01T00:00:00Z'))?.assigned_email).toBe('carol.black@example.com');
    expect(asOf(first.versions, laptop, ms('2026-02-15T00:00:00Z'))?.assigned_email).toBe('dan.moss@example.com');
    expect(first.versions.every((v) => v.ip_addresses.length === 0)).toBe(true);

    // The stale record is deleted; the next listing ends it without touching the new enrolment.
    const later = ms('2026-03-03T12:00:00Z');
    const second = await listing(inventory, devices.filter((_, i) => i !== 3), later, first.cursor);
    expect(second.versions.map((v) => [v.device_id, v.valid_from, v.active, v.source.observed_at])).toEqual([[laptop, ms('2026-01-10T17:30:00Z') + 1, false, later]]);
    const all = [...first.versions, ...second.versions];
    expect(asOf(all, laptop, ms('2026-01-20T00:00:00Z'))?.active).toBe(false);
    expect(asOf(all, laptop, ms('2026-03-03T00:00:00Z'))).toMatchObject({ active: true, assigned_email: 'dan.moss@example.com' });

    // A server-side compliance change without a new sync is dated at the listing that saw it; an unchanged one makes nothing.
    const flipped = devices.map((d, i) => (i === 0 ? { ...(d as object), complianceState: 'noncompliant' } : d));
    const third = await listing(inventory, flipped.filter((_, i) => i !== 3), ms('2026-03-04T12:00:00Z'), second.cursor);
    expect(third.versions.map((v) => [v.device_id, v.valid_from, v.compliant])).toEqual([['serial:C02FAKE0042', ms('2026-03-04T12:00:00Z'), false]]);
  });
});
