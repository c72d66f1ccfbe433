// Per-feed health for /health: when each feed last succeeded and whether it
// is failing now. A feed is unhealthy after `unhealthyAfter` failed runs in
// a row (one failure is usually an outage the next run rides out).
import { TetherError, errorMessage } from '#errors';
import type { HealthReport, LifecycleState } from '#service';

export interface FeedStatus {
  succeeded(feed: string, at: number): void;
  failed(feed: string, err: unknown, at: number): void;
  report(state: LifecycleState): HealthReport;
}

interface Entry {
  lastSuccessAt: number | null;
  lastError: string | null;
  lastErrorCode: string | null;
  failuresInARow: number;
}

export function createFeedStatus(options: { unhealthyAfter?: number; scrub?: (text: string) => string } = {}): FeedStatus {
  const feeds = new Map<string, Entry>();
  const unhealthyAfter = options.unhealthyAfter ?? 3;
  const scrub = options.scrub ?? ((t: string) => t);
  const entry = (feed: string) => {
    let e = feeds.get(feed);
    if (!e) feeds.set(feed, (e = { lastSuccessAt: null, lastError: null, lastErrorCode: null, failuresInARow: 0 }));
    return e;
  };
  return {
    succeeded(feed, at) {
      const e = entry(feed);
      e.lastSuccessAt = at;
      e.failuresInARow = 0;
    },
    failed(feed, err, at) {
      const e = entry(feed);
      e.failuresInARow++;
      e.lastError = `${new Date(at).toISOString()} ${scrub(errorMessage(err))}`;
      e.lastErrorCode = TetherError.is(err) ? err.code : null;
    },
    report(state) {
      const checks: HealthReport['checks'] = {};
      for (const [feed, e] of feeds) {
        const ok = e.failuresInARow < unhealthyAfter;
        const last = e.lastSuccessAt === null ? 'never succeeded' : `last success ${new Date(e.lastSuccessAt).toISOString()}`;
        checks[feed] = { ok, detail: e.failuresInARow === 0 ? last : `${last}; ${e.failuresInARow} failed runs in a row: ${e.lastError}` };
      }
      return { state, checks };
    },
  };
}
