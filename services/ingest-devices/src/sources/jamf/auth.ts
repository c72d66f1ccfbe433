// Jamf Pro API credentials: an API client (OAuth 2.0 client credentials at
// `/api/oauth/token`, Jamf Pro 10.49+), or a user's name and password
// exchanged for a bearer token at `POST /api/v1/auth/token` (HTTP Basic;
// the answer is `{token, expires}`, not OAuth's). Either token is cached,
// refreshed before it expires and replaced after a 401 (#source cachedBearer).
import { errorMessage, tetherError } from '#errors';
import { cachedBearer, decodeUtf8, oauthClientCredentials, parseRfc3339, quoteSnippet, type Auth, type AuthContext, type Token } from '#source';

/** Jamf's documented token lifetime when an answer gives no usable `expires`. */
const DEFAULT_LIFETIME_MS = 20 * 60_000;

export function jamfClientCredentials(baseUrl: string, clientId: string, clientSecret: string): Auth {
  return oauthClientCredentials({ tokenUrl: `${trimmed(baseUrl)}/api/oauth/token`, clientId, clientSecret, clientAuth: 'body' });
}

export function jamfUserToken(baseUrl: string, user: string, password: string): Auth {
  const basic = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
  const url = `${trimmed(baseUrl)}/api/v1/auth/token`;
  return cachedBearer((ctx, signal) => exchange(ctx, url, basic, signal), [password, basic, `Basic ${basic}`].filter((s) => s.length > 0), {});
}

async function exchange(ctx: AuthContext, url: string, basic: string, signal?: AbortSignal): Promise<Token> {
  const what = `token endpoint ${new URL(url).pathname}`;
  const timeout = AbortSignal.timeout(ctx.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await ctx.fetch(url, { method: 'POST', headers: { accept: 'application/json', authorization: `Basic ${basic}` }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const decoded = decodeUtf8(Buffer.from(await res.arrayBuffer()));
    text = decoded.ok ? decoded.text : '';
  } catch (err) {
    if (signal?.aborted) throw tetherError('TETHER_ABORTED', 'stopped', { cause: signal.reason });
    throw tetherError('TETHER_SOURCE_AUTH', `${what}: no answer (${ctx.scrub(errorMessage(err))})`, { cause: err, retriable: true });
  }
  if (!res.ok) {
    throw tetherError('TETHER_SOURCE_AUTH', `${what} refused the credentials: HTTP ${res.status}`, { retriable: res.status >= 500 || res.status === 429, context: { status: res.status } });
  }
  let body: { token?: unknown; expires?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw tetherError('TETHER_SOURCE_AUTH', `${what}: the answer is not JSON: ${quoteSnippet(ctx.scrub(text), 120)}`, { retriable: true });
  }
  if (typeof body.token !== 'string' || body.token === '') throw tetherError('TETHER_SOURCE_AUTH', `${what}: the answer has no token`);
  ctx.registerSecret(body.token);
  const expires = typeof body.expires === 'string' ? parseRfc3339(body.expires) : undefined;
  return { value: body.token, expiresAt: expires?.ok ? expires.ms : ctx.now() + DEFAULT_LIFETIME_MS };
}

function trimmed(url: string): string {
  return url.replace(/\/+$/, '');
}
