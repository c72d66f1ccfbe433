// Auth hooks for the HTTP client: what a source's requests carry to prove who
// they are. Each hook names the secrets it holds up front (so they are
// scrubbed from the first log line on) and registers every credential it
// obtains later (access tokens) through the context, never logging one.
import type { Logger } from '#log';

export interface AuthContext {
  fetch: typeof fetch;
  now: () => number;
  /** Per token request. */
  timeoutMs: number;
  /** Scrubs a credential obtained at run time from every log line and record from now on. */
  registerSecret(value: string): void;
  scrub(text: string): string;
  log: Logger;
}

export interface Auth {
  /** Secrets known up front (keys, client secrets, private keys) in every form they travel in. */
  readonly secrets: readonly string[];
  /** Headers for one request; may obtain or refresh a token first. */
  headers(ctx: AuthContext, signal?: AbortSignal): Promise<Readonly<Record<string, string>>>;
  /**
   * After a 401: forgets a cached token. True when a retry can carry
   * different credentials (a fresh token); static credentials say false.
   */
  invalidate?(): boolean;
}

/** No credentials (public endpoints, tests). */
export const noAuth: Auth = Object.freeze({ secrets: [], headers: async () => ({}) });

/**
 * Fixed headers (an API key header, a version header). `secrets` are the
 * values to scrub; by default every header value.
 */
export function headerAuth(headers: Readonly<Record<string, string>>, secrets: readonly string[] = Object.values(headers)): Auth {
  const fixed = Object.freeze({ ...headers });
  return { secrets: [...secrets], headers: async () => fixed };
}

/** `Authorization: Bearer <token>` with a long-lived key. */
export function bearerAuth(token: string): Auth {
  return headerAuth({ authorization: `Bearer ${token}` }, [token, `Bearer ${token}`]);
}

/** HTTP Basic (RFC 7617): the user name and password, their base64 form and the header are all secrets. */
export function basicAuth(user: string, password = ''): Auth {
  const encoded = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
  return headerAuth({ authorization: `Basic ${encoded}` }, [user, password, encoded, `Basic ${encoded}`].filter((s) => s.length > 0));
}
