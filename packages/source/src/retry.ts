// Retry as data: jittered exponential backoff for retriable errors only, a
// server's Retry-After honoured as given (up to a cap), the last failure
// wrapped with the number of attempts.
import { TetherError, isRetriable, tetherError } from '#errors';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** A longer Retry-After than this is waited for this long instead (and retried). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 6,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  maxRetryAfterMs: 120_000,
});

/** Fills defaults and refuses nonsense at start-up rather than at the first failure. */
export function compileRetryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  const problems: string[] = [];
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) problems.push('maxAttempts must be an integer >= 1');
  if (!(policy.initialDelayMs >= 0)) problems.push('initialDelayMs must be >= 0');
  if (!(policy.maxDelayMs >= policy.initialDelayMs)) problems.push('maxDelayMs must be >= initialDelayMs');
  if (!(policy.multiplier >= 1)) problems.push('multiplier must be >= 1');
  if (!(policy.maxRetryAfterMs >= 0)) problems.push('maxRetryAfterMs must be >= 0');
  if (problems.length > 0) throw tetherError('TETHER_CONFIG_INVALID', `invalid retry policy: ${problems.join('; ')}`);
  return Object.freeze(policy);
}

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential, capped,
 * with "equal jitter" (between half and all of it) so pollers that failed
 * together do not retry together.
 */
export function backoffDelay(policy: Pick<RetryPolicy, 'initialDelayMs' | 'maxDelayMs' | 'multiplier'>, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** The wait a server asked for, carried by a rate-limit error's context. */
export function retryAfterOf(err: unknown): number | undefined {
  if (!TetherError.is(err)) return undefined;
  const value = err.context.retryAfterMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export interface RetryInfo {
  attempt: number;
  delayMs: number;
  error: unknown;
  /** True when the delay came from the server's Retry-After. */
  serverAsked: boolean;
}

export interface RetryOptions {
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const wait = options.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (options.signal?.aborted) throw abortError(options.signal);
      if (!isRetriable(err) || attempt >= policy.maxAttempts) throw withAttempts(err, attempt);
      const asked = retryAfterOf(err);
      const delayMs = asked === undefined ? backoffDelay(policy, attempt, options.random) : Math.min(asked, policy.maxRetryAfterMs);
      options.onRetry?.({ attempt, delayMs, error: err, serverAsked: asked !== undefined });
      await wait(delayMs, options.signal);
    }
  }
}

function withAttempts(err: unknown, attempts: number): unknown {
  if (attempts === 1) return err;
  if (TetherError.is(err)) {
    return new TetherError(err.code, `${err.message} (gave up after ${attempts} attempts)`, {
      cause: err,
      retriable: err.retriable,
      context: { ...err.context, attempts },
    });
  }
  return tetherError('TETHER_SOURCE_HTTP', `gave up after ${attempts} attempts: ${(err as Error)?.message ?? String(err)}`, {
    cause: err,
    context: { attempts },
  });
}

/** Resolves after `ms`, or rejects with TETHER_ABORTED as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

export function abortError(signal: AbortSignal): TetherError {
  return tetherError('TETHER_ABORTED', 'stopped', { cause: signal.reason });
}
