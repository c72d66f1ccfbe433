// Row isolation against a fake insert that answers like ClickHouse 18.16:
// a failed insert names the first bad row of its data ("(at row N)"), or
// not at all, and a down server fails with a network error.
import { describe, expect, it } from 'vitest';
import { insertIsolating } from '../src/isolate.ts';

interface Row { id: number; bad?: boolean }

function fakeClickHouse(options: { namesRow: boolean; down?: () => boolean }) {
  const stored: number[] = [];
  let calls = 0;
  const insert = async (rows: readonly Row[]) => {
    calls += 1;
    if (options.down?.()) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:18123'), { code: 'ECONNREFUSED' });
    const at = rows.findIndex((r) => r.bad);
    if (at !== -1) {
      const where = options.namesRow ? `: (at row ${at + 1})` : '';
      throw new Error(`Code: 72, e.displayText() = DB::Exception: Unsigned type must not contain '-' symbol: (while read the value of key enrichment_waited_ms)${where}\n, e.what() = DB::Exception\n`);
    }
    stored.push(...rows.map((r) => r.id));
  };
  return { insert, stored, calls: () => calls };
}

const rows = (n: number, bad: number[]): Row[] => Array.from({ length: n }, (_, i) => ({ id: i, bad: bad.includes(i) }));

describe('insertIsolating', () => {
  it('inserts a clean batch in one call', async () => {
    const ch = fakeClickHouse({ namesRow: true });
    expect(await insertIsolating(rows(100, []), ch.insert)).toEqual([]);
    expect(ch.stored).toHaveLength(100);
    expect(ch.calls()).toBe(1);
  });

  it.each([true, false])('sets aside exactly the bad rows with their own error (server names the row: %s)', async (namesRow) => {
    const ch = fakeClickHouse({ namesRow });
    const batch = rows(1_000, [0, 17, 18, 500, 999]);
    const rejected = await insertIsolating(batch, ch.insert);
    expect(rejected.map((r) => r.entry.id)).toEqual([0, 17, 18, 500, 999]);
    expect(rejected.every((r) => String(r.error).includes('enrichment_waited_ms'))).toBe(true);
    expect([...ch.stored].sort((a, b) => a - b)).toEqual(batch.filter((r) => !r.bad).map((r) => r.id));
    // Few round trips per bad row, not one per row.
    expect(ch.calls()).toBeLessThan(namesRow ? 20 : 80);
  });

  it('throws a server-down error to the caller instead of blaming a row', async () => {
    let down = false;
    const ch = fakeClickHouse({ namesRow: false, down: () => down });
    const batch = rows(8, [3]);
    const pending = insertIsolating(batch, async (part) => {
      const result = ch.insert(part);
      down = true; // the server dies during isolation
      return result;
    });
    await expect(pending).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
