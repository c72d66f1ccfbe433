import { describe, expect, it } from 'vitest';
import { asyncInsertSettings, parseServerVersion } from '#clickhouse';

describe('asyncInsertSettings', () => {
  it('asks for async inserts (acknowledged once stored) only from servers that have them', () => {
    expect(asyncInsertSettings('18.16.1')).toBeUndefined();
    expect(asyncInsertSettings('21.10.6.2')).toBeUndefined();
    expect(asyncInsertSettings('21.11.1.1')).toEqual({ async_insert: 1, wait_for_async_insert: 1 });
    expect(asyncInsertSettings('26.9.2.1')).toEqual({ async_insert: 1, wait_for_async_insert: 1 });
    expect(asyncInsertSettings('')).toBeUndefined();
    expect(parseServerVersion(' 24.8.4.13\n')).toEqual([24, 8]);
  });
});
