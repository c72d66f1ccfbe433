// The Fleet source's inventory on listings in the real API shapes (a list
// page merged with a host's detail), through the framework's snapshot diff:
// each assignment dated by the times Fleet gives, a reassignment while
// offline, a re-enrolment, re-observation, hostile hosts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import type { HttpClient } from '#source';
import { fleetHostsPage, fleetSource } from '../src/sources/fleet/source.ts';
import { asOf, listing } from './snapshots.ts';

const ms = (iso: string) => Date.parse(iso);
const fixture = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8')) as Record<string, unknown>;
const list = fixture('fleet-list-page.json').hosts as Record<string, unknown>[];
const detail = fixture('fleet-host-detail.json').host as Record<string, unknown>;
const noHttp = {} as HttpClient;
const hosts = fleetSource.feeds({ http: noHttp, pageLimit: 100, directory: { emailOf: () => null }, log: createLogger({ service: 'test', level: 'silent' }) }, z.object(fleetSource.env).parse({})).inventories[0]!;
/** Host 121 as the source yields it: its list entry with its detail over it. */
const ana = { ...list[0], ...detail, device_mapping: list[0]!.device_mapping };
const LAPTOP = 'serial:C02FAKE0042';

describe('Fleet hosts page reader', () => {
  it('a full page may have a next one, a short or empty one ends the listing, meta.has_next_results is taken as given', () => {
    expect(fleetHostsPage({ hosts: [1, 2] }, 0, 2)).toEqual({ items: [1, 2], next: 1 });
    expect(fleetHostsPage({ hosts: [1] }, 3, 2)).toEqual({ items: [1], next: null });
    expect(fleetHostsPage({ hosts: [] }, 4, 2).next).toBeNull();
    expect(fleetHostsPage({ hosts: [1, 2], meta: { has_next_results: false } }, 0, 2).next).toBeNull();
    expect(() => fleetHostsPage({ host: {} }, 0, 2)).toThrow(/no "hosts" array/);
    expect(() => fleetHostsPage([], 0, 2)).toThrow(/no "hosts" array/);
  });
});

describe('Fleet source inventory', () => {
  it('dates a first sight from the enrolment, the IdP end user update and the check-in, addresses only from the check-in', async () => {
    const first = await listing(hosts, [ana, list[1], list[2]], ms('2026-03-02T12:00:00Z'));
    expect(first.dead).toEqual([]);
    const laptop = first.versions.filter((v) => v.device_id === LAPTOP);
    expect(laptop.map((v) => [new Date(v.valid_from).toISOString(), v.source.source_time, v.assigned_email, v.ip_addresses])).toEqual([
      ['2026-01-05T08:00:00.000Z', '2026-01-05T08:00:00Z', null, []],
      ['2026-02-20T10:00:00.000Z', '2026-02-20T10:00:00Z', 'ana.lima@example.com', []],
      ['2026-03-02T09:11:42.000Z', '2026-03-02T09:11:42Z', 'ana.lima@example.com', ['10.20.30.40', '203.0.113.77']],
    ]);
    expect(laptop[2]).toMatchObject({ source: { platform: 'fleet', feed: 'hosts', observed_at: ms('2026-03-02T12:00:00Z') }, managed: true, compliant: true, active: true, serial: 'C02FAKE0042', os: 'macOS 15.5' });
    // An event from last month finds the device; the assignee only from the IdP's date on.
    expect(asOf(first.versions, LAPTOP, ms('2026-02-01T00:00:00Z'))).toMatchObject({ assigned_email: null, ip_addresses: [] });
    expect(asOf(first.versions, LAPTOP, ms('2026-02-25T00:00:00Z'))?.assigned_email).toBe('ana.lima@example.com');
    expect(first.keys).toContain(`${LAPTOP}@${ms('2026-03-02T09:11:42Z')}`);

    // A placeholder serial is no key (the uuid is); Go's zero enrolment time is "never"; the MDM mapping beats a Chrome profile.
    expect(first.versions.filter((v) => v.device_id === 'uuid:1D2E3F40-5162-7384-95A6-B7C8D9E0F1A2').map((v) => [v.valid_from, v.serial, v.assigned_email, v.managed, v.compliant])).toEqual([
      [ms('2026-03-02T10:00:00Z'), null, 'bo.chen@example.com', false, false],
    ]);
    // No end user and no mapping: the device without an assignee, from its enrolment.
    expect(first.versions.filter((v) => v.device_id === 'serial:C02KIOSK001').map((v) => [v.valid_from, v.assigned_email])).toEqual([
      [ms('2025-12-01T00:00:00Z'), null], [ms('2026-02-27T18:00:00Z'), null],
    ]);
  });

  it('a laptop reassigned while offline: the new owner from the IdP update, the old one keeps the time before; then a re-enrolment', async () => {
    const first = await listing(hosts, [ana], ms('2026-03-02T12:00:00Z'));
    const carol = { ...ana, end_users: [{ idp_username: 'carol.black@example.com', idp_info_updated_at: '2026-03-08T15:00:00Z' }] };
    const second = await listing(hosts, [carol], ms('2026-03-10T12:00:00Z'), first.cursor);
    // Same check-in (offline): only the reassignment is new, without the addresses of a check-in before it.
    expect(second.versions.map((v) => [v.valid_from, v.assigned_email, v.ip_addresses])).toEqual([[ms('2026-03-08T15:00:00Z'), 'carol.black@example.com', []]]);
    const history = [...first.versions, ...second.versions];
    expect(asOf(history, LAPTOP, ms('2026-03-05T00:00:00Z'))).toMatchObject({ assigned_email: 'ana.lima@example.com', ip_addresses: ['10.20.30.40', '203.0.113.77'] });
    expect(asOf(history, LAPTOP, ms('2026-03-09T00:00:00Z'))?.assigned_email).toBe('carol.black@example.com');

    // Re-imaged and re-enrolled: Fleet lists it under a new id; the old record is gone.
    const reenrolled = { ...carol, id: 130, last_enrolled_at: '2026-03-12T09:00:00Z', seen_time: '2026-03-12T09:30:00Z', primary_ip: '10.20.30.99', end_users: [{ idp_username: 'dan@example.com', idp_info_updated_at: '2026-03-12T09:05:00Z' }] };
    const third = await listing(hosts, [reenrolled], ms('2026-03-12T12:00:00Z'), second.cursor);
    expect(third.versions.map((v) => [new Date(v.valid_from).toISOString(), v.active, v.assigned_email, v.ip_addresses])).toEqual([
      ['2026-03-12T09:00:00.000Z', true, null, []],
      ['2026-03-12T09:05:00.000Z', true, 'dan@example.com', []],
      ['2026-03-12T09:30:00.000Z', true, 'dan@example.com', ['10.20.30.99', '203.0.113.77']],
      // The old record ends just after the last time it gave, so the new enrolment is not marked retired.
      ['2026-03-08T15:00:00.001Z', false, 'carol.black@example.com', []],
    ]);
    const all = [...history, ...third.versions];
    expect(asOf(all, LAPTOP, ms('2026-03-11T00:00:00Z'))?.active).toBe(false);
    expect(asOf(all, LAPTOP, ms('2026-03-13T00:00:00Z'))).toMatchObject({ active: true, assigned_email: 'dan@example.com' });
  });

  it('a listing with nothing new emits nothing; a check-in on a new day observes the addresses again; a mapping changed without a time is dated at the listing', async () => {
    const first = await listing(hosts, [list[2]], ms('2026-02-28T00:00:00Z'));
    expect((await listing(hosts, [{ ...list[2], updated_at: '2026-02-28T01:00:00Z' }], ms('2026-02-28T02:00:00Z'), first.cursor)).versions).toEqual([]);
    const sameDay = await listing(hosts, [{ ...list[2], seen_time: '2026-02-27T23:00:00Z' }], ms('2026-02-28T03:00:00Z'), first.cursor);
    expect(sameDay.versions).toEqual([]);
    const nextDay = await listing(hosts, [{ ...list[2], seen_time: '2026-03-01T08:00:00Z' }], ms('2026-03-01T09:00:00Z'), first.cursor);
    expect(nextDay.versions.map((v) => [v.valid_from, v.ip_addresses])).toEqual([[ms('2026-03-01T08:00:00Z'), ['10.20.30.42', '203.0.113.78']]]);

    const mapped = { ...list[2], device_mapping: [{ email: 'erin@example.com', source: 'custom_override' }] };
    const remapped = await listing(hosts, [mapped], ms('2026-03-03T00:00:00Z'), first.cursor);
    expect(remapped.versions.map((v) => [v.valid_from, v.assigned_email, v.source.source_time, v.ip_addresses])).toEqual([
      [ms('2026-03-03T00:00:00Z'), 'erin@example.com', null, ['10.20.30.42', '203.0.113.78']],
    ]);
  });

  it('dead-letters hostile hosts with their bytes and a reason; the rest of the listing goes on', async () => {
    const future = { id: 301, hardware_serial: 'FUTURE301', seen_time: '2099-01-01T00:00:00Z' };
    const noKey = { id: 302, hostname: 'ghost', hardware_serial: 'To Be Filled By O.E.M.', seen_time: '2026-03-01T00:00:00Z' };
    const hidden = { id: 303, hardware_serial: 'C02\u202EEVIL', seen_time: '2026-03-01T00:00:00Z' };
    const numberTime = { id: 304, hardware_serial: 'C02NUM304', seen_time: 1772442301 };
    const result = await listing(hosts, ['not a host', future, noKey, hidden, numberTime, list[2]], ms('2026-03-02T12:00:00Z'));
    expect(result.dead.map((d) => [d.code, d.message])).toEqual([
      ['TETHER_NORMALISE_INVALID', 'host record is not an object'],
      ['TETHER_NORMALISE_INVALID', expect.stringMatching(/^seen_time "2099-01-01T00:00:00Z" is after the listing \(\d{4}-\d\d-\d\dT/)],
      ['TETHER_NORMALISE_INVALID', 'host has neither a usable hardware_serial nor a uuid'],
      ['TETHER_NORMALISE_INVALID', 'hardware_serial "C02\u202EEVIL" holds a control, invisible or replacement character'],
      ['TETHER_NORMALISE_INVALID', 'seen_time is a number, not an RFC 3339 string'],
    ]);
    expect(result.dead.map((d) => d.raw)).toEqual(['"not a host"', ...[future, noKey, hidden, numberTime].map((h) => JSON.stringify(h))]);
    expect(new Set(result.versions.map((v) => v.device_id))).toEqual(new Set(['serial:C02KIOSK001']));
  });
});
