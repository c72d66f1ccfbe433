import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureLogger, offlineDeps } from '#testkit';
import { importDirectoryCsv } from '../src/app.ts';

const NOW = Date.UTC(2026, 10, 25);
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name));

describe('importDirectoryCsv', () => {
  it('produces versions keyed <person_id>@<valid_from> and dead-letters each refused row with its exact bytes, stage and reason', async () => {
    const deps = await offlineDeps();
    const file = fixture('hostile.csv');
    const summary = await importDirectoryCsv(file, deps, NOW);
    expect(summary).toMatchObject({ items: 10, sent: 3, dead: 7, fileError: null, blankRows: 1 });

    const users = deps.producer.sent.filter((r) => r.topic === deps.topics.identityUsers);
    const decoded = await Promise.all(users.map(async (r) => [r.key, (await deps.codec.decode('identityUsers', r.value!)).person_id]));
    expect(decoded).toEqual([
      [`hr:E1@${Date.UTC(2026, 0, 1)}`, 'hr:E1'],
      [`hr:E2@${Date.UTC(2026, 0, 2)}`, 'hr:E2'],
      [`hr:E10@${Date.UTC(2026, 0, 10)}`, 'hr:E10'],
    ]);

    const letters = await Promise.all(deps.producer.sent.filter((r) => r.topic === deps.topics.dlq).map((r) => deps.codec.decode('dlq', r.value!)));
    expect(letters.map((l) => [l.stage, l.reason_code, l.source, l.service])).toEqual(
      Array.from({ length: 7 }, () => ['parsing', 'TETHER_SOURCE_PARSE', 'directory/csv', 'ingest-directory']),
    );
    for (const letter of letters) expect(file.includes(letter.original)).toBe(true);
    const latin1 = letters.find((l) => l.message.startsWith('line 8:'))!;
    expect(latin1.original.equals(Buffer.from('jose@example.com,E6,active,hr,2026-01-06,Jos\xe9 Ara\xfajo,,,,', 'latin1'))).toBe(true);
  });

  it('gives normalising failures their own stage and code', async () => {
    const deps = await offlineDeps();
    const csv = 'email,external_id,status,source,updated_at\nnot-an-email,E1,active,hr,2026-01-01\na@example.com,E2,active,hr,2026-01-01\na@example.com,E2,terminated,hr,2026-01-01\n';
    await importDirectoryCsv(Buffer.from(csv), deps, NOW);
    const letters = await Promise.all(deps.producer.sent.filter((r) => r.topic === deps.topics.dlq).map((r) => deps.codec.decode('dlq', r.value!)));
    expect(letters.map((l) => [l.stage, l.reason_code, l.original.toString()])).toEqual([
      ['normalising', 'TETHER_NORMALISE_INVALID', 'not-an-email,E1,active,hr,2026-01-01'],
      ['normalising', 'TETHER_DUPLICATE_CONFLICT', 'a@example.com,E2,active,hr,2026-01-01'],
    ]);
  });

  it('sends the same keys and values (but the import time) when the same file is imported twice', async () => {
    const file = fixture('workday-2026-11-20.csv');
    const runs = [];
    for (const at of [NOW, NOW + 3_600_000]) {
      const deps = await offlineDeps();
      await importDirectoryCsv(file, deps, at);
      runs.push(await Promise.all(deps.producer.sent.map(async (r) => {
        const v = await deps.codec.decode('identityUsers', r.value!);
        return [r.key, { ...v, source: { ...v.source, observed_at: 0 } }];
      })));
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]!.length).toBeGreaterThan(0);
  });

  it('dead-letters a file it cannot read as a whole, once, and produces nothing else', async () => {
    const deps = await offlineDeps();
    const file = Buffer.from('mail;id;state\na@example.com;E1;active\n');
    const summary = await importDirectoryCsv(file, deps, NOW);
    expect(summary).toMatchObject({ items: 1, sent: 0, dead: 1, fileError: { code: 'TETHER_SOURCE_PARSE' } });
    const [letter] = await Promise.all(deps.producer.sent.map((r) => deps.codec.decode('dlq', r.value!)));
    expect(letter).toMatchObject({ stage: 'parsing', reason_code: 'TETHER_SOURCE_PARSE', message: 'directory CSV lacks required columns: email, external_id, status, source, updated_at' });
    expect(letter!.original.equals(file)).toBe(true);
  });

  it('logs findings as one warning with counts, not one line per row', async () => {
    const { log, lines } = captureLogger('ingest-directory');
    const deps = await offlineDeps(log);
    const csv = 'email,external_id,status,source,updated_at,manager_email\na@example.com,E1,active,hr,2026-01-01,x@example.com\nb@example.com,E2,active,hr,2026-01-01,y@example.com\n';
    await importDirectoryCsv(Buffer.from(csv), deps, NOW);
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string; kinds?: unknown }).filter((l) => l.msg === 'directory rows imported with findings');
    expect(warnings).toEqual([expect.objectContaining({ kinds: { manager_unknown: 2 } })]);
  });
});
