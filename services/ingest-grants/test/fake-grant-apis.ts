// Stand-ins for the four grant APIs that speak their real paging (Google
// nextPageToken, Graph @odata.nextLink, Okta polling-mode Link rel="next",
// GitHub Link rel="next"), filter by their own time parameters, check their
// auth (Google's JWT bearer grant signed with the service account's key,
// Entra's client-credentials token endpoint, Okta SSWS, GitHub bearer),
// answer the second API request with a 429, and hold one page on cue.
// Each serves one person's connector lifecycle: grant an AI app, use it from
// the vendor's servers, revoke, grant again, use again; plus other users'
// grants of a non-AI app (more pages) and one malformed record.
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GrantProvider } from '../src/normalise/grant-event.ts';

export const DANA = {
  email: 'dana.ruiz@example.com',
  googleProfileId: '114477889900112233445',
  entraId: '0a1b2c3d-0000-4000-8000-00000000dana',
  oktaId: '00u1ab2CdExAmPlE3f4',
  githubId: 5512345,
  githubLogin: 'dana-ruiz',
};
/** An address of the AI vendor's servers (no device of ours). */
export const VENDOR_IP = '20.171.206.9';
export const OFFICE_IP = '203.0.113.24';
export const AI_APP = 'ChatGPT';
export const CLIENT: Record<GrantProvider, string> = {
  google: '123456789012-chatgpt.apps.googleusercontent.com',
  entra: 'e0476654-c1d5-430b-ab80-70cbd947616a',
  okta: '0oa8x2k1ExAmPlE5d7',
  github: '881122',
};
export const ENTRA_TENANT = 'tttttttt-0000-4000-8000-000000000001';
const ENTRA_SP = '9f8e7d6c-0000-4000-8000-0000000000sp';
export const GITHUB_ORG = 'example-co';

export type Step = 'grant' | 'use' | 'revoke';

/** The lifecycle, minutes after t0: grant, use, revoke, grant again, use (the last after the person left, in the e2e test). */
export const LIFECYCLE: readonly [Step, number][] = [['grant', 0], ['use', 10], ['use', 20], ['revoke', 60], ['grant', 120], ['use', 180]];
/** Sources whose log records token use; Entra's and GitHub's audit logs record grants only. */
export const LOGS_USE: Record<GrantProvider, boolean> = { google: true, entra: false, okta: true, github: false };
const FILLER_USERS = 5;

interface Stored {
  time: number;
  /** Google: which eventName stream it belongs to. */
  stream: string;
  json: Record<string, unknown>;
  bad?: true;
}

export interface FakeRequest {
  path: string;
  query: URLSearchParams;
  status: number;
}

export interface FakeGrantApi {
  provider: GrantProvider;
  baseUrl: string;
  /** Environment the CLI needs to poll it. */
  env: Record<string, string>;
  /** Secrets that must appear in no output. */
  secrets: string[];
  requests: FakeRequest[];
  tokenRequests: number;
  /** Exact JSON of the malformed record as served. */
  badRecord: string;
  /** Resolves with the held request's URL when the held page is asked for. */
  holding: Promise<URL>;
  release(): void;
  close(): Promise<void>;
}

const iso = (ms: number) => new Date(ms).toISOString();

function lifecycleRecords(provider: GrantProvider, t0: number, steps: readonly [Step, number][]): Stored[] {
  const out: Stored[] = [];
  steps.forEach(([step, minutes], i) => {
    if (step === 'use' && !LOGS_USE[provider]) return;
    out.push(record(provider, step, t0 + minutes * 60_000, i, { ai: true }));
  });
  for (let u = 0; u < FILLER_USERS; u++) out.push(record(provider, 'grant', t0 + (30 + u) * 60_000, 100 + u, { ai: false, user: u }));
  out.push({ ...record(provider, 'grant', t0 + 45 * 60_000, 999, { ai: false, user: 99 }), bad: true });
  return out.sort((a, b) => a.time - b.time);
}

/** One record in the provider's real shape. `user` names a filler user (a non-AI app's grant). */
function record(provider: GrantProvider, step: Step, time: number, n: number, who: { ai: boolean; user?: number }): Stored {
  const ip = step === 'use' ? VENDOR_IP : OFFICE_IP;
  const email = who.user === undefined ? DANA.email : `user${who.user}@example.com`;
  const app = who.ai ? AI_APP : 'Team Notes';
  switch (provider) {
    case 'google': {
      const name = step === 'grant' ? 'authorize' : step === 'revoke' ? 'revoke' : 'activity';
      const params: unknown[] = [
        { name: 'client_id', value: who.ai ? CLIENT.google : 'notes-1.apps.googleusercontent.com' },
        { name: 'app_name', value: app },
        { name: 'client_type', value: 'WEB' },
      ];
      if (step === 'use') params.push({ name: 'api_name', value: 'drive' }, { name: 'method_name', value: 'drive.files.get' }, { name: 'num_response_bytes', intValue: '5121' });
      else params.push({ name: 'scope', multiValue: ['https://www.googleapis.com/auth/drive.readonly', 'openid'] });
      const json: Record<string, unknown> = {
        kind: 'admin#reports#activity',
        id: { time: iso(time), uniqueQualifier: String(-4412098765501234567n + BigInt(n)), applicationName: 'token', customerId: 'C01ab2cd3' },
        actor: { callerType: 'USER', email, profileId: who.user === undefined ? DANA.googleProfileId : `2000000000000000000${who.user}` },
        ipAddress: ip,
        events: [{ type: 'auth', name, parameters: params }],
      };
      return { time, stream: name, json };
    }
    case 'entra': {
      const userId = who.user === undefined ? DANA.entraId : `0a1b2c3d-0000-4000-8000-0000000user${who.user}`;
      const sp = who.ai ? ENTRA_SP : 'notes-sp';
      const appId = who.ai ? CLIENT.entra : 'notes-app-id';
      const initiatedBy = { app: null, user: { id: userId, userPrincipalName: email, ipAddress: ip } };
      const json: Record<string, unknown> = step === 'grant'
        ? {
            id: `Directory_consent_${n}`, category: 'ApplicationManagement', result: 'success', activityDisplayName: 'Consent to application',
            activityDateTime: iso(time), operationType: 'Assign', initiatedBy,
            additionalDetails: [{ key: 'AppId', value: appId }, { key: 'User-Agent', value: 'Mozilla/5.0 (Macintosh)' }],
            targetResources: [{ id: sp, displayName: app, type: 'ServicePrincipal', modifiedProperties: [
              { displayName: 'ConsentContext.IsAdminConsent', oldValue: null, newValue: '"False"' },
              { displayName: 'ConsentContext.OnBehalfOfAll', oldValue: null, newValue: '"False"' },
              { displayName: 'ConsentAction.Permissions', oldValue: null, newValue: JSON.stringify(`[] => [[Id: g${n}, ClientId: ${sp}, PrincipalId: ${userId}, ResourceId: 1111-graph, ConsentType: Principal, Scope: Files.Read Mail.Read offline_access, CreatedDateTime: , LastModifiedDateTime ]];`) },
            ] }],
          }
        : {
            id: `Directory_remove_${n}`, category: 'ApplicationManagement', result: 'success', activityDisplayName: 'Remove delegated permission grant',
            activityDateTime: iso(time), operationType: 'Unassign', initiatedBy,
            additionalDetails: [{ key: 'AppId', value: appId }],
            targetResources: [
              { id: '1111-graph', displayName: 'Microsoft Graph', type: 'ServicePrincipal', modifiedProperties: [
                { displayName: 'DelegatedPermissionGrant.Scope', oldValue: '"Files.Read Mail.Read offline_access"', newValue: '""' },
                { displayName: 'DelegatedPermissionGrant.ConsentType', oldValue: '"Principal"', newValue: '""' },
              ] },
              { id: sp, displayName: app, type: 'ServicePrincipal', modifiedProperties: [] },
            ],
          };
      return { time, stream: 'audit', json };
    }
    case 'okta': {
      const user = { id: who.user === undefined ? DANA.oktaId : `00uuser${who.user}`, type: 'User', alternateId: email, displayName: email };
      const client = { id: who.ai ? CLIENT.okta : '0oanotes', type: 'PublicClientApp', displayName: app };
      const eventType = step === 'grant' ? 'app.oauth2.as.consent.grant' : step === 'revoke' ? 'app.oauth2.as.consent.revoke' : 'app.oauth2.as.token.grant.access_token';
      const json: Record<string, unknown> = {
        uuid: `7d0c6a52-1f4e-11f0-9b1a-${String(n).padStart(12, '0')}`, published: iso(time), eventType, severity: 'INFO',
        actor: step === 'use' ? client : user,
        client: { ipAddress: ip, userAgent: { rawUserAgent: step === 'use' ? 'ExampleAssistant/2.3' : 'Mozilla/5.0' } },
        outcome: { result: 'SUCCESS' },
        target: step === 'use' ? [user] : [client],
        debugContext: { debugData: { grantedScopes: 'openid offline_access okta.users.read' } },
      };
      return { time, stream: 'log', json };
    }
    case 'github': {
      const action = step === 'grant' ? 'oauth_authorization.create' : 'oauth_authorization.destroy';
      const json: Record<string, unknown> = {
        '@timestamp': time, _document_id: `Xk3pQ9vL2mN8rT1wYb${String(n).padStart(4, '0')}`, action, operation_type: step === 'grant' ? 'create' : 'remove',
        actor: who.user === undefined ? DANA.githubLogin : `user-${who.user}`, actor_id: who.user === undefined ? DANA.githubId : 7000 + who.user,
        actor_ip: ip, user_agent: 'Mozilla/5.0 (Macintosh)', org: GITHUB_ORG, org_id: 8812345,
        oauth_application_id: who.ai ? Number(CLIENT.github) : 4242, oauth_application: app, token_scopes: 'repo,read:org',
      };
      return { time, stream: 'audit', json };
    }
  }
}

function spoil(s: Stored): Record<string, unknown> {
  const { id: _i, uuid: _u, _document_id: _d, ...rest } = s.json as Record<string, unknown>;
  if (s.stream === 'audit' || s.stream === 'log') return rest;
  // Google: an id without uniqueQualifier.
  return { ...rest, id: { time: (s.json.id as { time: string }).time } };
}

export interface FakeOptions {
  provider: GrantProvider;
  t0: number;
  steps?: readonly [Step, number][];
  /** The n-th successful API page (1-based) is held until release(). */
  holdPage?: number;
  /** Pages of a feed that loop / are not JSON (feed-guard tests). */
  hostile?: 'loop' | 'not_json';
}

export async function serveFakeGrantApi(options: FakeOptions): Promise<FakeGrantApi> {
  const { provider } = options;
  const stored = lifecycleRecords(provider, options.t0, options.steps ?? LIFECYCLE);
  const served = (s: Stored) => (s.bad ? spoil(s) : s.json);
  const badRecord = JSON.stringify(served(stored.find((s) => s.bad)!));
  const requests: FakeRequest[] = [];
  let apiRequests = 0;
  let pages = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held!: (url: URL) => void;
  const holding = new Promise<URL>((resolve) => (held = resolve));
  const token = `ya29.fake-${provider}-access-token-7Qm2`;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secret = `${provider}-secret-Zr8Wq3Lp9Xv2`;
  let base = '';
  const state = { tokenRequests: 0 };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };

  async function form(req: IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  }

  /** Google's token endpoint: a JWT bearer assertion signed with the key, for the Reports scope, as the admin. */
  function googleToken(body: URLSearchParams): boolean {
    if (body.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return false;
    const [h, c, sig] = (body.get('assertion') ?? '').split('.');
    if (!h || !c || !sig) return false;
    if (!verify('RSA-SHA256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(sig, 'base64url'))) return false;
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
    return claims.iss === 'tether-reports@example-project.iam.gserviceaccount.com' && claims.sub === 'admin@example.com'
      && claims.scope === 'https://www.googleapis.com/auth/admin.reports.audit.readonly' && claims.aud === `${base}/token`;
  }

  function authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    if (provider === 'okta') return header === `SSWS ${secret}`;
    if (provider === 'github') return header === `Bearer ${secret}` && req.headers['x-github-api-version'] === '2022-11-28';
    return header === `Bearer ${token}`;
  }

  /** Records of a window, by the provider's own time parameters. */
  function inRange(from: number, to: number, stream?: string) {
    return stored.filter((s) => s.time >= from && s.time <= to && (stream === undefined || s.stream === stream));
  }

  function page(url: URL): { status: number; body: unknown; headers?: Record<string, string> } {
    const q = url.searchParams;
    const here = `${base}${url.pathname}`;
    switch (provider) {
      case 'google': {
        const list = inRange(Date.parse(q.get('startTime')!), Date.parse(q.get('endTime')!), q.get('eventName')!).reverse();
        const size = Number(q.get('maxResults'));
        const offset = Number(q.get('pageToken') ?? 0);
        const items = list.slice(offset, offset + size).map(served);
        return { status: 200, body: { kind: 'admin#reports#activities', ...(items.length > 0 ? { items } : {}), ...(offset + size < list.length ? { nextPageToken: String(offset + size) } : {}) } };
      }
      case 'entra': {
        if (url.pathname.endsWith('/oauth2PermissionGrants')) {
          return { status: 200, body: { value: [{ id: 'grant-notes-all', clientId: 'notes-sp', consentType: 'AllPrincipals', principalId: null, resourceId: '1111-graph', scope: 'User.Read' }] } };
        }
        if (url.pathname.includes('/servicePrincipals/')) return { status: 200, body: { id: 'notes-sp', appId: 'notes-app-id', displayName: 'Team Notes' } };
        const m = /activityDateTime ge (\S+) and activityDateTime le (\S+)/.exec(q.get('$filter') ?? '');
        const skip = Number(q.get('$skiptoken') ?? 0);
        const filter = q.get('$filter') ?? '';
        const list = m ? inRange(Date.parse(m[1]!), Date.parse(m[2]!)) : [];
        const top = Number(q.get('$top'));
        const more = skip + top < list.length;
        const next = `${here}?$filter=${encodeURIComponent(filter)}&$top=${top}&$skiptoken=${skip + top}`;
        return { status: 200, body: { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits', value: list.slice(skip, skip + top).map(served), ...(more ? { '@odata.nextLink': next } : {}) } };
      }
      case 'okta': {
        // Polling mode: `after` is the position in persistence order; every page links on, even an empty one.
        const limit = Number(q.get('limit'));
        const after = q.get('after');
        const list = after === null ? stored.filter((s) => s.time >= Date.parse(q.get('since')!)) : stored;
        const start = after === null ? stored.indexOf(list[0]!) : Number(after);
        const from = start < 0 ? stored.length : start;
        const items = stored.slice(from, from + limit);
        const next = `${base}/api/v1/logs?after=${from + items.length}&limit=${limit}`;
        return { status: 200, body: items.map(served), headers: { link: `<${here}?${q}>; rel="self", <${next}>; rel="next"`, 'x-rate-limit-limit': '120', 'x-rate-limit-remaining': '100', 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 60) } };
      }
      case 'github': {
        const m = /created:(\S+)\.\.(\S+)/.exec(q.get('phrase') ?? '');
        const list = m ? inRange(Date.parse(m[1]!), Date.parse(m[2]!) + 999) : [];
        const per = Number(q.get('per_page') ?? 30);
        const after = Number(q.get('after') ?? 0);
        const more = after + per < list.length;
        const next = `${here}?phrase=${encodeURIComponent(q.get('phrase') ?? '')}&order=asc&per_page=${per}&after=${after + per}`;
        return { status: 200, body: list.slice(after, after + per).map(served), headers: more ? { link: `<${next}>; rel="next"` } : {} };
      }
    }
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const record = (status: number) => requests.push({ path: url.pathname, query: url.searchParams, status });
      if (req.method === 'POST') {
        const body = await form(req);
        state.tokenRequests++;
        const ok = provider === 'google' ? url.pathname === '/token' && googleToken(body)
          : provider === 'entra' && url.pathname === `/${ENTRA_TENANT}/oauth2/v2.0/token` && body.get('grant_type') === 'client_credentials'
            && body.get('client_id') === 'tether-client' && body.get('client_secret') === secret && body.get('scope') === 'https://graph.microsoft.com/.default';
        record(ok ? 200 : 400);
        return ok ? send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3599 }) : send(res, 400, { error: 'invalid_grant' });
      }
      if (!authorised(req)) {
        record(401);
        return send(res, 401, { error: 'unauthorized' });
      }
      apiRequests++;
      if (apiRequests === 2) {
        record(429);
        const headers: Record<string, string> = provider === 'okta' ? { 'x-rate-limit-reset': String(Math.floor(Date.now() / 1000) + 1), 'x-rate-limit-remaining': '0' } : { 'retry-after': '1' };
        return send(res, 429, { error: { code: 'TooManyRequests', message: 'slow down' } }, headers);
      }
      if (options.hostile === 'not_json' && apiRequests > 2) {
        record(200);
        return send(res, 200, '<html><body>Service Unavailable</body></html>', { 'content-type': 'text/html' });
      }
      let answer = page(url);
      if (options.hostile === 'loop' && apiRequests > 2) answer = loopingPage(provider, url, base, answer);
      pages++;
      if (pages === options.holdPage) {
        held(url);
        await released;
      }
      record(answer.status);
      send(res, answer.status, answer.body, answer.headers ?? {});
    })().catch((err: unknown) => {
      // A bug in the fake: loud in the test's output.
      console.error('fake grant API failed', err);
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const env = ((): Record<string, string> => {
    switch (provider) {
      case 'google': return {
        TETHER_GOOGLE_SERVICE_ACCOUNT_FILE: keyFile(JSON.stringify({ type: 'service_account', client_email: 'tether-reports@example-project.iam.gserviceaccount.com', private_key: keyPem, token_uri: `${base}/token` })),
        TETHER_GOOGLE_SUBJECT: 'admin@example.com', TETHER_GOOGLE_BASE_URL: base, TETHER_GOOGLE_CUSTOMER_ID: 'C01ab2cd3',
      };
      case 'entra': return {
        TETHER_ENTRA_TENANT_ID: ENTRA_TENANT, TETHER_ENTRA_CLIENT_ID: 'tether-client', TETHER_ENTRA_CLIENT_SECRET: secret,
        TETHER_ENTRA_BASE_URL: `${base}/v1.0`, TETHER_ENTRA_TOKEN_URL: `${base}/${ENTRA_TENANT}/oauth2/v2.0/token`, TETHER_ENTRA_REQUESTS_PER_MINUTE: '0',
      };
      case 'okta': return { TETHER_OKTA_BASE_URL: base, TETHER_OKTA_API_TOKEN: secret };
      case 'github': return { TETHER_GITHUB_TOKEN: secret, TETHER_GITHUB_ORG: GITHUB_ORG, TETHER_GITHUB_BASE_URL: base, TETHER_GITHUB_REQUESTS_PER_MINUTE: '0' };
    }
  })();

  return {
    provider,
    baseUrl: base,
    env,
    secrets: provider === 'google' ? [token, keyPem.split('\n')[1]!] : [secret, token],
    requests,
    get tokenRequests() {
      return state.tokenRequests;
    },
    badRecord,
    holding,
    release,
    close: () => new Promise<void>((resolve) => {
      release();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The key file as the Cloud console writes it. */
function keyFile(json: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'tether-google-key-')), 'key.json');
  writeFileSync(file, json, { mode: 0o600 });
  return file;
}

/** The cursor in a held request's URL, as it appears in the checkpoint saved before it. */
export function heldMark(provider: GrantProvider, url: URL): string {
  switch (provider) {
    case 'google': return `"token":"${url.searchParams.get('pageToken')}"`;
    case 'entra': return `$skiptoken=${url.searchParams.get('$skiptoken')}`;
    case 'okta':
    case 'github': return `after=${url.searchParams.get('after')}`;
  }
}

/** A page whose cursor comes back: the same next link (or token) every time. */
function loopingPage(provider: GrantProvider, url: URL, base: string, answer: { status: number; body: unknown; headers?: Record<string, string> }) {
  const filler = [{ looping: 1 }, { looping: 2 }];
  switch (provider) {
    case 'google': return { status: 200, body: { items: filler, nextPageToken: 'again' } };
    case 'entra': return { status: 200, body: { value: filler, '@odata.nextLink': `${base}${url.pathname}?$skiptoken=again` } };
    case 'okta':
    case 'github': return { ...answer, status: 200, body: filler, headers: { link: `<${base}${url.pathname}?after=again&limit=2>; rel="next"` } };
  }
}
