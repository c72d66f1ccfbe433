// Inventories from exported files: `import <file> --feed <inventory>` takes an
// exported listing (the API's list envelope, a JSON array or JSONL of its
// elements) as a snapshot through the same diff and checkpoint as a poll.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInventoryCursor } from '#source';
import { fixture, fixturePath } from './fixtures.ts';
import { offlineApp } from './offline-app.ts';

const KEY = 'sk-admin-import-4d5e6f7a8b';
const T0 = Date.parse('2026-03-03T12:00:00Z');

async function harness(clock: { now: number }) {
  // No HTTP at all: an import needs no reachable API.
  const fetchFn = (async () => {
    throw new Error('an import must not call the API');
  }) as typeof fetch;
  const h = await offlineApp({ env: { TETHER_OPENAI_ADMIN_KEY: KEY }, key: KEY, fetch: fetchFn, now: () => clock.now });
  return { app: h.app, checkpoints: h.checkpoints, nhis: () => h.on('identityNhi'), dead: () => h.on('dlq') };
}

const dir = mkdtempSync(path.join(tmpdir(), 'tether-inventory-import-'));
const keys = fixture<{ data: Record<string, unknown>[] }>('openai', 'admin-api-keys-page.json').data;
const second = { ...keys[0]!, id: 'key_AdmN2', name: 'ci-deployer', created_at: 1767330000, owner: { type: 'user', object: 'organization.user', id: 'user-M2n8Ws', email: 'sam@example.com' } };

describe('ingest openai import <file> --feed admin_api_keys', () => {
  it('the exported list envelope becomes admin-key identities; a later JSONL listing without a key makes it gone', async () => {
    const clock = { now: T0 };
    const h = await harness(clock);
    const first = await h.app.importFile('openai', 'admin_api_keys', fixturePath('openai', 'admin-api-keys-page.json'), new AbortController().signal);
    expect(first.feeds).toEqual([{ feed: 'openai/admin_api_keys', pages: 1, sent: 1, dead: 0, error: null }]);
    expect((await h.nhis()).map((n) => [n.nhi_id, n.kind, n.owner_platform_user_id, n.active, n.valid_from])).toEqual([
      ['openai:admin_api_key:key_AdmN1', 'admin_api_key', 'openai:user-K9p3Lm', true, 1767320000000],
    ]);
    expect(Object.keys(parseInventoryCursor(h.checkpoints.get('openai/admin_api_keys/snapshot')!.cursor)!.entities)).toEqual(['openai:admin_api_key:key_AdmN1']);

    // A JSON array of elements: the same key again (nothing new) and a second one.
    const array = path.join(dir, 'keys.json');
    writeFileSync(array, JSON.stringify([keys[0], second]));
    clock.now = T0 + 60_000;
    const again = await h.app.importFile('openai', 'admin_api_keys', array, new AbortController().signal);
    expect(again.feeds[0]).toMatchObject({ sent: 1, dead: 0, error: null });

    // JSONL with only the second key, and a line that is not JSON: the first key is gone, the bad line dead-lettered.
    const lines = path.join(dir, 'keys.jsonl');
    writeFileSync(lines, `${JSON.stringify(second)}\n{"id": "key_cut\n`);
    clock.now = T0 + 120_000;
    const third = await h.app.importFile('openai', 'admin_api_keys', lines, new AbortController().signal);
    expect(third.feeds[0]).toMatchObject({ sent: 1, dead: 1, error: null });
    const versions = await h.nhis();
    expect(versions.map((n) => [n.nhi_id, n.status, n.valid_from])).toEqual([
      ['openai:admin_api_key:key_AdmN1', 'active', 1767320000000],
      ['openai:admin_api_key:key_AdmN2', 'active', 1767330000000],
      ['openai:admin_api_key:key_AdmN1', 'deleted', T0 + 120_000],
    ]);
    expect((await h.dead()).map((d) => [d.source, d.stage, d.reason_code, d.original.toString()])).toEqual([['openai/admin_api_keys', 'parsing', 'TETHER_SOURCE_PARSE', '{"id": "key_cut']]);
  });

  it('an inventory that is not importable is refused, naming every feed that is', async () => {
    const h = await harness({ now: T0 });
    await expect(h.app.importFile('openai', 'projects', fixturePath('openai', 'projects-page.json'), new AbortController().signal)).rejects.toThrow(
      'openai has no importable feed "projects" (known: audit_logs, users, admin_api_keys)',
    );
  });
});
