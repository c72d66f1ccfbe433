// Backfills on the real broker and registry through the CLI entry point:
// a recorded IdP sequence with `at` times gives versions valid from those
// times (ids of the recording service mapped to Tether's), enrichment of
// events between them follows, and replaying the file again writes
// nothing. A bootstrap export lands each resource as of its lastModified.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PersonVersion } from '#schemas';
import { readTopicToEnd, waitFor } from '#testkit';
import { openaiSessionEvent } from '../../enrich/test/fixtures/events.ts';
import { harness } from '../../enrich/test/harness.ts';
import { main } from '../src/index.ts';
import { entra, okta } from './helpers.ts';

const at = (iso: string) => Date.parse(iso);
const recorded = [
  { at: '2025-01-06T09:00:00Z', method: 'POST', path: '/scim/v2/Users', body: { ...entra.createUser, password: 'Replayed-Pa55' }, response: { status: 201, body: { id: 'rec-lee' } } },
  { at: '2025-01-06T09:00:05Z', method: 'GET', path: '/scim/v2/Users/rec-lee' },
  { at: '2025-01-06T09:01:00Z', method: 'POST', path: '/scim/v2/Groups', body: entra.createGroup, response: { status: 201, body: { id: 'rec-fin' } } },
  { at: '2025-01-06T09:02:00Z', method: 'PATCH', path: '/scim/v2/Groups/rec-fin', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: 'rec-lee' }] }] } },
  { at: '2025-02-03T10:00:00Z', method: 'PATCH', path: '/scim/v2/Users/rec-lee', body: entra.mover },
  { at: '2025-03-03T11:00:00Z', method: 'PATCH', path: '/scim/v2/Users/rec-lee', body: entra.rename },
  { at: '2025-04-01T17:00:00Z', method: 'PATCH', path: '/scim/v2/Users/rec-lee', body: entra.disable },
  // Recorded without the response: the id is learnt from the order of creation.
  { at: '2025-04-02T09:00:00Z', method: 'POST', path: '/scim/v2/Users', body: { ...okta.createUser, userName: 'lee.park@example.com', externalId: 'new-lee', emails: [{ value: 'lee.park@example.com', type: 'work', primary: true }] } },
  { at: '2025-04-02T10:00:00Z', method: 'PATCH', path: '/scim/v2/Users/unseen-id', body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Intern' }] } },
  'this line is not JSON "password": "Broken-Pa55"',
];

describe('SCIM replay and bootstrap imports', () => {
  it('replays recorded calls at their times, enriches events between them, and a second replay writes nothing', async () => {
    const h = await harness();
    const dir = mkdtempSync(path.join(tmpdir(), 'scim-replay-'));
    const file = path.join(dir, 'calls.jsonl');
    writeFileSync(file, recorded.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n'));
    const env = { ...process.env, TETHER_TOPIC_PREFIX: h.prefix, TETHER_SCIM_PLATFORM: 'entra', TETHER_LOG_LEVEL: 'warn' };
    const out: string[] = [];
    const run = () => main(['replay', file], { env, out: (t) => out.push(t), err: (t) => out.push(t) });

    expect(await run()).toBe(2); // one record refused (the broken line): exit 2 says so
    expect(JSON.parse(out.at(-1)!)).toEqual({ records: 10, applied: 8, skipped: 1, failed: 1 });

    const users = async () => (await readTopicToEnd(h.kafka, h.codec, 'identityUsers', h.topics.identityUsers)).map((r) => r.value as PersonVersion);
    const lee = (await users()).filter((v) => v.person_id === 'entra:0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef').sort((a, b) => a.valid_from - b.valid_from);
    expect(lee.map((v) => [new Date(v.valid_from).toISOString(), v.department, v.email, v.active, v.groups?.map((g) => g.display_name) ?? null])).toEqual([
      ['2025-01-06T09:00:00.000Z', 'Finance', 'lee.park@example.com', true, []],
      ['2025-01-06T09:02:00.000Z', 'Finance', 'lee.park@example.com', true, ['Finance']],
      ['2025-02-03T10:00:00.000Z', 'Research', 'lee.park@example.com', true, ['Finance']],
      ['2025-03-03T11:00:00.000Z', 'Research', 'lee.kim@example.com', true, ['Finance']],
      ['2025-04-01T17:00:00.000Z', 'Research', 'lee.kim@example.com', false, ['Finance']],
    ]);
    expect(lee[0]!.source).toMatchObject({ platform: 'entra', feed: 'scim', source_time: '2025-01-06T09:00:00Z' });
    const newcomer = (await users()).filter((v) => v.person_id === 'entra:new-lee');
    expect(newcomer.map((v) => [new Date(v.valid_from).toISOString(), v.title])).toEqual([['2025-04-02T09:00:00.000Z', null], ['2025-04-02T10:00:00.000Z', 'Intern']]);

    const deadLetters = await readTopicToEnd(h.kafka, h.codec, 'dlq', h.topics.dlq);
    expect(deadLetters.map((d) => d.value.reason_code)).toEqual(['TETHER_NORMALISE_INVALID']);
    expect(deadLetters[0]!.value.original.toString()).toContain('"password": "[redacted]"');
    const everything = JSON.stringify(await users()) + deadLetters.map((d) => d.value.original.toString() + d.value.message).join('');
    expect(everything).not.toMatch(/Replayed-Pa55|Broken-Pa55/);

    const highWatermarks = async () => {
      const admin = await h.kafka.admin();
      try {
        return await Promise.all([h.topics.identityUsers, h.topics.identityGroups, h.topics.dlq].map(async (t) => (await admin.topicOffsets(t)).reduce((n, p) => n + p.high, 0n)));
      } finally {
        await admin.close();
      }
    };
    const before = await highWatermarks();
    expect(await run()).toBe(2);
    expect(JSON.parse(out.at(-1)!)).toEqual({ records: 10, applied: 0, skipped: 9, failed: 1 });
    const [usersAfter, groupsAfter] = await highWatermarks();
    expect([usersAfter, groupsAfter]).toEqual(before.slice(0, 2));

    // Events between the replayed changes are attributed as Lee was then; the reused address goes to its new holder.
    const events = [
      ['jan', '2025-01-20T12:00:00Z', 'lee.park@example.com'],
      ['feb', '2025-02-20T12:00:00Z', 'lee.park@example.com'],
      ['mar', '2025-03-20T12:00:00Z', 'lee.kim@example.com'],
      ['apr', '2025-04-01T18:00:00Z', 'lee.kim@example.com'],
      ['reused', '2025-04-03T12:00:00Z', 'lee.park@example.com'],
    ].map(([name, time, email]) => ({ name: name!, event: openaiSessionEvent({ id: `replay-${name}`, time: at(time!), type: 'login.succeeded', userId: `user-${name}`, email: email! }) }));
    const output = await h.readEnriched();
    await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '0' });
    await h.writeEvents(events.map((e) => e.event));
    await waitFor(() => output.length >= events.length || undefined, { what: 'every event enriched' });
    const person = (name: string) => output.find((o) => o.value.event.event_id === events.find((e) => e.name === name)!.event.event_id)!.value.person;
    expect(person('jan')).toMatchObject({ person_id: 'entra:0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef', department: 'Finance', lifecycle_state: 'active' });
    expect(person('feb')).toMatchObject({ department: 'Research', email: 'lee.park@example.com' });
    expect(person('mar')).toMatchObject({ email: 'lee.kim@example.com', display_name: 'Lee Kim' });
    expect(person('apr')).toMatchObject({ lifecycle_state: 'inactive' });
    expect(person('reused')).toMatchObject({ person_id: 'entra:new-lee' });
  });

  it('bootstraps a ListResponse export, each resource as of its lastModified; again, nothing new', async () => {
    const h = await harness();
    const dir = mkdtempSync(path.join(tmpdir(), 'scim-bootstrap-'));
    const file = path.join(dir, 'export.json');
    const exported = {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 3, startIndex: 1, itemsPerPage: 3,
      Resources: [
        { ...okta.createUser, id: 'exp-dana', meta: { resourceType: 'User', created: '2024-05-01T08:00:00Z', lastModified: '2025-02-10T08:00:00Z' } },
        { ...okta.createUser, id: 'exp-sam', userName: 'sam@example.com', externalId: 'sam', emails: [], active: false, meta: { resourceType: 'User', created: '2024-05-01T08:00:00Z', lastModified: '2025-01-31T17:00:00Z' } },
        { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: 'exp-g', displayName: 'Everyone', members: [{ value: 'exp-dana' }, { value: 'exp-sam' }, { value: 'not-exported' }], meta: { resourceType: 'Group', lastModified: '2025-02-11T00:00:00Z' } },
      ],
    };
    writeFileSync(file, JSON.stringify(exported));
    const env = { ...process.env, TETHER_TOPIC_PREFIX: h.prefix, TETHER_SCIM_PLATFORM: 'okta', TETHER_LOG_LEVEL: 'warn' };
    const out: string[] = [];
    expect(await main(['bootstrap', file], { env, out: (t) => out.push(t) })).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toEqual({ records: 3, applied: 3, skipped: 0, failed: 0 });
    const versions = (await readTopicToEnd(h.kafka, h.codec, 'identityUsers', h.topics.identityUsers)).map((r) => r.value as PersonVersion);
    expect(versions.map((v) => [v.person_id, new Date(v.valid_from).toISOString(), v.active, v.groups?.length]).sort()).toEqual([
      ['okta:00ujl29u0le5T6Aj10h7', '2025-02-10T08:00:00.000Z', true, 0],
      ['okta:00ujl29u0le5T6Aj10h7', '2025-02-11T00:00:00.000Z', true, 1],
      ['okta:sam', '2025-01-31T17:00:00.000Z', false, 0],
      ['okta:sam', '2025-02-11T00:00:00.000Z', false, 1],
    ]);
    expect(await main(['bootstrap', file], { env, out: (t) => out.push(t) })).toBe(0);
    expect(JSON.parse(out.at(-1)!)).toEqual({ records: 3, applied: 0, skipped: 3, failed: 0 });
    expect(await readTopicToEnd(h.kafka, h.codec, 'identityUsers', h.topics.identityUsers)).toHaveLength(versions.length);
  });
});
