// What the server's version allows a writer: current servers gather small
// inserts themselves (async_insert, since 21.11); 18.16 refuses the setting.
import type { ClickHouseSettings } from '@clickhouse/client';

/** [major, minor] of a `SELECT version()` answer ('18.16.1', '26.9.2.1'); null when unreadable. */
export function parseServerVersion(version: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Settings for small inserts on a server with async_insert: the server
 * buffers them with other small inserts and answers once they are written
 * (wait_for_async_insert=1), so an acknowledged row is stored, as with a
 * plain insert. Undefined where the server has no async_insert.
 */
export function asyncInsertSettings(version: string): ClickHouseSettings | undefined {
  const parsed = parseServerVersion(version);
  if (!parsed) return undefined;
  const [major, minor] = parsed;
  if (major < 21 || (major === 21 && minor < 11)) return undefined;
  return { async_insert: 1, wait_for_async_insert: 1 };
}
