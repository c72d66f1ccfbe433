// An identity provider drives a person's life over HTTP on the real broker
// and registry, in Okta's and in Entra's dialect: joiner -> mover -> rename
// -> leaver -> delete. The identity topic then holds a version from each
// change, valid from when it was received; enrich (started as the other
// integration tests start it) attributes events between the changes to the
// person as they were then; a restarted SCIM service answers as before; no
// password reaches the topic or the logs.
import { describe, expect, it, onTestFinished } from 'vitest';
import type { PersonVersion } from '#schemas';
import { captureLogger, readTopicToEnd, waitFor } from '#testkit';
import { openaiSessionEvent } from '../../enrich/test/fixtures/events.ts';
import { harness } from '../../enrich/test/harness.ts';
import { buildScimApp, type ScimApp } from '../src/app.ts';
import { loadScimConfig } from '../src/config.ts';
import { entra, fill, okta } from './helpers.ts';

const TOKEN = 'integration-scim-token-7c1e9b';
const PASSWORDS = ['1mz050nq-Okta-Sync', 'Pa55-Rotated-7', 'Entra-Pa55-9'];
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

type Step = { name: string; method: string; path: (id: string) => string; body?: unknown; expect: number };

const oktaSteps: Step[] = [
  { name: 'joiner', method: 'POST', path: () => '/Users', body: { ...okta.createUser, title: 'Engineer', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Finance', employeeNumber: '1042' } }, expect: 201 },
  { name: 'password', method: 'PATCH', path: (id) => `/Users/${id}`, body: okta.password, expect: 200 },
  // Okta's wizard apps GET then PUT the whole user for any profile change.
  { name: 'mover', method: 'PUT', path: (id) => `/Users/${id}`, body: { ...okta.createUser, title: 'Engineer', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Research', employeeNumber: '1042' } }, expect: 200 },
  {
    name: 'rename', method: 'PUT', path: (id) => `/Users/${id}`, expect: 200,
    body: { ...okta.createUser, userName: 'dana.cho@example.com', displayName: 'Dana Cho', name: { givenName: 'Dana', familyName: 'Cho' }, emails: [{ primary: true, value: 'dana.cho@example.com', type: 'work' }], title: 'Engineer', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Research', employeeNumber: '1042' } },
  },
  { name: 'leaver', method: 'PATCH', path: (id) => `/Users/${id}`, body: okta.deactivate, expect: 200 },
  { name: 'delete', method: 'DELETE', path: (id) => `/Users/${id}`, expect: 204 },
];

const entraSteps: Step[] = [
  { name: 'joiner', method: 'POST', path: () => '/Users', body: { ...entra.createUser, password: 'Entra-Pa55-9' }, expect: 201 },
  { name: 'mover', method: 'PATCH', path: (id) => `/Users/${id}`, body: entra.mover, expect: 200 },
  { name: 'rename', method: 'PATCH', path: (id) => `/Users/${id}`, body: entra.rename, expect: 200 },
  { name: 'leaver', method: 'PATCH', path: (id) => `/Users/${id}`, body: entra.disable, expect: 200 },
  { name: 'delete', method: 'DELETE', path: (id) => `/Users/${id}`, expect: 204 },
];

const dialects = [
  { dialect: 'Okta', platform: 'okta', steps: oktaSteps, personId: 'okta:00ujl29u0le5T6Aj10h7', oldEmail: 'dana.ruiz@example.com', newEmail: 'dana.cho@example.com', departments: ['Finance', 'Research'], newName: 'Dana Cho' },
  { dialect: 'Entra', platform: 'entra', steps: entraSteps, personId: 'entra:0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef', oldEmail: 'lee.park@example.com', newEmail: 'lee.kim@example.com', departments: ['Finance', 'Research'], newName: 'Lee Kim' },
];

/** Until the clock has moved past `t`: each change gets a millisecond of its own. */
async function after(t: number): Promise<number> {
  await waitFor(() => Date.now() > t + 2 || undefined, { intervalMs: 1, what: 'the clock to move' });
  return Date.now();
}

describe.each(dialects)('an IdP driving a person\'s life in $dialect\'s dialect', (d) => {
  it('versions valid from each change, enrichment as of each event\'s time, the same answers after a restart', async () => {
    const h = await harness();
    const captured = captureLogger('scim');
    const apps: ScimApp[] = [];
    onTestFinished(async () => {
      for (const app of apps) await app.stop().catch(() => undefined);
    });
    const startScim = async () => {
      const config = loadScimConfig({ ...process.env, TETHER_TOPIC_PREFIX: h.prefix, TETHER_SCIM_PORT: '0', TETHER_SCIM_TOKEN: TOKEN, TETHER_SCIM_PLATFORM: d.platform, TETHER_LOG_LEVEL: 'debug' });
      const app = buildScimApp(config, { log: captured.log });
      apps.push(app);
      await app.start();
      return app;
    };
    let app = await startScim();
    const scim = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${app.port}/scim/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    // Drive the life; each change's window [sent, answered] brackets its valid_from.
    let id = '';
    const windows = new Map<string, { from: number; to: number; at?: number }>();
    let last = Date.now();
    for (const step of d.steps) {
      const from = await after(last);
      const res = await scim(step.method, step.path(id), step.body);
      const to = Date.now();
      expect(res.status, `${step.name}: ${await res.clone().text()}`).toBe(step.expect);
      if (step.expect === 204) expect(await res.text()).toBe('');
      else {
        expect(res.headers.get('content-type')).toBe('application/scim+json; charset=utf-8');
        const body = (await res.json()) as { id: string; meta: { lastModified: string; version: string } };
        expect(res.headers.get('etag')).toBe(body.meta.version);
        if (step.name === 'joiner') {
          id = body.id;
          expect(res.headers.get('location')).toBe(`http://127.0.0.1:${app.port}/scim/v2/Users/${id}`);
        }
        windows.set(step.name, { from, to, at: Date.parse(body.meta.lastModified) });
      }
      if (!windows.has(step.name)) windows.set(step.name, { from, to });
      last = to;
    }
    expect((await scim('GET', `/Users/${id}`)).status).toBe(404);

    // The identity topic: one version per change (none for the password), each valid from when it was received.
    const onTopic = (await readTopicToEnd(h.kafka, h.codec, 'identityUsers', h.topics.identityUsers)).map((r) => r.value as PersonVersion);
    const versions = onTopic.filter((v) => v.person_id === d.personId).sort((a, b) => a.valid_from - b.valid_from);
    const changes = d.steps.filter((s) => s.name !== 'password').map((s) => s.name);
    expect(versions).toHaveLength(changes.length);
    changes.forEach((name, i) => {
      const w = windows.get(name)!;
      const v = versions[i]!;
      if (w.at !== undefined) expect(v.valid_from, name).toBe(w.at);
      expect(v.valid_from, name).toBeGreaterThanOrEqual(w.from);
      expect(v.valid_from, name).toBeLessThanOrEqual(w.to);
    });
    expect(versions.map((v) => [v.active, v.department, v.email])).toEqual([
      [true, d.departments[0], d.oldEmail], [true, d.departments[1], d.oldEmail], [true, d.departments[1], d.newEmail],
      [false, d.departments[1], d.newEmail], [false, d.departments[1], d.newEmail],
    ]);
    const raw = (await readTopicToEnd(h.kafka, h.codec, 'identityUsers', h.topics.identityUsers)).map((r) => JSON.stringify(r.value)).join('\n');
    for (const p of PASSWORDS) {
      expect(raw).not.toContain(p);
      expect(captured.lines.join('\n')).not.toContain(p);
    }
    expect(captured.lines.join('\n')).not.toContain(TOKEN);

    // Enrichment: an event between each pair of changes, attributed as the person was then.
    const mid = (a: string, b: string) => Math.floor((windows.get(a)!.to + windows.get(b)!.from) / 2);
    const events = [
      { name: 'as joiner', time: mid('joiner', 'mover'), email: d.oldEmail },
      { name: 'after the move', time: mid('mover', 'rename'), email: d.oldEmail },
      { name: 'after the rename', time: mid('rename', 'leaver'), email: d.newEmail },
      { name: 'after the rename, by the old address', time: mid('rename', 'leaver'), email: d.oldEmail },
      { name: 'after leaving', time: mid('leaver', 'delete'), email: d.newEmail },
    ].map((e, i) => ({ ...e, event: openaiSessionEvent({ id: `${d.platform}-${i}`, time: e.time, type: 'login.succeeded', userId: `user-${d.platform}-${i}`, email: e.email }) }));
    const output = await h.readEnriched();
    await h.startApp({ TETHER_ENRICH_LATE_WAIT_MS: '0' });
    await h.writeEvents(events.map((e) => e.event));
    await waitFor(() => output.length >= events.length || undefined, { what: 'every event enriched' });
    const byId = new Map(output.map((o) => [o.value.event.event_id, o.value]));
    const person = (name: string) => byId.get(events.find((e) => e.name === name)!.event.event_id)!.person;
    expect(person('as joiner')).toMatchObject({ person_id: d.personId, department: d.departments[0], lifecycle_state: 'active', email: d.oldEmail });
    expect(person('after the move')).toMatchObject({ person_id: d.personId, department: d.departments[1], lifecycle_state: 'active' });
    expect(person('after the rename')).toMatchObject({ person_id: d.personId, display_name: d.newName, email: d.newEmail, lifecycle_state: 'active' });
    expect(person('after the rename, by the old address')).toMatchObject({ person_id: d.personId, email: d.newEmail });
    expect(person('after leaving')).toMatchObject({ person_id: d.personId, lifecycle_state: 'inactive' });

    // A restart rebuilds the state from the topic: GETs answer as before.
    const second = (await (await scim('POST', '/Users', { ...okta.createUser, userName: 'sam@example.com', externalId: 'sam', emails: [] })).json()) as { id: string };
    const group = (await (await scim('POST', '/Groups', { ...okta.createGroup, members: [{ value: second.id }] })).json()) as { id: string };
    await scim('PATCH', `/Users/${second.id}`, fill(entra.managerEnterprise, { MANAGER: second.id }));
    const paths = [`/Users/${second.id}`, `/Groups/${group.id}`, '/Users?filter=userName%20eq%20%22SAM%40example.com%22', '/Groups?excludedAttributes=members', `/Users/${id}`, '/Users'];
    const answers = async () => Promise.all(paths.map(async (p) => { const r = await scim('GET', p); return { status: r.status, etag: r.headers.get('etag'), body: await r.text() }; }));
    const before = await answers();
    await app.stop();
    app = await startScim();
    const afterRestart = (await answers()).map((a) => ({ ...a, body: a.body.replaceAll(`:${app.port}/`, ':PORT/') }));
    expect(afterRestart).toEqual(before.map((a) => ({ ...a, body: a.body.replaceAll(`:${apps[0]!.port ?? ''}/`, ':PORT/') })));
    expect(afterRestart[4]!.status).toBe(404);
  });
});
