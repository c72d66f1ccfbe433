// Auth hooks against a local token server and a local API on 127.0.0.1 (real
// HTTP, node:http): tokens cached, refreshed before they expire, replaced once
// after a 401, and no credential in any log line.
import { generateKeyPairSync, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { captureLogger } from '#testkit';
import { basicAuth, bearerAuth, googleServiceAccount, oauthClientCredentials, type Auth } from '../src/auth.ts';
import { createHttpClient } from '../src/http-client.ts';
import { compileRetryPolicy } from '../src/retry.ts';
import { createScrubber } from '../src/secrets.ts';

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()); })));
});

async function serve(handler: (seen: Seen) => { status: number; body: unknown }): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      const answer = handler(s);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function clientFor(auth: Auth, baseUrl: string, clock: { now: number }) {
  const scrubber = createScrubber(auth.secrets);
  const { log, lines } = captureLogger();
  const http = createHttpClient({
    baseUrl,
    headers: {},
    auth,
    registerSecret: scrubber.add,
    timeoutMs: 5_000,
    retry: compileRetryPolicy({ maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 }),
    scrub: scrubber.text,
    log,
    now: () => clock.now,
  });
  return { http, scrubber, lines };
}

/** An API that accepts only the tokens in `valid`. */
function api(valid: Set<string>) {
  return serve((s) => {
    const token = /^Bearer (.+)$/.exec(String(s.headers.authorization ?? ''))?.[1];
    return token && valid.has(token) ? { status: 200, body: { data: [s.path], has_more: false } } : { status: 401, body: { error: 'invalid_token' } };
  });
}

describe('OAuth 2.0 client credentials', () => {
  const CLIENT_SECRET = 'cs-9Kq2v7Xw4mZp1Lr8';

  it('gets a token once, reuses it, refreshes it before it expires; no secret or token in the logs', async () => {
    const issued: string[] = [];
    const valid = new Set<string>();
    const token = await serve((s) => {
      const form = new URLSearchParams(s.body);
      const expected = `Basic ${Buffer.from(`acme-client:${CLIENT_SECRET}`).toString('base64')}`;
      if (s.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') return { status: 401, body: { error: 'invalid_client' } };
      const value = `at-${issued.length + 1}-${'x'.repeat(24)}`;
      issued.push(form.get('scope') ?? '');
      valid.add(value);
      return { status: 200, body: { access_token: value, token_type: 'Bearer', expires_in: 300 } };
    });
    const server = await api(valid);
    const clock = { now: 1_000_000 };
    const auth = oauthClientCredentials({ tokenUrl: `${token.url}/oauth2/token`, clientId: 'acme-client', clientSecret: CLIENT_SECRET, scopes: ['audit.read', 'users.read'], refreshBeforeMs: 60_000 });
    const { http, scrubber, lines } = clientFor(auth, server.url, clock);

    await Promise.all([http.getJson('/a'), http.getJson('/b'), http.getJson('/c')]);
    expect(issued).toEqual(['audit.read users.read']);
    clock.now += 239_000; // 61 s before expiry: still used
    await http.getJson('/d');
    expect(issued).toHaveLength(1);
    clock.now += 2_000; // 59 s before expiry: refreshed first
    await http.getJson('/e');
    expect(issued).toHaveLength(2);
    expect(server.seen.at(-1)!.headers.authorization).toBe(`Bearer at-2-${'x'.repeat(24)}`);

    expect(scrubber.secrets).toEqual(expect.arrayContaining([CLIENT_SECRET, `at-1-${'x'.repeat(24)}`, `at-2-${'x'.repeat(24)}`]));
    const logged = lines.join('\n');
    for (const secret of scrubber.secrets) expect(logged).not.toContain(secret);
  });

  it('a token the API refuses (401) is replaced once; a second 401 is the error', async () => {
    const valid = new Set<string>();
    let n = 0;
    const token = await serve((s) => {
      const form = new URLSearchParams(s.body);
      if (form.get('client_secret') !== CLIENT_SECRET) return { status: 401, body: { error: 'invalid_client' } };
      n++;
      return { status: 200, body: { access_token: `tok-${n}-abcdefghijkl`, token_type: 'bearer', expires_in: '3600' } };
    });
    const server = await api(valid);
    const auth = oauthClientCredentials({ tokenUrl: `${token.url}/token`, clientId: 'c', clientSecret: CLIENT_SECRET, clientAuth: 'body' });
    const { http } = clientFor(auth, server.url, { now: 0 });

    // The first token was revoked server-side: only the second is valid.
    valid.add('tok-2-abcdefghijkl');
    await expect(http.getJson('/x')).resolves.toEqual({ data: ['/x'], has_more: false });
    expect(n).toBe(2);
    expect(server.seen.map((s) => s.headers.authorization)).toEqual(['Bearer tok-1-abcdefghijkl', 'Bearer tok-2-abcdefghijkl']);

    valid.clear();
    await expect(http.getJson('/y')).rejects.toMatchObject({ code: 'TETHER_SOURCE_HTTP', context: { status: 401 } });
    expect(n).toBe(3);
    expect(server.seen.filter((s) => s.path === '/y')).toHaveLength(2);
  });

  it('a token endpoint that refuses the client is a typed, non-retriable error with the quoted reason, no secret', async () => {
    const token = await serve(() => ({ status: 400, body: { error: 'invalid_client', error_description: `bad secret ${CLIENT_SECRET}\n{"level":"info","forged":true}` } }));
    const auth = oauthClientCredentials({ tokenUrl: `${token.url}/token`, clientId: 'c', clientSecret: CLIENT_SECRET });
    const { http } = clientFor(auth, 'http://127.0.0.1:9', { now: 0 });
    const err = (await http.getJson('/x').then(() => undefined, (e: unknown) => e)) as Error & { code: string; retriable: boolean };
    expect(err).toMatchObject({ code: 'TETHER_SOURCE_AUTH', retriable: false });
    expect(err.message).toContain('refused the credentials: HTTP 400 "invalid_client": "bad secret [redacted]\\u000a{\\"level\\":\\"info\\",\\"forged\\":true}"');
    expect(token.seen).toHaveLength(1);
  });
});

describe('Google service-account JWT exchange', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('signs an RS256 assertion (iss, scope, aud, sub, iat, exp) the token server verifies, and refreshes before expiry', async () => {
    const claims: Record<string, unknown>[] = [];
    const valid = new Set<string>();
    const token = await serve((s) => {
      const form = new URLSearchParams(s.body);
      const [h, c, sig] = (form.get('assertion') ?? '').split('.');
      const ok = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer'
        && verify('RSA-SHA256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(sig ?? '', 'base64url'));
      if (!ok) return { status: 400, body: { error: 'invalid_grant' } };
      expect(JSON.parse(Buffer.from(h!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT' });
      claims.push(JSON.parse(Buffer.from(c!, 'base64url').toString()) as Record<string, unknown>);
      const value = `ya29.token-${claims.length}-${'q'.repeat(20)}`;
      valid.add(value);
      return { status: 200, body: { access_token: value, expires_in: 3599, token_type: 'Bearer' } };
    });
    const server = await api(valid);
    const clock = { now: Date.parse('2026-03-03T12:00:00Z') };
    const auth = googleServiceAccount({
      clientEmail: 'tether@acme-prod.iam.gserviceaccount.com',
      privateKey: pem,
      tokenUri: `${token.url}/token`,
      scopes: ['https://www.googleapis.com/auth/admin.reports.audit.readonly', 'https://www.googleapis.com/auth/admin.directory.user.readonly'],
      subject: 'admin@acme.example',
    });
    const { http, scrubber, lines } = clientFor(auth, server.url, clock);

    await http.getJson('/admin/reports/v1/activity/users/all/applications/token');
    await http.getJson('/admin/directory/v1/users');
    expect(claims).toEqual([{
      iss: 'tether@acme-prod.iam.gserviceaccount.com',
      scope: 'https://www.googleapis.com/auth/admin.reports.audit.readonly https://www.googleapis.com/auth/admin.directory.user.readonly',
      aud: `${token.url}/token`,
      sub: 'admin@acme.example',
      iat: clock.now / 1000,
      exp: clock.now / 1000 + 3600,
    }]);
    clock.now += 3_540_000; // 59 s before the token's expiry
    await http.getJson('/admin/directory/v1/users');
    expect(claims).toHaveLength(2);
    expect(claims[1]!.iat).toBe(clock.now / 1000);
    expect(server.seen.at(-1)!.headers.authorization).toBe(`Bearer ya29.token-2-${'q'.repeat(20)}`);

    expect(scrubber.text(`key ${pem} token ya29.token-1-${'q'.repeat(20)}`)).toBe('key [redacted] token [redacted]');
    const logged = lines.join('\n');
    for (const secret of scrubber.secrets) expect(logged).not.toContain(secret);
  }, 30_000);
});

describe('static credentials', () => {
  it('Basic and Bearer name every form their secret travels in; a 401 is not retried with the same key', async () => {
    expect(basicAuth('key_abc123', '').secrets).toEqual(['key_abc123', 'a2V5X2FiYzEyMzo=', 'Basic a2V5X2FiYzEyMzo=']);
    expect(bearerAuth('sk-admin-0123456789').secrets).toEqual(['sk-admin-0123456789', 'Bearer sk-admin-0123456789']);
    const server = await api(new Set());
    const { http } = clientFor(bearerAuth('sk-admin-0123456789'), server.url, { now: 0 });
    await expect(http.getJson('/x')).rejects.toMatchObject({ code: 'TETHER_SOURCE_HTTP', context: { status: 401 } });
    expect(server.seen).toHaveLength(1);
  });
});
