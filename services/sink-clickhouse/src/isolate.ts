// Inserts a batch so that rows ClickHouse rejects are set aside with the
// server's error while every other row lands. A failed insert that names
// its row ("(at row N)") is split around that row; otherwise it is halved.
// Errors that are not about a row (server down, schema missing) are thrown
// to the caller, which retries the whole batch: rows already written by a
// sub-insert are written again and collapse by their ReplacingMergeTree key.
import { classifyWriteError, clickHouseErrorInfo } from '#clickhouse';

export interface Rejected<E> {
  entry: E;
  /** The server's error for this row alone. */
  error: unknown;
}

export async function insertIsolating<E>(
  entries: readonly E[],
  insert: (entries: readonly E[]) => Promise<void>,
): Promise<Rejected<E>[]> {
  if (entries.length === 0) return [];
  try {
    await insert(entries);
    return [];
  } catch (err) {
    if (classifyWriteError(err) !== 'row') throw err;
    if (entries.length === 1) return [{ entry: entries[0]!, error: err }];
    const row = clickHouseErrorInfo(err).row;
    if (row !== null && row >= 1 && row <= entries.length) {
      // The named row is confirmed on its own: a server's count may be off.
      return [
        ...(await insertIsolating(entries.slice(0, row - 1), insert)),
        ...(await insertIsolating(entries.slice(row - 1, row), insert)),
        ...(await insertIsolating(entries.slice(row), insert)),
      ];
    }
    const half = Math.ceil(entries.length / 2);
    return [
      ...(await insertIsolating(entries.slice(0, half), insert)),
      ...(await insertIsolating(entries.slice(half), insert)),
    ];
  }
}
