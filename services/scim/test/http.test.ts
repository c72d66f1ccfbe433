// The HTTP edge through fastify's inject (no sockets): auth, media types,
// envelope validation and RFC 7644 error bodies, and what reaches the logs.
import { describe, expect, it } from 'vitest';
import { captureLogger } from '#testkit';
import { buildHttp } from '../src/http.ts';
import { createScimMetrics } from '../src/metrics.ts';
import { okta, scimHarness } from './helpers.ts';

const TOKEN = 'scim-test-token-5d1f8a2c9e';

async function server() {
  const h = await scimHarness();
  const { log, lines } = captureLogger('scim');
  const app = buildHttp({
    service: h.service, token: TOKEN, log, metrics: createScimMetrics({ defaultMetrics: false }), bodyLimitBytes: 65_536,
    baseUrl: undefined, health: () => ({ state: 'running', checks: {} }), ready: () => true,
  });
  const call = (method: string, url: string, payload?: string | object, headers: Record<string, string> = {}) =>
    app.inject({
      method: method as 'GET', url, payload: payload as string | undefined,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json', ...headers },
    });
  return { h, app, call, lines };
}

describe('SCIM over HTTP', () => {
  it('answers 401 with a SCIM error without the token or with a wrong one, and applies nothing', async () => {
    const { app, h } = await server();
    for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
      const res = await app.inject({ method: 'POST', url: '/scim/v2/Users', payload: okta.createUser, headers: authorization ? { authorization } : {} });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    }
    expect(h.records).toEqual([]);
    // Health and metrics need no token.
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain('tether_scim_requests_total');
  });

  it('creates with application/scim+json and application/json, and answers in application/scim+json', async () => {
    const { call } = await server();
    const created = await call('POST', '/scim/v2/Users', okta.createUser);
    expect(created.statusCode).toBe(201);
    expect(created.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    expect(created.headers.location).toBe(`http://localhost:80/scim/v2/Users/${created.json().id}`);
    expect(created.headers.etag).toBe('W/"1"');
    const list = await call('GET', '/scim/v2/Users?filter=userName+eq+%22dana.ruiz%40example.com%22&startIndex=1&count=100', undefined, { 'content-type': 'application/json' });
    expect(list.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    const probe = await call('GET', '/scim/v2/Users?filter=userName%20eq%20%22b3c5e0c8-6a1d-4b8e-9d7e-1c0f6b6a1f00%22');
    expect(probe.json()).toMatchObject({ totalResults: 0, Resources: [] });
    for (const path of ['ServiceProviderConfig', 'ResourceTypes', 'Schemas', 'Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']) {
      expect((await call('GET', `/scim/v2/${path}`)).statusCode).toBe(200);
    }
    expect((await call('GET', '/scim/v2/ServiceProviderConfig')).json()).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 200 }, etag: { supported: true }, bulk: { supported: false } });
  });

  it.each([
    ['malformed JSON', '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@example.com","password":"S3cret-Pa55word" ', 'invalidSyntax'],
    ['a body that is not an object', '["urn:ietf:params:scim:schemas:core:2.0:User"]', 'invalidSyntax'],
    ['a wrong schema URN', JSON.stringify({ ...okta.createUser, schemas: ['urn:ietf:params:scim:schemas:core:1.0:User'] }), 'invalidSyntax'],
    ['no schemas', JSON.stringify({ userName: 'x@example.com', password: 'S3cret-Pa55word' }), 'invalidSyntax'],
  ])('POST with %s: 400 %s, nothing applied, no password echoed or logged', async (_what, payload, scimType) => {
    const { call, h, lines } = await server();
    const res = await call('POST', '/scim/v2/Users', payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType });
    expect(h.records).toEqual([]);
    expect(res.body + lines.join('\n')).not.toMatch(/S3cret-Pa55word|1mz050nq/);
  });

  it('a bad filter is 400 invalidFilter; a bad PATCH envelope 400 invalidSyntax; unknown routes 404 in SCIM form', async () => {
    const { call, h } = await server();
    expect((await call('GET', '/scim/v2/Users?filter=userName%20eq')).json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
    const id = (await call('POST', '/scim/v2/Users', okta.createUser)).json().id as string;
    expect((await call('PATCH', `/scim/v2/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] })).json()).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
    expect((await call('PATCH', `/scim/v2/Users/${id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], Operations: [{ op: 'replace', value: { active: false } }] })).json()).toMatchObject({ scimType: 'invalidSyntax' });
    expect((await call('GET', '/scim/v2/Nope')).json()).toMatchObject({ status: '404' });
    expect((await call('POST', '/scim/v2/Users', okta.createUser, { 'content-type': 'text/plain' })).statusCode).toBe(415);
    expect(h.persons()).toHaveLength(1);
  });

  it('a password in a valid body is neither stored, returned nor logged', async () => {
    const { call, h, lines } = await server();
    const res = await call('POST', '/scim/v2/Users', okta.createUser);
    const id = res.json().id as string;
    await call('PATCH', `/scim/v2/Users/${id}`, okta.password);
    await call('PUT', `/scim/v2/Users/${id}`, { ...okta.createUser, password: 'Another-Pa55' });
    const get = await call('GET', `/scim/v2/Users/${id}`);
    const seen = [res.body, get.body, JSON.stringify(h.records), JSON.stringify([...h.service.directory.users.values()]), lines.join('\n')].join('\n');
    expect(seen).not.toMatch(/1mz050nq|Pa55-Rotated-7|Another-Pa55/);
    expect(seen).not.toContain(TOKEN);
  });
});
