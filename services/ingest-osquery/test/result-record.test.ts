import { describe, expect, it } from 'vitest';
import { fixtureLines } from './fixtures.ts';
import { readResultRecord, type ResultRecord } from '../src/result-record.ts';
import { tableKindOf } from '../src/table-kind.ts';

const lines = fixtureLines;
const read = (value: unknown): ResultRecord => {
  const r = readResultRecord(value);
  if (!r.ok) throw r.error;
  return r.record;
};

describe('osquery result records', () => {
  it('reads event lines: one row each, with its action, the run time from unixTime and the decorations', () => {
    const [info, , , , processes, removed] = lines('results-event.jsonl').map(read);
    expect(info).toMatchObject({
      name: 'pack/Global/system_info', hostIdentifier: '6F0E2C1A-1B2C-4D5E-8F90-0A1B2C3D4E5F', shape: 'event',
      timeMs: 1_772_438_400_000, timeRaw: 'Mon Mar  2 08:00:00 2026 UTC', epoch: 0, counter: 0,
      decorations: { hostname: 'lt-0042.corp.example.com' },
    });
    expect(processes!.rows).toEqual([{ action: 'added', columns: expect.objectContaining({ name: 'ChatGPT', pid: '4711' }) }]);
    expect(removed!.rows[0]!.action).toBe('removed');
  });

  it('reads batch lines (diffResults) with numerics true as the same text rows as numerics false', () => {
    const [batch] = lines('results-batch-numerics.jsonl').map(read);
    expect(batch!.shape).toBe('batch');
    expect(batch!.rows.map((r) => r.action)).toEqual(['added', 'added', 'removed']);
    expect(batch!.rows[0]!.columns).toMatchObject({ pid: '9001', remote_port: '443', remote_address: '198.51.100.25' });
    const asStrings = read({ ...(lines('results-batch-numerics.jsonl')[0] as object), numerics: false, diffResults: { added: [{ pid: '9001', remote_port: '443' }] } });
    const asNumbers = read({ ...(lines('results-batch-numerics.jsonl')[0] as object), diffResults: { added: [{ pid: 9001, remote_port: 443 }] } });
    expect(asNumbers.rows).toEqual(asStrings.rows);
  });

  it('reads snapshots, a unixTime written as a string, and calendarTime alone', () => {
    const [extensions, addresses] = lines('results-snapshot.jsonl').map(read);
    expect(extensions).toMatchObject({ shape: 'snapshot', timeMs: 1_772_442_600_000 });
    expect(extensions!.rows).toHaveLength(2);
    expect(addresses!.timeMs).toBe(1_772_442_600_000);
    expect(addresses!.timeRaw).toBe('Mon Mar  2 09:10:00 2026 UTC');
    // One line per snapshot row (--logger_snapshot_event_type).
    const perRow = read({ name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600, action: 'snapshot', columns: { a: '1' } });
    expect(perRow).toMatchObject({ shape: 'snapshot', rows: [{ action: 'snapshot', columns: { a: '1' } }] });
  });

  it('falls back to hostname when hostIdentifier is missing (the docs\' examples)', () => {
    expect(read({ name: 'q', hostname: 'lt-1', unixTime: 1_772_442_600, action: 'added', columns: {} }).hostIdentifier).toBe('lt-1');
  });

  it.each([
    ['not an object', [1, 2]],
    ['no name', { hostIdentifier: 'h', unixTime: 1_772_442_600, action: 'added', columns: {} }],
    ['no host', { name: 'q', unixTime: 1_772_442_600, action: 'added', columns: {} }],
    ['no time', { name: 'q', hostIdentifier: 'h', action: 'added', columns: {} }],
    ['milliseconds in unixTime', { name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600_000, action: 'added', columns: {} }],
    ['a fractional unixTime', { name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600.5, action: 'added', columns: {} }],
    ['a calendarTime with the wrong weekday', { name: 'q', hostIdentifier: 'h', calendarTime: 'Tue Mar  2 09:10:00 2026 UTC', action: 'added', columns: {} }],
    ['a calendarTime with no zone', { name: 'q', hostIdentifier: 'h', calendarTime: 'Mon Mar  2 09:10:00 2026', action: 'added', columns: {} }],
    ['an unknown action', { name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600, action: 'changed', columns: {} }],
    ['a nested column value', { name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600, action: 'added', columns: { a: { b: 1 } } }],
    ['a negative counter', { name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600, counter: -1, action: 'added', columns: {} }],
    ['diffResults that is a list', { name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600, diffResults: [] }],
  ])('refuses %s with a typed error', (_what, value) => {
    const r = readResultRecord(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('TETHER_NORMALISE_INVALID');
  });

  it('keeps a column named like an Object prototype member as data', () => {
    const r = read({ name: 'q', hostIdentifier: 'h', unixTime: 1_772_442_600, action: 'added', columns: { constructor: 'x', __proto__: 'y' } });
    expect(Object.hasOwn(r.rows[0]!.columns, 'constructor')).toBe(true);
  });
});

describe('which table a query reads', () => {
  const rows = (columns: Record<string, string>) => [{ action: 'added' as const, columns }];
  it('knows the tables by their columns, whatever the query is called', () => {
    const records = [...lines('results-event.jsonl'), ...lines('results-batch-numerics.jsonl'), ...lines('results-snapshot.jsonl')].map(read);
    expect(records.map((r) => tableKindOf(r.name, r.rows))).toEqual([
      'system_info', 'interface_addresses', 'interface_addresses', 'logged_in_users', 'processes', 'interface_addresses',
      'process_open_sockets', 'chrome_extensions', 'interface_addresses',
    ]);
  });
  it('lets the operator name the table of a query whose columns do not tell', () => {
    expect(tableKindOf('pack/it/who', rows({ user: 'ana' }))).toBeNull();
    expect(tableKindOf('pack/it/who', rows({ user: 'ana' }), { who: 'logged_in_users' })).toBe('logged_in_users');
    expect(tableKindOf('pack/it/who', rows({ user: 'ana' }), { constructor: 'processes' } as never)).toBeNull();
  });
});
