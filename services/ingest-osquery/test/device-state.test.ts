import { describe, expect, it } from 'vitest';
import { fixtureRecords } from './fixtures.ts';
import type { DeviceVersion } from '#schemas';
import { applyResult, emptyHostState, type HostState } from '../src/device-state.ts';
import type { ResultRecord } from '../src/result-record.ts';

const records = fixtureRecords;

const OPTIONS = { observedAt: 1_772_600_000_000, userDomain: 'example.com' };

function fold(input: readonly ResultRecord[], options = OPTIONS): { state: Map<string, HostState>; versions: DeviceVersion[] } {
  const state = new Map<string, HostState>();
  const versions: DeviceVersion[] = [];
  for (const record of input) {
    const step = applyResult(state.get(record.hostIdentifier) ?? emptyHostState(record.hostIdentifier), record, options);
    state.set(record.hostIdentifier, step.state);
    if (step.version) versions.push(step.version);
  }
  return { state, versions };
}

const at = (iso: string) => Date.parse(iso);
function run(host: string, name: string, time: string, rows: { action: 'added' | 'removed' | 'snapshot'; columns: Record<string, string> }[], counter = 1, epoch = 0): ResultRecord {
  return { name, hostIdentifier: host, timeMs: at(time), timeRaw: time, epoch, counter, decorations: {}, shape: rows[0]?.action === 'snapshot' ? 'snapshot' : 'event', rows };
}
const info = (serial: string, uuid: string, hostname: string) => ({ hostname, uuid, hardware_serial: serial, cpu_brand: 'x' });
const iface = (address: string) => ({ interface: 'en0', address, mask: '255.255.255.0' });
const login = (user: string, time: number) => ({ type: 'user', user, tty: 'console', host: '', time: String(time) });

describe('device state over time from osquery', () => {
  it('opens a lease when an address is added and closes it when removed, each version valid from its run', () => {
    const { versions } = fold(records('results-event.jsonl'));
    expect(versions.map((v) => [new Date(v.valid_from).toISOString(), v.ip_addresses, v.assigned_email])).toEqual([
      ['2026-03-02T08:00:00.000Z', [], null],
      ['2026-03-02T08:00:00.000Z', ['10.20.30.40'], null], // loopback is not an address anyone else sees
      ['2026-03-02T08:01:00.000Z', ['10.20.30.40'], 'ana@example.com'],
      ['2026-03-02T12:00:00.000Z', [], 'ana@example.com'],
    ]);
    expect(versions[0]).toMatchObject({ device_id: 'serial:C02FAKE0042', serial: 'C02FAKE0042', hostname: 'lt-0042.corp.example.com', managed: true, source: { platform: 'osquery', feed: 'pack/Global/system_info' } });
  });

  it('a snapshot replaces the addresses; link-local are dropped and IPv4-mapped IPv6 is stored as IPv4', () => {
    const { versions } = fold([...records('results-event.jsonl').slice(0, 2), ...records('results-snapshot.jsonl')]);
    expect(versions.at(-1)!.ip_addresses).toEqual(['10.20.30.41', '203.0.113.9']);
  });

  it('keys a host with no system_info by its identity decorations, and waits when it has none', () => {
    const noIdentity = run('h-1', 'ifaces', '2026-03-02T08:00:00Z', [{ action: 'added', columns: iface('10.0.0.5') }]);
    const step = applyResult(emptyHostState('h-1'), noIdentity, OPTIONS);
    expect(step.version).toBeNull();
    expect(step.reason).toMatch(/no device identity/);
    const [batch] = records('results-batch-numerics.jsonl');
    const decorated = { ...noIdentity, decorations: batch!.decorations };
    expect(applyResult(step.state, decorated, OPTIONS).version).toMatchObject({ device_id: 'serial:PF3FAKE07', ip_addresses: ['10.0.0.5'] });
  });

  it('an address held by two devices on two days belongs to each on its own day', () => {
    const { versions } = fold([
      run('A', 'info', '2026-03-01T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA', 'a') }], 0),
      run('A', 'ifaces', '2026-03-01T08:00:00Z', [{ action: 'added', columns: iface('10.9.9.9') }], 0),
      run('A', 'ifaces', '2026-03-01T18:00:00Z', [{ action: 'removed', columns: iface('10.9.9.9') }], 1),
      run('B', 'info', '2026-03-02T08:00:00Z', [{ action: 'added', columns: info('SERB', 'UB', 'b') }], 0),
      run('B', 'ifaces', '2026-03-02T08:00:00Z', [{ action: 'added', columns: iface('10.9.9.9') }], 0),
    ]);
    const holder = (t: string) => {
      const asOf = new Map<string, DeviceVersion>();
      for (const v of versions) if (v.valid_from <= at(t)) asOf.set(v.device_id, v);
      return [...asOf.values()].filter((v) => v.ip_addresses.includes('10.9.9.9')).map((v) => v.device_id);
    };
    expect(holder('2026-03-01T12:00:00Z')).toEqual(['serial:SERA']);
    expect(holder('2026-03-02T12:00:00Z')).toEqual(['serial:SERB']);
    expect(holder('2026-03-01T20:00:00Z')).toEqual([]);
  });

  it('the user is whoever has the latest session; a handover makes a new version from its time', () => {
    const { versions } = fold([
      run('A', 'info', '2026-03-01T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA', 'a') }], 0),
      run('A', 'who', '2026-03-01T08:00:00Z', [{ action: 'added', columns: login('ana', 1) }], 0),
      run('A', 'who', '2026-03-05T09:00:00Z', [{ action: 'removed', columns: login('ana', 1) }, { action: 'added', columns: login('CORP\\ben', 2) }], 1),
    ]);
    expect(versions.map((v) => [new Date(v.valid_from).toISOString(), v.assigned_email])).toEqual([
      ['2026-03-01T08:00:00.000Z', null],
      ['2026-03-01T08:00:00.000Z', 'ana@example.com'],
      ['2026-03-05T09:00:00.000Z', 'ben@example.com'],
    ]);
  });

  it('a local user names nobody without the operator\'s domain; system sessions are never users', () => {
    const { versions } = fold([
      run('A', 'info', '2026-03-01T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA', 'a') }], 0),
      run('A', 'who', '2026-03-01T08:00:00Z', [{ action: 'added', columns: login('ana', 1) }, { action: 'added', columns: { type: 'boot_time', user: 'reboot', tty: '~', host: '', time: '9' } }], 0),
    ], { observedAt: 0, userDomain: null as unknown as string });
    expect(versions.at(-1)!.assigned_email).toBeNull();
  });

  it('a re-imaged laptop (counter back to 0, new host identifier) handed to a new person splits its history', () => {
    const { versions } = fold([
      run('instance-1', 'info', '2026-03-01T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA', 'a') }], 0),
      run('instance-1', 'who', '2026-03-01T08:00:00Z', [{ action: 'added', columns: login('ana', 1) }], 0),
      run('instance-1', 'ifaces', '2026-03-01T08:00:00Z', [{ action: 'added', columns: iface('10.1.1.1') }], 0),
      run('instance-2', 'info', '2026-03-10T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA2', 'a-new') }], 0),
      run('instance-2', 'who', '2026-03-10T08:05:00Z', [{ action: 'added', columns: login('carla', 5) }], 0),
    ]);
    const last = versions.at(-1)!;
    expect(last).toMatchObject({ device_id: 'serial:SERA', assigned_email: 'carla@example.com', hostname: 'a-new', ip_addresses: [] });
    const before = versions.filter((v) => v.valid_from < at('2026-03-10T00:00:00Z')).at(-1)!;
    expect(before.assigned_email).toBe('ana@example.com');
  });

  it('osquery restarting (counter 0 again) replaces the set instead of adding to it', () => {
    const { versions } = fold([
      run('A', 'info', '2026-03-01T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA', 'a') }], 0),
      run('A', 'ifaces', '2026-03-01T08:00:00Z', [{ action: 'added', columns: iface('10.1.1.1') }], 0),
      // Restarted with a new address: the removal of the old one was never logged.
      run('A', 'ifaces', '2026-03-02T08:00:00Z', [{ action: 'added', columns: iface('10.1.1.2') }], 0, 1),
    ]);
    expect(versions.at(-1)!.ip_addresses).toEqual(['10.1.1.2']);
  });

  it('a run that changes nothing makes no version, and a second line of the same initial run adds to it', () => {
    const first = run('A', 'ifaces', '2026-03-01T08:00:00Z', [{ action: 'added', columns: iface('10.1.1.1') }], 0);
    const { versions } = fold([
      run('A', 'info', '2026-03-01T08:00:00Z', [{ action: 'added', columns: info('SERA', 'UA', 'a') }], 0),
      first,
      { ...first, rows: [{ action: 'added', columns: iface('10.1.1.3') }] },
      run('A', 'info', '2026-03-01T09:00:00Z', [{ action: 'snapshot', columns: info('SERA', 'UA', 'a') }], 2),
    ]);
    expect(versions.map((v) => v.ip_addresses)).toEqual([[], ['10.1.1.1'], ['10.1.1.1', '10.1.1.3']]);
  });
});
