// A ScimService on a recording emitter (records encoded with the real Avro
// codec, so every version is schema-valid), a clock the test moves, and the
// IdP request fixtures.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { GroupVersion, PersonVersion } from '#schemas';
import { offlineCodec } from '#testkit';
import { DirectoryRestorer } from '../src/restore.ts';
import { ScimService, type OutRecord, type ScimRequest, type ScimResponse } from '../src/service.ts';

export const BASE = 'https://tether.example/scim/v2';

type Body = Record<string, unknown>;
const load = (name: string): unknown => JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8'));
export const okta = load('okta.json') as Record<'createUser' | 'deactivate' | 'reactivate' | 'password' | 'createGroup' | 'groupMembers' | 'groupRename', Body>;
export const entra = load('entra.json') as Record<
  'createUser' | 'mover' | 'rename' | 'disable' | 'dottedKeys' | 'managerLegacy' | 'managerEnterprise' | 'addHomeEmail' | 'createGroup' | 'addMember' | 'removeMemberLegacy',
  Body
>;

/** A fixture with $NAME placeholders replaced. */
export function fill(body: Record<string, unknown>, values: Record<string, string>): Record<string, unknown> {
  let text = JSON.stringify(body);
  for (const [k, v] of Object.entries(values)) text = text.split(`$${k}`).join(v);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function scimHarness(options: { platform?: string } = {}) {
  const codec = await offlineCodec();
  const records: OutRecord[] = [];
  const calls: OutRecord[][] = [];
  let failNext: Error | undefined;
  let clock = Date.parse('2025-03-01T09:00:00Z');
  let ids = 0;
  const emit = async (batch: OutRecord[]) => {
    if (failNext) {
      const err = failNext;
      failNext = undefined;
      throw err;
    }
    for (const r of batch) codec.encode(r.role, r.value as never);
    records.push(...batch);
    calls.push(batch);
  };
  const make = (restored?: ScimService['directory']) =>
    new ScimService({ directory: restored, emit, platform: options.platform ?? 'okta', maxResults: 200, now: () => clock, newId: () => `id-${++ids}` });
  let service = make();

  const h = {
    records,
    calls,
    get service() {
      return service;
    },
    get now() {
      return clock;
    },
    advance(ms: number) {
      clock += ms;
      return clock;
    },
    failNextEmit(err: Error) {
      failNext = err;
    },
    request(method: string, p: string, body?: unknown, extra: Partial<ScimRequest> = {}): Promise<ScimResponse> {
      return service.handle({ method, path: p, body, at: clock, baseUrl: BASE, ...extra });
    },
    persons(): PersonVersion[] {
      return records.filter((r) => r.role === 'identityUsers').map((r) => r.value as PersonVersion);
    },
    groupVersions(): GroupVersion[] {
      return records.filter((r) => r.role === 'identityGroups').map((r) => r.value as GroupVersion);
    },
    /** A new service whose state is rebuilt from the records written so far (a restart), after `others` (other writers' versions on the topic). */
    async restart(others: readonly PersonVersion[] = []): Promise<void> {
      const restorer = new DirectoryRestorer();
      for (const v of others) restorer.person(await codec.decode('identityUsers', codec.encode('identityUsers', v)));
      for (const r of records) {
        // Through Avro and back: the restore reads what the topic holds.
        if (r.role === 'identityUsers') restorer.person(await codec.decode('identityUsers', codec.encode('identityUsers', r.value as PersonVersion)));
        else restorer.group(await codec.decode('identityGroups', codec.encode('identityGroups', r.value as GroupVersion)));
      }
      service = make(restorer.build());
    },
  };
  return h;
}
