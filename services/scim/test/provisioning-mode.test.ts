// One stable person across writers and renames: a directory CSV import and a
// SCIM push of the same IdP user give one person_id whichever comes first; a
// SCIM User that carries only the employee number of a person the CSV import
// made joins that person (a change of provisioning mode: CSV import, then SCIM
// push) and keeps their history; a rename in either keeps the id; and events
// before and after each change resolve to that one person.
import { describe, expect, it } from 'vitest';
import type { PersonVersion } from '#schemas';
import { versionKey } from '#schemas';
import { normaliseDirectoryCsv } from '../../ingest-directory/src/csv-directory.ts';
import { resolveEvent } from '../../enrich/src/resolve/enrich.ts';
import { IdentityStore } from '../../enrich/src/store/identity-store.ts';
import { cursorAuditEvent } from '../../enrich/test/fixtures/events.ts';
import { historyNormaliser, UserHistory } from '../../ingest-ai/src/identity-history.ts';
import { entraUserChange } from '../../ingest-ai/src/platforms/entra-users/directory-audits.ts';
import { oktaUserChange } from '../../ingest-ai/src/platforms/okta-users/system-log.ts';
import { fixture } from '../../ingest-ai/test/fixtures.ts';
import { scimHarness } from './helpers.ts';

/** The versions an IdP's change history import writes (the ingest-ai okta-users / entra-users sources' normalisers). */
function historyVersions(platform: 'okta-users' | 'entra-users', file: string): PersonVersion[] {
  const normalise = historyNormaliser(new UserHistory(), platform === 'okta-users' ? oktaUserChange : entraUserChange);
  return fixture<unknown[]>(platform, file).flatMap((record) => {
    const r = normalise(record, { platform, feed: 'history', ingestedAt: Date.parse('2025-08-01T00:00:00Z'), rawBytes: Buffer.alloc(0) });
    if (!r.ok) throw r.error;
    return r.records.map((out) => out.value as PersonVersion);
  });
}

const HEADER = 'email,external_id,status,source,updated_at,employee_number,display_name';

function csvVersions(...rows: string[]): PersonVersion[] {
  const parsed = normaliseDirectoryCsv(Buffer.from([HEADER, ...rows].join('\n')), { observedAt: Date.parse('2025-06-01T00:00:00Z') });
  expect(parsed.fileError).toBeNull();
  return parsed.rows.flatMap((r) => {
    if (!r.ok) throw r.error;
    return r.versions;
  });
}

const user = (fields: Record<string, unknown>) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'], active: true, ...fields });

function storeOf(versions: readonly PersonVersion[]): IdentityStore {
  const store = new IdentityStore();
  for (const v of versions) store.apply('identityUsers', versionKey(v.person_id, v.valid_from), structuredClone(v));
  return store;
}

describe('one person id across the CSV import and SCIM pushes', () => {
  it('gives the CSV row and the SCIM push of one IdP user (same externalId) the same person id, in either order', async () => {
    const [csv] = csvVersions('dana.ruiz@example.com, 00ujl29u0le5T6Aj10h7 ,active,Okta,2025-01-06T09:00:00Z,,Dana Ruiz');
    expect(csv!.person_id).toBe('okta:00ujl29u0le5T6Aj10h7');

    // SCIM first (nothing else on the topic): the same id by the same rule.
    const first = await scimHarness({ platform: 'okta' });
    await first.request('POST', '/Users', user({ userName: 'dana.ruiz@example.com', externalId: '00ujl29u0le5T6Aj10h7' }));
    expect(first.persons().map((p) => p.person_id)).toEqual(['okta:00ujl29u0le5T6Aj10h7']);

    // CSV first, the SCIM service started after it: the same.
    const after = await scimHarness({ platform: 'okta' });
    await after.restart([csv!]);
    await after.request('POST', '/Users', user({ userName: 'dana.ruiz@example.com', externalId: '00ujl29u0le5T6Aj10h7' }));
    expect(after.persons().map((p) => p.person_id)).toEqual([csv!.person_id]);
  });

  it('joins a SCIM User carrying only the employee number to the CSV person, keeping their ids and earlier address', async () => {
    const csv = csvVersions('sam.lee@example.com,W-4471,active,workday,2025-01-06T09:00:00Z,1042,Sam Lee');
    const h = await scimHarness({ platform: 'entra' });
    await h.restart(csv);
    const created = await h.request('POST', '/Users', user({
      userName: 'sam.lee@corp.example.com',
      emails: [{ value: 'sam.lee@corp.example.com', type: 'work', primary: true }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: '1042' },
    }));
    expect(created.status).toBe(201);
    const [pushed] = h.persons();
    expect(pushed!.person_id).toBe('workday:W-4471');
    expect(pushed!.aliases).toEqual(expect.arrayContaining([
      { kind: 'external_id', value: 'W-4471' },
      { kind: 'scim_id', value: created.body!.id },
      { kind: 'employee_number', value: '1042' },
      { kind: 'former_email', value: 'sam.lee@example.com' },
    ]));

    // A restart of the SCIM service changes nothing: a second push of the same user is a reconciliation.
    await h.restart(csv);
    expect(h.service.directory.liveUser(String(created.body!.id))?.personId).toBe('workday:W-4471');
  });

  it('keeps the person id through a rename in the CSV and through a SCIM rename, and events on each side of each change resolve to it', async () => {
    const csv = csvVersions(
      'riley.smith@example.com,00uRiley,active,okta,2025-01-06T09:00:00Z,,Riley Smith',
      'riley.jones@example.com,00uRiley,active,okta,2025-03-01T00:00:00Z,,Riley Jones',
    );
    expect(new Set(csv.map((v) => v.person_id))).toEqual(new Set(['okta:00uRiley']));

    const h = await scimHarness({ platform: 'okta' });
    await h.restart(csv);
    h.advance(0);
    const created = await h.request('POST', '/Users', user({ userName: 'riley.jones@example.com', displayName: 'Riley Jones', externalId: '00uRiley', emails: [{ value: 'riley.jones@example.com', primary: true }] }));
    const id = String(created.body!.id);
    const renameAt = h.advance(30 * 86_400_000);
    await h.request('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', value: { userName: 'riley.ng@example.com', emails: [{ value: 'riley.ng@example.com', primary: true }] } }],
    });
    const pushed = h.persons();
    expect(new Set(pushed.map((v) => v.person_id))).toEqual(new Set(['okta:00uRiley']));
    expect(pushed.at(-1)!.aliases).toEqual(expect.arrayContaining([{ kind: 'former_email', value: 'riley.jones@example.com' }, { kind: 'scim_id', value: id }]));

    const store = storeOf([...csv, ...pushed]);
    const who = (email: string, time: number) => resolveEvent(cursorAuditEvent({ id: `${email}@${time}`, time, email }), store);
    expect(who('riley.smith@example.com', Date.parse('2025-02-01T00:00:00Z')).person).toMatchObject({ person_id: 'okta:00uRiley', display_name: 'Riley Smith' });
    expect(who('riley.jones@example.com', Date.parse('2025-03-02T00:00:00Z')).person).toMatchObject({ person_id: 'okta:00uRiley', display_name: 'Riley Jones' });
    const renamed = who('riley.ng@example.com', renameAt + 60_000);
    expect(renamed).toMatchObject({ method: 'direct_email', confidence: 0.9 });
    expect(renamed.person?.person_id).toBe('okta:00uRiley');
  });

  it('lands an Okta history import and a SCIM push of the same user on one person, in either order', async () => {
    const history = historyVersions('okta-users', 'system-log.json');
    expect(new Set(history.map((v) => v.person_id))).toEqual(new Set(['okta:00u1ab2CdExAmPlE3f4']));
    const push = user({ userName: 'dana.lee@example.com', externalId: '00u1ab2CdExAmPlE3f4', emails: [{ value: 'dana.lee@example.com', primary: true }] });

    const pushedFirst = await scimHarness({ platform: 'okta' });
    await pushedFirst.request('POST', '/Users', push);
    expect(pushedFirst.persons()[0]!.person_id).toBe('okta:00u1ab2CdExAmPlE3f4');

    const importedFirst = await scimHarness({ platform: 'okta' });
    await importedFirst.restart(history);
    await importedFirst.request('POST', '/Users', push);
    const [v] = importedFirst.persons();
    expect(v!.person_id).toBe('okta:00u1ab2CdExAmPlE3f4');
    // The push continues the history: the address the person held before the rename stays theirs as history.
    expect(v!.aliases).toEqual(expect.arrayContaining([{ kind: 'former_email', value: 'dana.ruiz@example.com' }, { kind: 'external_id', value: '00u1ab2CdExAmPlE3f4' }]));
  });

  it('joins an Entra push whose externalId is the mail nickname to the history person by employee number', async () => {
    const history = historyVersions('entra-users', 'directory-audits.json');
    const objectId = 'entra:5f2c0d1e-8a47-4b7e-9d3c-2e6f1a0b9c84';
    expect(new Set(history.map((v) => v.person_id))).toEqual(new Set([objectId]));
    const h = await scimHarness({ platform: 'entra' });
    await h.restart(history);
    await h.request('POST', '/Users', user({
      userName: 'lee.kim@example.com', externalId: 'lee.kim',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: 'E-2231', department: 'Finance' },
    }));
    expect(h.persons()[0]!.person_id).toBe(objectId);
  });
});
