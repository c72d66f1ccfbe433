// What a line becomes whatever its transport, and what happens to bad ones:
// a truncated line, a line that is not JSON or not UTF-8, a query whose
// table Tether cannot place, a row with a value of the wrong type each go to
// the DLQ with their bytes and a reason, and the lines after them go on.
import { describe, expect, it } from 'vitest';
import { parseCatalogue } from '#catalogue';
import { endpointCatalogue } from '../src/endpoint-catalogue.ts';
import { parseJsonBytes, processResult, type HostStates, type ProcessorOptions } from '../src/results-processor.ts';

const catalogue = endpointCatalogue(parseCatalogue('version: 1\ntools:\n  - id: chatgpt\n    name: ChatGPT\n    processes: [{name: ChatGPT}]\n', 'test'));
const OPTIONS: ProcessorOptions = { catalogue, ingestedAt: 1, observedAt: 1, userDomain: 'example.com' };
const T = 1_772_438_400;

function line(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

/** A line through parse and process, as every transport does it. */
function run(hosts: HostStates, bytes: Buffer) {
  const parsed = parseJsonBytes(bytes);
  if (!parsed.ok) return { raw: bytes, result: { ok: false as const, stage: 'parsing' as const, error: parsed.error } };
  return processResult(hosts, parsed.value, bytes, OPTIONS);
}

describe('osquery results, line by line', () => {
  const good = [
    { name: 'pack/it/system_info', hostIdentifier: 'h1', unixTime: T, counter: 0, columns: { hostname: 'h1', uuid: 'U1', hardware_serial: 'S1', cpu_brand: 'x' }, action: 'added' },
    { name: 'pack/it/procs', hostIdentifier: 'h1', unixTime: T + 60, counter: 1, columns: { pid: '1', name: 'ChatGPT', path: '/Applications/ChatGPT.app/Contents/MacOS/ChatGPT', uid: '501' }, action: 'added' },
  ].map(line);
  const bad: [string, Buffer, RegExp][] = [
    ['a truncated line', line(JSON.stringify({ name: 'pack/it/procs', hostIdentifier: 'h1' }).slice(0, 25)), /not JSON/],
    ['a line that is not JSON', line('osqueryd[123]: I1207 worker.cpp:42] started'), /not JSON/],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), /not valid UTF-8/],
    ['a query no table Tether reads', line({ name: 'pack/it/crontab', hostIdentifier: 'h1', unixTime: T, columns: { command: 'x', minute: '*' }, action: 'added' }), /match no table Tether reads; name its table in TETHER_OSQUERY_TABLES/],
    ['a row with a value of the wrong type', line({ name: 'pack/it/procs', hostIdentifier: 'h1', unixTime: T, columns: { pid: { nested: 1 }, name: 'x', path: '/x' }, action: 'added' }), /neither text nor a number/],
  ];

  it.each(bad)('%s goes to the DLQ with its exact bytes and a reason, and the next line goes on', (_what, bytes, reason) => {
    const hosts: HostStates = new Map();
    const [first, ...rest] = [good[0]!, bytes, good[1]!].map((b) => run(hosts, b));
    expect(first!.result.ok).toBe(true);
    const dead = rest[0]!;
    expect(dead.result.ok).toBe(false);
    expect(dead.raw).toEqual(bytes);
    if (!dead.result.ok) expect(String((dead.result.error as Error).message)).toMatch(reason);
    const after = rest[1]!;
    expect(after.result.ok && after.result.records.map((r) => r.role)).toEqual(['accessRaw']);
  });

  it('a query the operator names is read, however its columns look', () => {
    const hosts: HostStates = new Map();
    run(hosts, good[0]!);
    const who = line({ name: 'pack/it/who', hostIdentifier: 'h1', unixTime: T + 5, counter: 0, columns: { user: 'ana', time: String(T) }, action: 'added' });
    expect(run(hosts, who).result.ok).toBe(false);
    const named = processResult(hosts, JSON.parse(who.toString()), who, { ...OPTIONS, tableMapping: { who: 'logged_in_users' } });
    expect(named.result.ok && named.result.records.map((r) => r.role === 'identityDevices' && r.value.assigned_email)).toEqual(['ana@example.com']);
  });
});
