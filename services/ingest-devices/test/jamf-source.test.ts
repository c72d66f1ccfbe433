// Jamf Pro computers-inventory pages in their real shape, read and versioned
// through the framework's snapshot diff: hardware.serialNumber key, the
// assigned user's email, each address dated by the report that carried it,
// management state; the page reader's total guard; hostile values.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { createLogger } from '#log';
import { createPageGuard, type HttpClient } from '#source';
import { readJamfComputer } from '../src/sources/jamf/computer.ts';
import { computersPage, jamfSource } from '../src/sources/jamf/source.ts';
import { asOf, listing } from './snapshots.ts';

const ms = (iso: string) => Date.parse(iso);
const OBSERVED = ms('2026-03-02T12:00:00Z');
const body = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8')) as unknown;
const [page0, page1] = [computersPage(body('jamf-computers-inventory-page0.json'), 1, 2), computersPage(body('jamf-computers-inventory-page1.json'), 2, 2)];
const computers = [...page0.items, ...page1.items];
const inventory = jamfSource.feeds({ http: {} as HttpClient, pageLimit: 100, directory: { emailOf: () => null }, log: createLogger({ service: 'test', level: 'silent' }) }, z.object(jamfSource.env).parse({})).inventories[0]!;

describe('Jamf computers inventory', () => {
  it('pages by totalCount: a next page while below the total, none on the last; a server paging past its own total is stopped', () => {
    expect([page0.next, page0.total, page1.next, page1.total]).toEqual([2, { current: 1, pages: 2 }, null, { current: 2, pages: 2 }]);
    expect(computersPage({ totalCount: 0, results: [] }, 1, 100).next).toBeNull();
    expect(() => computersPage({ results: [] }, 1, 100)).toThrow(/totalCount is not a count/);
    expect(() => computersPage({ totalCount: 3 }, 1, 100)).toThrow(/no "results" array/);
    const guard = createPageGuard('jamf/computers');
    expect(() => guard.check({ items: [1], next: 4, total: { current: 3, pages: 3 } })).toThrow(/page 3 of 3 says there is a next page/);
  });

  it('reads a computer: serial key, assigned email, the device-reported address at the report, the server-seen one at the last contact', () => {
    const read = readJamfComputer(computers[0], { observedAt: OBSERVED });
    expect(read.ok && read.reading).toEqual({
      platform: 'jamf', recordId: '117', deviceId: 'serial:C02FAKE0042', serial: 'C02FAKE0042', hostname: 'LT-0042', os: 'Mac',
      managed: true, compliant: null, active: true, assignedEmail: 'ana.lima@example.com',
      enrolledAt: { ms: ms('2026-01-05T08:01:00Z'), text: '2026-01-05T08:01:00Z', column: 'general.lastEnrolledDate' },
      assignedAt: null,
      observations: [
        { at: { ms: ms('2026-03-02T07:30:00Z'), text: '2026-03-02T07:30:00Z', column: 'general.reportDate' }, ips: ['10.20.30.40'] },
        { at: { ms: ms('2026-03-02T09:00:12Z'), text: '2026-03-02T09:00:12Z', column: 'general.lastContactTime' }, ips: ['203.0.113.77'] },
      ],
    });
  });

  it('versions from the enrolment on, each address from the time it was seen; a placeholder serial keys by the Jamf id; hostile values', async () => {
    const first = await listing(inventory, computers, OBSERVED);
    expect(first.versions.filter((v) => v.device_id === 'serial:C02FAKE0042').map((v) => [new Date(v.valid_from).toISOString(), v.assigned_email, v.ip_addresses])).toEqual([
      ['2026-01-05T08:01:00.000Z', 'ana.lima@example.com', []],
      ['2026-03-02T07:30:00.000Z', 'ana.lima@example.com', ['10.20.30.40']],
      ['2026-03-02T09:00:12.000Z', 'ana.lima@example.com', ['10.20.30.40', '203.0.113.77']],
    ]);
    expect(asOf(first.versions, 'serial:C02FAKE0042', ms('2026-02-01T00:00:00Z'))).toMatchObject({ managed: true, ip_addresses: [] });
    // "Not Specified" is a placeholder: keyed by the Jamf id; unmanaged; one time, both addresses at it.
    expect(first.versions.filter((v) => v.device_id === 'jamf:118').map((v) => [v.valid_from, v.serial, v.managed, v.assigned_email, v.ip_addresses])).toEqual([
      [ms('2026-02-20T10:00:00Z'), null, false, null, ['198.51.100.20']],
    ]);
    // A login that is no address is no assignee; a link-local address keeps, a list of public ones splits.
    expect(asOf(first.versions, 'serial:C02JAMF0119', OBSERVED)).toMatchObject({ assigned_email: null, ip_addresses: ['203.0.113.80', '203.0.113.81', 'fe80::1'] });
    expect(first.dead.map((d) => [d.code, d.message])).toEqual([['TETHER_NORMALISE_INVALID', 'general.reportDate "2026-02-31T12:00:00Z" is not a calendar date']]);
    expect(JSON.parse(first.dead[0]!.raw)).toEqual(computers[3]);

    // The laptop handed to someone else (the admin changes userAndLocation), seen at its next contact.
    const handed = { ...(computers[0] as object), userAndLocation: { email: 'carol.black@example.com' }, general: { ...(computers[0] as { general: object }).general, lastContactTime: '2026-03-03T08:00:00Z' } };
    const second = await listing(inventory, [handed], ms('2026-03-03T09:00:00Z'), first.cursor);
    expect(second.versions.filter((v) => v.device_id === 'serial:C02FAKE0042').map((v) => [v.valid_from, v.assigned_email, v.ip_addresses])).toEqual([[ms('2026-03-03T08:00:00Z'), 'carol.black@example.com', ['10.20.30.40', '203.0.113.77']]]);
  });

  it('refuses what is not a computer, one without an id or any time, a serial with a bidi override', () => {
    const refuse = (record: unknown) => {
      const read = readJamfComputer(record, { observedAt: OBSERVED });
      return read.ok ? undefined : read.error.message;
    };
    expect(refuse([])).toBe('computer is not an object');
    expect(refuse({ general: {} })).toBe('computer has no id');
    expect(refuse({ id: '9', general: { reportDate: null } })).toBe('computer has neither a general.reportDate nor a general.lastContactTime');
    expect(refuse({ id: '9', hardware: { serialNumber: 'C02\u202Egood' }, general: { lastContactTime: '2026-03-01T00:00:00Z' } })).toMatch(/hardware.serialNumber .* holds a control, invisible or replacement character/);
    expect(refuse({ id: '9', general: { lastContactTime: '2999-03-01T00:00:00Z' } })).toBe('general.lastContactTime "2999-03-01T00:00:00Z" is after the import (2026-03-02T12:00:00.000Z)');
  });
});
