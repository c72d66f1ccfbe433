// What people look like after imports, as a compacted identity topic and the
// enricher see them: the last value per '<person_id>@<valid_from>' key, and
// a person as of t is their version with the latest valid_from <= t.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PersonVersion } from '#schemas';
import { normaliseDirectoryCsv, type DirectoryImport } from '../src/csv-directory.ts';
import { parseIsoTime } from '../src/iso-time.ts';

const NOW = Date.UTC(2026, 10, 25);
const ms = (iso: string) => Date.parse(iso);
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name));
const parse = (csv: string | Buffer, observedAt = NOW) => normaliseDirectoryCsv(typeof csv === 'string' ? Buffer.from(csv) : csv, { observedAt });
const versions = (parsed: DirectoryImport) => parsed.rows.flatMap((r) => (r.ok ? r.versions : []));
const HEADER = 'email,external_id,status,source,updated_at';

class CompactedTopic {
  readonly #byKey = new Map<string, PersonVersion>();

  land(parsed: DirectoryImport): this {
    for (const v of versions(parsed)) this.#byKey.set(`${v.person_id}@${v.valid_from}`, v);
    return this;
  }

  asOf(personId: string, t: number): PersonVersion | undefined {
    return [...this.#byKey.values()].filter((v) => v.person_id === personId && v.valid_from <= t).sort((a, b) => b.valid_from - a.valid_from)[0];
  }

  /** Everyone's state at t, without the import time (which differs by import, not by content). */
  stateAt(t: number): Record<string, unknown> {
    const ids = [...new Set([...this.#byKey.values()].map((v) => v.person_id))].sort();
    return Object.fromEntries(ids.map((id) => {
      const v = this.asOf(id, t);
      return [id, v ? { ...v, source: { ...v.source, observed_at: 0 } } : null];
    }));
  }

  holdersOf(email: string, t: number): { id: string; active: boolean }[] {
    const ids = [...new Set([...this.#byKey.values()].map((v) => v.person_id))].sort();
    return ids.flatMap((id) => {
      const v = this.asOf(id, t);
      return v?.email === email ? [{ id, active: v.active }] : [];
    });
  }
}

describe('two exports of one directory (rename, reused address, leaver, rehire)', () => {
  const older = fixture('workday-2026-10-01.csv');
  const newer = fixture('workday-2026-11-20.csv');

  it('an older export imported after the newer one changes nobody as of now, nor at any earlier time', () => {
    const inOrder = new CompactedTopic().land(parse(older, ms('2026-10-01T06:00:00Z'))).land(parse(newer, ms('2026-11-20T06:00:00Z')));
    const late = new CompactedTopic().land(parse(newer, ms('2026-11-20T06:00:00Z'))).land(parse(older, NOW));
    for (const t of [NOW, ms('2026-11-12T00:00:00Z'), ms('2026-10-15T00:00:00Z'), ms('2026-08-01T00:00:00Z'), ms('2026-06-13T00:00:00Z')]) {
      expect(late.stateAt(t)).toEqual(inOrder.stateAt(t));
    }
    // And as of now everyone is as the newer export says.
    const newest = new CompactedTopic().land(parse(newer)).stateAt(NOW);
    expect(late.stateAt(NOW)).toEqual(newest);
  });

  it('importing the same export again gives the same keys and the same versions (only the import time differs)', () => {
    const first = parse(newer, ms('2026-11-20T06:00:00Z'));
    const again = parse(newer, NOW);
    const keyed = (p: DirectoryImport) => versions(p).map((v) => [`${v.person_id}@${v.valid_from}`, { ...v, source: { ...v.source, observed_at: 0 } }]);
    expect(keyed(again)).toEqual(keyed(first));
    expect(versions(again).every((v) => v.source.observed_at === NOW)).toBe(true);
  });

  it('reads rows in any order to the same versions', () => {
    const lines = newer.toString().trimEnd().split('\n');
    const shuffled = [lines[0], ...lines.slice(1).reverse()].join('\n');
    const byKey = (p: DirectoryImport) => new Map(versions(p).map((v) => [`${v.person_id}@${v.valid_from}`, v]));
    expect(byKey(parse(shuffled))).toEqual(byKey(parse(newer)));
  });

  const topic = new CompactedTopic().land(parse(newer)).land(parse(older));

  it('keeps a renamed person under one id: the old address until the rename, the new one after', () => {
    expect(topic.asOf('workday:E500', ms('2026-10-15T00:00:00Z'))?.email).toBe('carol.white@example.com');
    expect(topic.asOf('workday:E500', NOW)).toMatchObject({ email: 'carol.black@example.com', display_name: 'Carol Black' });
  });

  it('gives a reused address to the leaver before they left and to the joiner from their first day, never to both', () => {
    expect(topic.holdersOf('ana.lima@example.com', ms('2026-08-01T00:00:00Z'))).toEqual([{ id: 'workday:E200', active: true }]);
    expect(topic.holdersOf('ana.lima@example.com', ms('2026-10-15T00:00:00Z'))).toEqual([{ id: 'workday:E200', active: false }]);
    expect(topic.holdersOf('ana.lima@example.com', NOW)).toEqual([{ id: 'workday:E200', active: false }, { id: 'workday:E400', active: true }]);
    expect(parse(newer).notes.filter((n) => n.kind === 'email_shared')).toEqual([]);
  });

  it('makes a leaver inactive from end_date, and again from when HR entered it', () => {
    const ana = versions(parse(newer)).filter((v) => v.person_id === 'workday:E200');
    expect(ana.map((v) => [v.valid_from, v.lifecycle_state])).toEqual([[ms('2026-09-30T00:00:00Z'), 'inactive'], [ms('2026-10-03T16:20:00Z'), 'inactive']]);
  });

  it('rehires a leaver from the start date, not from when the pre-hire row was entered', () => {
    expect(topic.asOf('workday:E600', ms('2026-07-01T00:00:00Z'))?.lifecycle_state).toBe('inactive');
    expect(topic.asOf('workday:E600', ms('2026-11-12T00:00:00Z'))?.lifecycle_state).toBe('inactive');
    expect(topic.asOf('workday:E600', ms('2026-11-16T00:00:00Z'))).toMatchObject({ lifecycle_state: 'active', active: true, manager_person_id: 'workday:E100' });
  });

  it('keeps a leaver whose termination was backdated before a later update inactive as of now', () => {
    const csv = `${HEADER},end_date\nx@example.com,E1,active,hr,2026-09-28,\nx@example.com,E1,terminated,hr,2026-10-03,2026-09-25\n`;
    const t = new CompactedTopic().land(parse(csv));
    expect(t.asOf('hr:E1', NOW)?.active).toBe(false);
    expect(t.asOf('hr:E1', ms('2026-09-26T00:00:00Z'))?.active).toBe(false);
  });
});

describe('one employee id twice in one file', () => {
  const row = (status: string, updated: string, dept: string, end = '') => `ana@example.com,E1,${status},hr,${updated},${dept},${end}`;
  const file = (...rows: string[]) => `${HEADER},department,end_date\n${rows.join('\n')}\n`;
  const outcome = (p: DirectoryImport) => p.rows.map((r) => (r.ok ? r.versions.map((v) => [v.valid_from, v.department, v.lifecycle_state]) : r.error.code));

  it('keeps both rows as history when they are dated differently', () => {
    expect(outcome(parse(file(row('active', '2026-01-01', 'Sales'), row('active', '2026-06-01', 'Finance'))))).toEqual([
      [[ms('2026-01-01T00:00:00Z'), 'Sales', 'active']],
      [[ms('2026-06-01T00:00:00Z'), 'Finance', 'active']],
    ]);
  });

  it('lands an identical duplicate as the same version (one key)', () => {
    const parsed = parse(file(row('active', '2026-01-01', 'Sales'), row('active', '2026-01-01T00:00:00Z', 'Sales')));
    expect(parsed.rows.every((r) => r.ok)).toBe(true);
    expect(new Set(versions(parsed).map((v) => v.valid_from)).size).toBe(1);
  });

  it('at the same time with different content: the same row wins whatever the order, the other is dead-lettered', () => {
    const a = row('active', '2026-01-01', 'Sales');
    const b = row('active', '2026-01-01', 'Finance');
    for (const order of [[a, b], [b, a]]) {
      const parsed = parse(file(...order));
      const kept = versions(parsed);
      expect(kept.map((v) => v.department)).toEqual(['Finance']); // "…Finance" sorts before "…Sales"
      const lost = parsed.rows.find((r) => !r.ok)!;
      expect(lost.raw.toString()).toBe(a);
      expect(!lost.ok && lost.error).toMatchObject({
        code: 'TETHER_DUPLICATE_CONFLICT',
        message: expect.stringMatching(/gives hr:E1 a different version at 2026-01-01T00:00:00.000Z than line \d, which was kept \(same status/),
      });
    }
  });

  it('at the same time, different managers are different versions too', () => {
    const csv = `${HEADER},manager_email\nana@example.com,E1,active,hr,2026-01-01,bo@example.com\nana@example.com,E1,active,hr,2026-01-01,cy@example.com\n` +
      'bo@example.com,E2,active,hr,2026-01-01,\ncy@example.com,E3,active,hr,2026-01-01,\n';
    const parsed = parse(csv);
    expect(parsed.rows.map((r) => (r.ok ? r.versions[0]!.manager_person_id : r.error.code))).toEqual(['hr:E2', 'TETHER_DUPLICATE_CONFLICT', null, null]);
  });

  it('at the same time, a termination outranks an active row in either order (a stale duplicate never resurrects a leaver)', () => {
    const active = row('active', '2026-10-01', 'Sales');
    const left = row('terminated', '2026-10-01', 'Sales');
    for (const order of [[active, left], [left, active]]) {
      const parsed = parse(file(...order));
      expect(versions(parsed).map((v) => v.lifecycle_state)).toEqual(['inactive']);
      expect(parsed.rows.filter((r) => !r.ok).map((r) => r.raw.toString())).toEqual([active]);
    }
  });
});

describe('addresses', () => {
  it('trims and lower-cases addresses, quoted or not', () => {
    const parsed = parse(`${HEADER}\n"  Ana.Lima@EXAMPLE.com ",E1,active,hr,2026-01-01\n Bo@Example.COM\t,E2,active,hr,2026-01-01\n`);
    expect(versions(parsed).map((v) => v.email)).toEqual(['ana.lima@example.com', 'bo@example.com']);
  });

  it('refuses what is not a bare address', () => {
    const bad = ['ana lima@example.com', 'Ana <ana@example.com>', 'mailto:ana@example.com', 'ana@', '@example.com', 'a@b@example.com', 'ana@example..com', 'ana@example.com.'];
    const parsed = parse(`${HEADER}\n${bad.map((e, i) => `"${e}",E${i},active,hr,2026-01-01`).join('\n')}\n`);
    expect(parsed.rows.map((r) => (r.ok ? 'ok' : r.error.message.replace(/^line \d+: /, '')))).toEqual(bad.map((e) => `email ${JSON.stringify(e)} is not an address`));
  });

  it('lands two active people sharing one address, and says so', () => {
    const csv = `${HEADER}\nana@example.com,E1,active,hr,2026-01-01\nANA@example.com,E2,active,hr,2026-03-01\n`;
    const parsed = parse(csv);
    expect(parsed.rows.every((r) => r.ok)).toBe(true);
    expect(parsed.notes).toEqual([{ kind: 'email_shared', line: 3, message: 'ana@example.com is held by hr:E1 and hr:E2, both active, from 2026-03-01T00:00:00.000Z: events with it are ambiguous' }]);
  });
});

describe('dates', () => {
  it('reads the ISO 8601 forms an HR export writes', () => {
    const read = {
      '2026-09-30': '2026-09-30T00:00:00.000Z',
      '2026-09-30T10:00:00Z': '2026-09-30T10:00:00.000Z',
      '2026-09-30t10:00z': '2026-09-30T10:00:00.000Z',
      '2026-09-30 10:00': '2026-09-30T10:00:00.000Z',
      '2026-09-30T10:00:00.123456+05:30': '2026-09-30T04:30:00.123Z',
      '2026-09-30T10:00:00,5-0300': '2026-09-30T13:00:00.500Z',
      '2026-09-30T10:00+02': '2026-09-30T08:00:00.000Z',
      '20260930': '2026-09-30T00:00:00.000Z',
      '20260930T100000Z': '2026-09-30T10:00:00.000Z',
      '2024-02-29': '2024-02-29T00:00:00.000Z',
    };
    for (const [text, iso] of Object.entries(read)) expect([text, parseIsoTime(text)]).toEqual([text, { ok: true, ms: ms(iso) }]);
  });

  it('refuses everything else rather than guessing', () => {
    const garbage = ['09/30/2026', '30.09.2026', '2026/09/30', '2026-9-30', '2026-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '0000-00-00',
      '2026-09-30T24:00', '2026-09-30T10:60', '2026-09-30T10:00+25:00', '46000', 'N/A', 'yesterday', '2026-W40-3', '2026-273', ' 2026-09-30T', '2026-09-30Z'];
    for (const text of garbage) expect([text, parseIsoTime(text).ok]).toEqual([text, false]);
  });

  it('refuses a row with a garbage optional date, a date before 1970 or a change dated after the import', () => {
    const parsed = parse(`${HEADER},start_date,end_date\n` + [
      'a@example.com,E1,active,hr,2026-01-01,01/02/2026,',
      'b@example.com,E2,active,hr,1969-12-31,,',
      'c@example.com,E3,active,hr,9999-12-31,,',
      'd@example.com,E4,terminated,hr,2026-10-01,,2150-01-01',
    ].join('\n'));
    expect(parsed.rows.map((r) => (r.ok ? r.versions.map((v) => new Date(v.valid_from).toISOString()) : r.error.message))).toEqual([
      'line 2: start_date "01/02/2026" is not an ISO 8601 date (YYYY-MM-DD, optionally with a time)',
      'line 3: the version would hold from 1969-12-31T00:00:00.000Z, outside 1970..2200',
      'line 4: updated_at "9999-12-31" is after the import (2026-11-25T00:00:00.000Z): a change cannot be dated in the future',
      // A leave scheduled far ahead is a date, not a clock error.
      ['2150-01-01T00:00:00.000Z'],
    ]);
  });
});

describe('managers', () => {
  const file = (rows: string[]) => `${HEADER},employee_number,manager_email,manager_employee_number,manager_external_id,end_date\n${rows.join('\n')}\n`;
  const managers = (p: DirectoryImport) => Object.fromEntries(p.rows.flatMap((r) => (r.ok ? [[`line ${r.line}`, r.versions.map((v) => v.manager_person_id)]] : [])));

  it('keeps a person whose manager is not in the file: null for an address or number, the id itself for an id', () => {
    const parsed = parse(file([
      'a@example.com,E1,active,hr,2026-01-01,1,ghost@example.com,,,',
      'b@example.com,E2,active,hr,2026-01-01,2,,999,,',
      'c@example.com,E3,active,hr,2026-01-01,3,,,E999,',
      'd@example.com,E4,active,hr,2026-01-01,4,,,E4,',
    ]));
    expect(managers(parsed)).toEqual({ 'line 2': [null], 'line 3': [null], 'line 4': ['hr:E999'], 'line 5': [null] });
    expect(parsed.notes.map((n) => [n.kind, n.line, n.message])).toEqual([
      ['manager_unknown', 2, 'manager of hr:E1 not resolved: manager_email "ghost@example.com" is held by nobody in this file'],
      ['manager_unknown', 3, 'manager of hr:E2 not resolved: manager_employee_number "999" is held by nobody in this file'],
      ['manager_not_in_file', 4, 'manager hr:E999 (manager_external_id) is not in this file; the reference is kept'],
    ]);
  });

  it('names whoever held a reused address at the report\'s time', () => {
    const parsed = parse(file([
      'r2@example.com,E20,active,hr,2026-11-10,20,ana@example.com,,,',
      'ana@example.com,E1,active,hr,2026-03-01,1,,,,',
      'ana@example.com,E1,terminated,hr,2026-09-30,1,,,,2026-09-30',
      'ana@example.com,E2,active,hr,2026-11-01,2,,,,',
      'r1@example.com,E10,active,hr,2026-05-01,10,ana@example.com,,,',
    ]));
    expect(managers(parsed)['line 2']).toEqual(['hr:E2']);
    expect(managers(parsed)['line 6']).toEqual(['hr:E1']);
  });

  it('names nobody when two active people hold the manager\'s address at once', () => {
    const parsed = parse(file([
      'x@example.com,E1,active,hr,2026-01-01,1,,,,',
      'x@example.com,E2,active,hr,2026-01-01,2,,,,',
      'r@example.com,E3,active,hr,2026-02-01,3,x@example.com,,,',
    ]));
    expect(managers(parsed)['line 4']).toEqual([null]);
    expect(parsed.notes.map((n) => n.kind).sort()).toEqual(['email_shared', 'manager_ambiguous']);
  });

  it('lands a manager cycle as stated and reports it once', () => {
    const parsed = parse(file([
      'a@example.com,E1,active,hr,2026-01-01,1,,2,,',
      'b@example.com,E2,active,hr,2026-01-01,2,c@example.com,,,',
      'c@example.com,E3,active,hr,2026-01-01,3,,,E1,',
    ]));
    expect(managers(parsed)).toEqual({ 'line 2': ['hr:E2'], 'line 3': ['hr:E3'], 'line 4': ['hr:E1'] });
    expect(parsed.notes).toEqual([{ kind: 'manager_cycle', line: 2, message: 'managers form a cycle: hr:E1 -> hr:E2 -> hr:E3 -> hr:E1' }]);
  });

  it('walks a 100k-person management chain without recursion', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `p${i}@example.com,E${i},active,hr,2026-01-01,${i},,${i + 1 < 100_000 ? i + 1 : ''},,`);
    const parsed = parse(file(rows));
    expect(parsed.rows.filter((r) => r.ok)).toHaveLength(100_000);
    expect(parsed.notes).toEqual([]);
  });
});
