// A Fleet export with the shapes real fleets and hostile records produce:
// numbers as strings, nulls everywhere, IPv6 and IPv4-mapped addresses,
// invalid IPs, a check-in in the far future, Go zero times, one serial on
// two hosts, a serial-less duplicate of a listed machine, junk end users.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonDocument } from '#source';
import { normaliseFleetHost } from '../src/fleet-hosts.ts';
import { normaliseFleetHosts, type HostRow } from '../src/fleet-import.ts';
import { hostIp } from '../src/ip.ts';
import { parseRfc3339 } from '#source';

const NOW = Date.UTC(2026, 10, 25);
const ms = (iso: string) => Date.parse(iso);
const file = readFileSync(path.join(import.meta.dirname, 'fixtures/fleet-hosts-hostile.json'));
const records = readJsonDocument(file);
const { rows, notes } = normaliseFleetHosts(records, { observedAt: NOW });
const ok = (row: HostRow | undefined) => (row?.ok ? row.version : undefined);
const refusal = (row: HostRow | undefined) => (row && !row.ok ? [row.stage, row.error.code, row.error.message] : undefined);
const notesOf = (index: number) => notes.filter((n) => n.index === index).map((n) => n.message);

describe('Fleet hosts, a hostile export', () => {
  it('lands every usable host and dead-letters the rest with a reason', () => {
    expect(rows.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual([
      'ok', 'ok', 'TETHER_NORMALISE_INVALID', 'TETHER_NORMALISE_INVALID', 'ok', 'TETHER_NORMALISE_INVALID', 'TETHER_DUPLICATE_CONFLICT',
      'ok', 'ok', 'ok', 'ok', 'ok', 'TETHER_NORMALISE_INVALID', 'TETHER_NORMALISE_INVALID', 'ok',
    ]);
    // Each keeps its host's bytes (an element of the list envelope, as JSON writes it).
    const hosts = (JSON.parse(file.toString()) as { hosts: unknown[] }).hosts;
    rows.forEach((row, i) => expect(row.raw.toString()).toBe(JSON.stringify(hosts[i])));
  });

  it('reads numbers written as strings, RFC 3339 with an offset and nanoseconds, IPv6 and IPv4-mapped addresses', () => {
    expect(ok(rows[0])).toMatchObject({
      device_id: 'serial:PF3ABC201',
      valid_from: ms('2026-11-20T09:00:00.123Z'),
      source: { source_time: '2026-11-20T10:00:00.123456789+01:00' },
      compliant: false, // failing_policies_count "2"
      managed: false, // enrollment_status null
      assigned_email: 'dee.park@example.com',
      ip_addresses: ['fe80::1c2b:3aff:fe4d:5e6f', '203.0.113.9'],
    });
    expect(notesOf(0)).toEqual([]); // a Go zero idp_info_updated_at is "never", not an error
  });

  it('splits IP lists, drops invalid and non-host addresses with a note, and keeps the host', () => {
    expect(ok(rows[1])).toMatchObject({ ip_addresses: ['10.0.0.5', '2001:db8::1', '198.51.100.7'], compliant: null });
    expect(notesOf(1)).toEqual([
      'primary_ip "999.10.10.10" is not an IP address: dropped',
      'public_ip "unknown" is not an IP address: dropped',
      'public_ip 127.0.0.1 names no single host: dropped',
    ]);
  });

  it('refuses a check-in in the far future, a missing one, one written as a number, and a host with no key', () => {
    expect(refusal(rows[2])).toEqual(['normalising', 'TETHER_NORMALISE_INVALID', 'host 2: seen_time "2099-01-01T00:00:00Z" is after the import (2026-11-25T00:00:00.000Z)']);
    expect(refusal(rows[3])).toEqual(['normalising', 'TETHER_NORMALISE_INVALID', 'host 3: host has neither a usable hardware_serial nor a uuid']);
    expect(refusal(rows[5])).toEqual(['normalising', 'TETHER_NORMALISE_INVALID', 'host 5: host has no seen_time (nor updated_at)']);
    expect(refusal(rows[12])).toEqual(['normalising', 'TETHER_NORMALISE_INVALID', 'host 12: seen_time is a number, not an RFC 3339 string']);
    expect(refusal(rows[13])?.[2]).toMatch(/^host 13: hardware_serial .* holds a control, invisible or replacement character$/);
  });

  it('reads a host that is null everywhere but its serial and updated_at', () => {
    expect(ok(rows[4])).toEqual({
      device_id: 'serial:PF3ABC205', valid_from: ms('2026-11-19T08:00:00Z'),
      source: { platform: 'fleet', feed: 'hosts', source_time: '2026-11-19T08:00:00Z', observed_at: NOW },
      active: true, serial: 'PF3ABC205', hostname: null, os: null, managed: false, compliant: null,
      assigned_person_id: null, assigned_email: null, ip_addresses: [],
    });
    expect(notesOf(4)).toEqual(['no seen_time: dated by updated_at']);
  });

  it('keeps one serial on two hosts as one device: the current enrolment wins the shared time, the other is dead-lettered', () => {
    expect(ok(rows[7])).toMatchObject({ device_id: 'serial:VMWARE-56 4D 11 22', hostname: 'vm-clone-b', assigned_email: 'frank@example.com' });
    expect(refusal(rows[6])).toEqual([
      'normalising', 'TETHER_DUPLICATE_CONFLICT',
      'host 6 gives serial:VMWARE-56 4D 11 22 a different version at 2026-11-20T09:00:00.000Z than host 7, which was kept (the current enrolment, then the higher Fleet id)',
    ]);
    expect(notesOf(6)).toEqual(['serial VMWARE-56 4D 11 22 is reported by 2 hosts with different uuids (hosts 6, 7): a clone or a re-imaged machine, kept as one device']);
  });

  it('keys a placeholder-serial host by the serial its uuid has elsewhere in the export', () => {
    expect([ok(rows[8])?.device_id, ok(rows[8])?.serial, ok(rows[9])?.device_id]).toEqual(['serial:MXL1234XYZ', null, 'serial:MXL1234XYZ']);
  });

  it('skips end users and mappings that are no address, and never trusts a Chrome profile', () => {
    expect(ok(rows[10])?.assigned_email).toBe('gus@example.com'); // custom_override, after two unusable end users
    expect(notesOf(10)).toEqual(['end_users[].idp_username "Gus <gus@example.com>" is not an address: skipped']);
  });

  it('survives fields of the wrong type', () => {
    expect(ok(rows[11])).toMatchObject({ managed: false, compliant: null, assigned_email: null, active: true });
  });

  it('takes a serial exported as a number, and ignores an enrolment time in the future', () => {
    expect(ok(rows[14])).toMatchObject({ device_id: 'serial:123456789', valid_from: ms('2026-11-20T08:00:00Z') });
    expect(notesOf(14)).toEqual(['last_enrolled_at "2099-12-31T00:00:00Z" is after the import (2026-11-25T00:00:00.000Z): ignored']);
  });

  it('decides duplicates the same way whatever the order of the export', () => {
    const reversed = normaliseFleetHosts([...records].reverse(), { observedAt: NOW });
    const outcome = (list: HostRow[]) => list.map((r) => (r.ok ? JSON.stringify(r.version) : r.raw.toString())).sort();
    expect(outcome(reversed.rows)).toEqual(outcome(rows));
  });

  it('refuses oversized values rather than storing them, and never throws on any JSON value', () => {
    const huge = normaliseFleetHost({ hardware_serial: 'S1', seen_time: '2026-11-20T08:00:00Z', hostname: 'h'.repeat(1 << 20) }, { observedAt: NOW });
    expect(huge).toMatchObject({ ok: false, error: { code: 'TETHER_RECORD_TOO_LARGE', message: 'hostname is 1048576 characters long; at most 255 are kept' } });
    for (const value of [null, 1, 'x', [], [1], { host: null }, { host: [] }, { hardware_serial: {}, uuid: [], seen_time: {} }, { end_users: [1, 'x', [], { idp_username: 5 }] }]) {
      expect(normaliseFleetHost(value, { observedAt: NOW }).ok).toBe(false);
    }
  });
});

describe('IP addresses and times', () => {
  it('writes addresses the one way the enricher compares them (#schemas normaliseIp), without those that name no single host', () => {
    const cases: [string, string | null][] = [
      ['10.0.0.1', '10.0.0.1'], [' 10.0.0.1 ', '10.0.0.1'], ['::ffff:10.0.0.1', '10.0.0.1'], ['::FFFF:0A00:0001', '10.0.0.1'],
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'], ['[2001:db8::1]', '2001:db8::1'], ['fe80::1%eth0', 'fe80::1'],
      ['010.0.0.1', null], ['256.0.0.1', null], ['10.0.0', null], ['10.0.0.1:443', null], ['gggg::1', null], ['', null],
      ['0.0.0.0', null], ['::', null], ['::1', null], ['127.0.0.53', null],
    ];
    for (const [text, ip] of cases) expect([text, hostIp(text)]).toEqual([text, ip === null ? { ok: false, reason: expect.any(String) } : { ok: true, ip }]);
  });

  it('reads only RFC 3339 date-times', () => {
    expect(parseRfc3339('2026-11-20T10:00:00Z')).toEqual({ ok: true, ms: ms('2026-11-20T10:00:00Z') });
    expect(parseRfc3339('2026-11-20t10:00:00.5-02:30')).toEqual({ ok: true, ms: ms('2026-11-20T12:30:00.500Z') });
    for (const text of ['2026-11-20', '2026-11-20T10:00:00', '2026-02-30T00:00:00Z', '1763625600', 'Thu, 20 Nov 2026 10:00:00 GMT', '2026-11-20T10:00:00+2400']) {
      expect([text, parseRfc3339(text).ok]).toEqual([text, false]);
    }
  });
});
