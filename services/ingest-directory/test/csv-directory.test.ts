import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseDirectoryCsv } from '../src/csv-directory.ts';
import { parseIsoTime } from '../src/iso-time.ts';

const fixture = readFileSync(path.join(import.meta.dirname, 'fixtures/hr-history.csv'));
const OBSERVED = Date.UTC(2026, 10, 25);
const { rows } = normaliseDirectoryCsv(fixture, { observedAt: OBSERVED });
const ok = rows.flatMap((r) => (r.ok ? r.versions : []));
const ms = (iso: string) => Date.parse(iso);

describe('directory CSV', () => {
  it('turns a join, a move and a leave into ordered versions of one person', () => {
    const ana = ok.filter((v) => v.person_id === 'workday:E200');
    expect(ana.map((v) => [v.valid_from, v.department, v.lifecycle_state, v.active])).toEqual([
      [ms('2026-03-02T09:00:00Z'), 'Research', 'active', true],
      [ms('2026-07-01T00:00:00Z'), 'Platform', 'active', true],
      // The leave holds from end_date; entered later, it is stated again then, so no
      // version dated between the two can leave Ana active as of now.
      [ms('2026-09-30T00:00:00Z'), 'Platform', 'inactive', false],
      [ms('2026-10-03T16:20:00Z'), 'Platform', 'inactive', false],
    ]);
    expect(ana[0]).toEqual({
      person_id: 'workday:E200',
      record_kind: 'directory',
      valid_from: ms('2026-03-02T09:00:00Z'),
      source: { platform: 'workday', feed: 'directory_csv', source_time: '2026-03-02T09:00:00Z', observed_at: OBSERVED },
      active: true,
      lifecycle_state: 'active',
      email: 'ana.lima@example.com',
      display_name: 'Ana Lima',
      department: 'Research',
      title: 'Engineer',
      manager_person_id: 'workday:E100',
      aliases: [
        { kind: 'email', value: 'ana.lima@example.com' },
        { kind: 'external_id', value: 'E200' },
        { kind: 'employee_number', value: '200' },
        { kind: 'email', value: 'ana@corp.example.com' },
        { kind: 'alias', value: 'analima' },
      ],
      platform_role: null,
      groups: null,
      directory_record: null,
    });
  });

  it('keeps a reused email on a different person id', () => {
    const holders = ok.filter((v) => v.email === 'ana.lima@example.com').map((v) => v.person_id);
    expect(new Set(holders)).toEqual(new Set(['workday:E200', 'workday:E400']));
  });

  it('reads RFC 4180 quoting and date-only times', () => {
    const bo = ok.find((v) => v.person_id === 'workday:E300')!;
    expect(bo.display_name).toBe('Chen, Bo');
    expect(bo.title).toBe('Account Exec, "Enterprise"');
    expect(bo.valid_from).toBe(ms('2026-01-10T00:00:00Z'));
  });

  it('reports each bad row with its line and keeps the rest', () => {
    const bad = rows.filter((r) => !r.ok);
    expect(bad.map((r) => [r.line, r.ok ? '' : r.error.code])).toEqual([
      [8, 'TETHER_NORMALISE_INVALID'],
      [9, 'TETHER_NORMALISE_INVALID'],
      [10, 'TETHER_NORMALISE_INVALID'],
    ]);
    expect(bad.map((r) => (r.ok ? '' : r.error.message))).toEqual([
      'line 8: email is empty',
      'line 9: status "on-leave" is not active, suspended or terminated',
      'line 10: updated_at "yesterday" is not an ISO 8601 date (YYYY-MM-DD, optionally with a time)',
    ]);
    expect(bad[0]!.raw.toString()).toBe(',E500,active,workday,2026-01-01,500,No,Email,,,,,,,');
    expect(rows.filter((r) => r.ok)).toHaveLength(6);
  });

  it('refuses a file without the required columns as a whole', () => {
    const parsed = normaliseDirectoryCsv(Buffer.from('email,name\na@b.c,A\n'), { observedAt: 0 });
    expect(parsed.fileError?.message).toMatch(/lacks required columns: external_id, status, source, updated_at/);
    expect(parsed.rows).toEqual([]);
  });

  it('parses only ISO 8601 times', () => {
    expect(parseIsoTime('2026-09-30')).toEqual({ ok: true, ms: ms('2026-09-30T00:00:00Z') });
    expect(parseIsoTime('2026-09-30T10:00:00+02:00')).toEqual({ ok: true, ms: ms('2026-09-30T08:00:00Z') });
    expect(parseIsoTime('2026-09-30 10:00:00')).toEqual({ ok: true, ms: ms('2026-09-30T10:00:00Z') });
    expect(parseIsoTime('09/30/2026')).toMatchObject({ ok: false });
    expect(parseIsoTime('2026-02-30x')).toMatchObject({ ok: false });
  });
});

describe('directory CSV, hostile values', () => {
  it('refuses inherited property names as a status', () => {
    const csv = 'email,external_id,status,source,updated_at\na@example.com,E1,constructor,hr,2026-01-01\nb@example.com,E2,__proto__,hr,2026-01-01\n';
    const { rows } = normaliseDirectoryCsv(Buffer.from(csv), { observedAt: OBSERVED });
    expect(rows.map((r) => (r.ok ? 'ok' : r.error.message))).toEqual([
      'line 2: status "constructor" is not active, suspended or terminated',
      'line 3: status "__proto__" is not active, suspended or terminated',
    ]);
  });
});
