// Per-feed health for /health: when each feed last succeeded and whether it
// is failing now. A feed is read by several passes (poll, reread, backfill,
// snapshot); each counts its own runs, so a pass that succeeds (the reread
// with nothing due yet) never hides another that keeps failing. A feed is
// unhealthy once any of its passes failed `unhealthyAfter` runs in a row
// (one failure is usually an outage the next run rides out).
import { TetherError, errorMessage } from '#errors';
import type { HealthReport, LifecycleState } from '#service';

export interface FeedStatus {
  /** `pass` tells apart the reads of one feed that keep their own count ('poll', 'reread'). */
  succeeded(feed: string, at: number, pass?: string): void;
  failed(feed: string, err: unknown, at: number, pass?: string): void;
  report(state: LifecycleState): HealthReport;
}

interface Entry {
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorCode: string | null;
  failuresInARow: number;
}

export function createFeedStatus(options: { unhealthyAfter?: number; scrub?: (text: string) => string } = {}): FeedStatus {
  const feeds = new Map<string, Map<string, Entry>>();
  const unhealthyAfter = options.unhealthyAfter ?? 3;
  const scrub = options.scrub ?? ((t: string) => t);
  const entry = (feed: string, pass: string) => {
    let passes = feeds.get(feed);
    if (!passes) feeds.set(feed, (passes = new Map()));
    let e = passes.get(pass);
    if (!e) passes.set(pass, (e = { lastSuccessAt: null, lastError: null, lastErrorCode: null, failuresInARow: 0 }));
    return e;
  };
  return {
    succeeded(feed, at, pass = 'run') {
      const e = entry(feed, pass);
      e.lastSuccessAt = at;
      e.failuresInARow = 0;
    },
    failed(feed, err, at, pass = 'run') {
      const e = entry(feed, pass);
      e.failuresInARow++;
      e.lastError = `${new Date(at).toISOString()} ${scrub(errorMessage(err))}`;
      e.lastErrorCode = TetherError.is(err) ? err.code : null;
    },
    report(state) {
      const checks: HealthReport['checks'] = {};
      for (const [feed, passes] of feeds) {
        const entries = [...passes];
        const ok = entries.every(([, e]) => e.failuresInARow < unhealthyAfter);
        const failing = entries.filter(([, e]) => e.failuresInARow > 0);
        const lastSuccess = Math.max(...entries.map(([, e]) => e.lastSuccessAt ?? Number.NEGATIVE_INFINITY));
        const last = Number.isFinite(lastSuccess) ? `last success ${new Date(lastSuccess).toISOString()}` : 'never succeeded';
        const named = passes.size > 1;
        const failures = failing.map(([pass, e]) => `${named ? `${pass}: ` : ''}${e.failuresInARow} failed runs in a row: ${e.lastError}`);
        checks[feed] = { ok, detail: failures.length === 0 ? last : `${last}; ${failures.join('; ')}` };
      }
      return { state, checks };
    },
  };
}
