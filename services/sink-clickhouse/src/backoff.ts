// Jittered exponential backoff: the first retry comes fast, later ones
// spread out (so restarted sinks do not hammer a recovering server in step)
// up to a cap.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  multiplier: number;
}

/**
 * Delay before retry number `attempt` (1-based): "equal jitter", half fixed
 * and half random, so a delay never collapses to zero.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
