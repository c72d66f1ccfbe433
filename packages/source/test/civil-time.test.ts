import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAsctimeUtc, parseInstant } from '../src/civil-time.ts';

describe('typed instants (CLI flags, query parameters)', () => {
  it.each([
    ['2026-01-01', Date.UTC(2026, 0, 1)],
    ['2026-01-01T09:30', Date.UTC(2026, 0, 1, 9, 30)],
    ['2026-01-01T09:30:00', Date.UTC(2026, 0, 1, 9, 30)],
    ['2026-01-01 09:30:00.250Z', Date.UTC(2026, 0, 1, 9, 30, 0, 250)],
    ['2026-01-01T09:30:00+02:00', Date.UTC(2026, 0, 1, 7, 30)],
    ['2026-01-01T09:30:00-0530', Date.UTC(2026, 0, 1, 15, 0)],
  ])('%s', (text, ms) => {
    expect(parseInstant(text)).toEqual({ ok: true, ms });
  });

  it.each(['yesterday', 'March 3', '2026-02-30', '2026-13-01', '2026-01-01T24:00:00Z', '20260101', '2026-01-01T09:30:00+25:00', ''])('refuses %j', (text) => {
    expect(parseInstant(text).ok).toBe(false);
  });

  it('reads zone-less text as UTC whatever the host\'s zone (Date.parse would take it as local time)', () => {
    const here = path.resolve(import.meta.dirname, '../src/civil-time.ts');
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', `const { parseInstant } = await import(${JSON.stringify(here)}); console.log(JSON.stringify([parseInstant('2026-01-01T00:00:00').ms, Date.parse('2026-01-01T00:00:00')]))`], {
      env: { ...process.env, TZ: 'Pacific/Auckland' },
      encoding: 'utf8',
    });
    const [ours, local] = JSON.parse(out.stdout) as [number, number];
    expect(ours).toBe(Date.UTC(2026, 0, 1));
    expect(local).not.toBe(ours);
  });
});

describe('osquery calendarTime', () => {
  it('reads asctime with a space-padded day, and refuses a weekday that is not the date\'s', () => {
    expect(parseAsctimeUtc('Mon Mar  2 09:05:01 2026 UTC')).toEqual({ ok: true, ms: Date.UTC(2026, 2, 2, 9, 5, 1) });
    expect(parseAsctimeUtc('Tue Mar  2 09:05:01 2026 UTC').ok).toBe(false);
    expect(parseAsctimeUtc('Mon Mar 2 09:05:01 2026').ok).toBe(false);
  });
});
