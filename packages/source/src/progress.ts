// Backfill progress on stderr (one bar per feed, windows done of windows
// planned) and the summary line printed when it ends. stdout stays JSON logs.
import cliProgress from 'cli-progress';

export interface FeedSummary {
  feed: string;
  pages: number;
  sent: number;
  dead: number;
  error: string | null;
}

export interface BackfillSummary {
  feeds: FeedSummary[];
  elapsedMs: number;
}

export interface ProgressReporter {
  started(feed: string, total: number): void;
  advanced(feed: string, done: number, counts: { sent: number; dead: number }): void;
  finished(summary: FeedSummary): void;
  stop(): void;
}

export const silentProgress: ProgressReporter = { started() {}, advanced() {}, finished() {}, stop() {} };

/** Bars on a terminal; on a pipe or file, a percentage line per finished window (bars would be noise there). */
export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream);
}

function barProgress(stream: NodeJS.WriteStream): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: '{feed} [{bar}] {percentage}% | {value}/{total} | {sent} records | {dead} to DLQ',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  const byFeed = new Map<string, cliProgress.SingleBar>();
  return {
    started(feed, total) {
      byFeed.set(feed, bars.create(Math.max(total, 1), 0, { feed: feed.padEnd(30), sent: 0, dead: 0 }));
    },
    advanced(feed, done, counts) {
      byFeed.get(feed)?.update(done, counts);
    },
    finished(summary) {
      const bar = byFeed.get(summary.feed);
      if (bar && summary.error === null) bar.update(bar.getTotal(), { sent: summary.sent, dead: summary.dead });
      bar?.stop();
    },
    stop() {
      bars.stop();
    },
  };
}

function lineProgress(stream: NodeJS.WritableStream): ProgressReporter {
  const totals = new Map<string, number>();
  const last = new Map<string, number>();
  return {
    started(feed, total) {
      totals.set(feed, Math.max(total, 1));
    },
    advanced(feed, done, counts) {
      if (last.get(feed) === done) return;
      last.set(feed, done);
      const total = totals.get(feed) ?? 1;
      stream.write(`${feed} ${Math.floor((100 * done) / total)}% (${done}/${total} windows, ${counts.sent} records, ${counts.dead} to DLQ)\n`);
    },
    finished(summary) {
      stream.write(`${summary.feed} ${summary.error === null ? 'done' : 'FAILED'}: ${summary.sent} records, ${summary.dead} to DLQ${summary.error ? ` (${summary.error})` : ''}\n`);
    },
    stop() {},
  };
}

export function summaryLine(mode: string, summary: BackfillSummary): string {
  const sent = summary.feeds.reduce((n, f) => n + f.sent, 0);
  const dead = summary.feeds.reduce((n, f) => n + f.dead, 0);
  const pages = summary.feeds.reduce((n, f) => n + f.pages, 0);
  const failed = summary.feeds.filter((f) => f.error !== null);
  const seconds = summary.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(sent / seconds) : sent;
  const head = `${mode} ${failed.length === 0 ? 'finished' : 'finished with failures'}: ${summary.feeds.length} feeds, ${sent} records, ${dead} to DLQ, ${pages} pages in ${seconds.toFixed(1)} s (${rate} records/s)`;
  return failed.length === 0 ? head : `${head}; failed: ${failed.map((f) => `${f.feed} (${f.error})`).join('; ')}`;
}
