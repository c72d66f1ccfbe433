// Runs sources: polls every feed on its interval until stopped, backfills a
// time range (inventories first), imports exported files. Each event feed
// keeps one checkpoint per mode (`<source>/<feed>/poll`, `/backfill`,
// `/reread`), each inventory its snapshot (`<source>/<feed>/snapshot`); a
// feed that fails is reported, counted and never stops the others. Every
// record a source emits is scrubbed of secrets here, once, whatever field
// it sits in.
import type { TopicRole } from '#config';
import { TetherError, errorMessage, tetherError } from '#errors';
import type { Producer } from '#kafka';
import type { Logger } from '#log';
import type { Counter } from 'prom-client';
import type { AccessEvent, Codec } from '#schemas';
import { createMetrics, deadLetterWriter, type ComponentMetrics, type HealthReport, type LifecycleState } from '#service';
import { createAnnouncements } from './announcements.ts';
import type { CheckpointStore } from './checkpoint-store.ts';
import {
  accessEventRecord, type AnySourceDefinition, type CursorFeedDef, type Directory, type EventFeedDef, type EventPage, type InventoryDef, type EventNormaliser,
  type SourceFeeds,
} from './define-source.ts';
import { createPageGuard } from './page-guard.ts';
import { createFeedStatus } from './feed-status.ts';
import { createHttpClient } from './http-client.ts';
import { parseInventoryCursor, runInventorySnapshot, type EntityResult, type InventoryFeed } from './inventory.ts';
import { readJsonRecords, serialiseElement, type FileRecord } from './json-records.ts';
import { createPageSink, type OutRecord, type PageSink, type ProcessedItem } from './page-sink.ts';
import { silentProgress, type BackfillSummary, type FeedSummary, type ProgressReporter } from './progress.ts';
import { compileRetryPolicy, sleep, throwIfAborted } from './retry.ts';
import { originalOf } from './utf8.ts';
import { scrubRecord, type Scrubber } from './secrets.ts';
import { createSourceRegistry, type SourceRegistry, type SourceRunnerConfig } from './source-registry.ts';
import { freshCursor, parseWindowCursor, planWindows, runWindows, type WindowCursor, type WindowedFeed } from './windowed-feed.ts';

export interface SourceRunnerDeps {
  /** The service the runner is part of: names dead letters and metrics. */
  service: string;
  log: Logger;
  scrubber: Scrubber;
  producer: Producer;
  codec: Codec;
  topics: Readonly<Record<TopicRole, string>>;
  checkpoints: CheckpointStore;
  metrics?: ComponentMetrics;
  now?: () => number;
  fetch?: typeof fetch;
}

export interface TimeRange {
  since: number;
  /** Null: up to now minus each feed's lag. */
  until: number | null;
}

/** How an event feed is being read: each keeps its own checkpoint. */
export type FeedMode = 'poll' | 'backfill' | 'reread';

export interface SourceRunner {
  /** The sources `selector` names that are configured (credentials present). */
  configured(selector: string): string[];
  /** Reads every feed of `sources` on its interval until `signal` fires. */
  poll(sources: readonly string[], signal: AbortSignal): Promise<void>;
  /** Snapshots the inventories, then reads the event feeds from `since`; resumes a killed backfill with the same `since`. */
  backfill(sources: readonly string[], range: TimeRange, signal: AbortSignal, progress?: ProgressReporter): Promise<BackfillSummary>;
  /**
   * Loads an exported JSON / JSONL file: an event feed's records (no
   * checkpoint: event ids make a re-import harmless), or an importable
   * inventory's listing (a snapshot, diffed like a poll's).
   */
  importFile(source: string, feed: string | null, path: string, signal: AbortSignal): Promise<BackfillSummary>;
  health(): HealthReport;
  readonly metrics: ComponentMetrics;
}

export function createSourceRunner(registry: SourceRegistry, config: SourceRunnerConfig & Readonly<Record<string, unknown>>, deps: SourceRunnerDeps): SourceRunner {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const metrics = deps.metrics ?? createMetrics(deps.service);
  // Runners sharing one metrics registry (one per source, runSource) share the counter.
  const retries =
    (metrics.registry.getSingleMetric('tether_source_http_retries_total') as Counter<string> | undefined) ??
    metrics.counter('source_http_retries_total', 'HTTP requests retried.', ['platform', 'reason']);
  const deadLetters = deadLetterWriter({ service: deps.service, dlqTopic: deps.topics.dlq, codec: deps.codec, producer: deps.producer, scrub: deps.scrubber.text, now });
  const sink = scrubbingSink(createPageSink({ producer: deps.producer, codec: deps.codec, topics: deps.topics, checkpoints: deps.checkpoints, deadLetters, metrics, log }), deps.scrubber);
  const announcements = createAnnouncements();
  const status = createFeedStatus({ scrub: deps.scrubber.text, unhealthyAfter: config.TETHER_INGEST_UNHEALTHY_AFTER });
  const retryPolicy = compileRetryPolicy({ maxAttempts: config.TETHER_INGEST_HTTP_MAX_ATTEMPTS });
  const endpoints = registry.endpoints(config);
  const built = new Map<string, SourceFeeds>();
  let state: LifecycleState = 'starting';

  function definitionOf(name: string): AnySourceDefinition {
    const source = registry.get(name);
    if (!source) throw tetherError('TETHER_CONFIG_INVALID', `unknown source "${name}" (known: ${registry.names.join(', ')})`);
    return source;
  }

  function feedsOf(name: string): SourceFeeds {
    let feeds = built.get(name);
    if (feeds) return feeds;
    const source = definitionOf(name);
    const endpoint = endpoints.get(name);
    const sourceLog = log.child({ platform: name });
    const http = createHttpClient({
      baseUrl: endpoint?.baseUrl ?? 'http://unconfigured.invalid',
      headers: {},
      auth: endpoint?.auth,
      timeoutMs: config.TETHER_INGEST_HTTP_TIMEOUT_MS,
      retry: retryPolicy,
      requestsPerMinute: endpoint?.requestsPerMinute,
      scrub: deps.scrubber.text,
      registerSecret: deps.scrubber.add,
      log: sourceLog,
      fetch: deps.fetch,
      now,
      onRetry: (reason) => retries.inc({ platform: name, reason }),
    });
    feeds = source.feeds({ http, pageLimit: config.TETHER_INGEST_PAGE_LIMIT, directory: directoryOf(name, () => feeds!.accountsFeed), log: sourceLog }, config as never);
    feeds.fold?.restore((id) => deps.checkpoints.get(id)?.cursor);
    built.set(name, feeds);
    return feeds;
  }

  /** The page sink of a source: with a fold, every page also saves the fold's changed state, before its own checkpoint. */
  function sinkOf(name: string): PageSink {
    const fold = feedsOf(name).fold;
    if (!fold) return sink;
    return { commit: (page) => sink.commit({ ...page, state: () => fold.changed() }) };
  }

  /** An event's records: the event, and what the source's fold derives from it. */
  function eventRecords(platform: string, event: AccessEvent): OutRecord[] {
    announcements.note(event);
    const fold = feedsOf(platform).fold;
    return fold ? [accessEventRecord(event), ...fold.apply(event)] : [accessEventRecord(event)];
  }

  /** Emails of accounts, from the accounts inventory's last snapshot (parsed once per checkpoint). */
  function directoryOf(name: string, accountsFeed: () => string | undefined): Directory {
    let seen: string | undefined;
    let emails = new Map<string, string | null>();
    return {
      emailOf(personId) {
        const feed = accountsFeed();
        const text = feed === undefined ? undefined : deps.checkpoints.get(`${name}/${feed}/snapshot`)?.cursor;
        if (text !== seen) {
          seen = text;
          const entities = parseInventoryCursor<{ email?: string | null }>(text)?.entities ?? {};
          emails = new Map(Object.entries(entities).map(([id, e]) => [id, e.content.email ?? null]));
        }
        return emails.get(personId) ?? null;
      },
    };
  }

  function toItem(platform: string, feed: string, normalise: EventNormaliser, record: unknown, raw: Buffer, organizationId: string | null): ProcessedItem {
    let result: ReturnType<EventNormaliser>;
    try {
      result = normalise(record, { platform, feed, ingestedAt: now(), rawBytes: raw, organizationId });
    } catch (err) {
      // Normalisers return errors; a throw is a bug, and still must not stop the feed.
      result = { ok: false as const, error: tetherError('TETHER_NORMALISE_INVALID', `normaliser threw: ${errorMessage(err)}`, { cause: err }) };
    }
    if (!result.ok) return { raw, result: { ok: false, stage: result.error.code === 'TETHER_SOURCE_PARSE' ? 'parsing' : 'normalising', error: result.error } };
    if ('records' in result) return { raw, result: { ok: true, records: result.records } };
    const events = 'events' in result ? result.events : [result.event];
    if ('events' in result && result.events.length === 0) {
      // A type outside the source's tables: filtered, and counted as such (never a dead letter).
      metrics.dropped.inc({ component: `${platform}/${feed}`, intentional: 'true' });
      log.debug({ feed: `${platform}/${feed}`, skipped: result.skipped ?? [] }, 'record of an unmapped type skipped');
    }
    // Secrets are scrubbed from every field on the way out (scrubbingSink).
    return { raw, result: { ok: true, records: events.flatMap((event) => eventRecords(platform, event)) } };
  }

  /** API elements are stored as their JSON re-serialised: the page's exact bytes per element are not kept by JSON.parse. */
  const rawOfElement = (element: unknown) => deps.scrubber.bytes(serialiseElement(element));

  function windowed(platform: string, def: EventFeedDef): WindowedFeed<unknown> {
    return {
      source: `${platform}/${def.feed}`,
      maxWindowMs: def.maxWindowMs,
      fetchPage: def.fetchPage,
      process: (item, page: EventPage) => toItem(platform, def.feed, def.normalise, item, rawOfElement(item), page.organizationId ?? null),
    };
  }

  function startCursor(platform: string, def: EventFeedDef, mode: FeedMode, range: TimeRange | null): WindowCursor<unknown> {
    const key = `${platform}/${def.feed}`;
    const saved = parseWindowCursor<unknown>(deps.checkpoints.get(`${key}/${mode}`)?.cursor);
    // The second read follows the polls over the same ground, from where they began.
    if (mode === 'reread') return saved ?? freshCursor(startCursor(platform, def, 'poll', null).since);
    if (mode === 'backfill') {
      const since = range!.since;
      // A backfill from a time an earlier one already covers continues that one (a restart is the same command again).
      return saved && saved.since <= since && since <= saved.watermark ? saved : freshCursor(since);
    }
    if (saved) return saved;
    // A first poll continues where a backfill got to, so the two leave no gap.
    const backfilled = parseWindowCursor<unknown>(deps.checkpoints.get(`${key}/backfill`)?.cursor);
    return freshCursor(backfilled?.watermark ?? now() - config.TETHER_INGEST_POLL_LOOKBACK_MS);
  }

  async function runEventFeed(platform: string, def: EventFeedDef, mode: FeedMode, range: TimeRange | null, signal: AbortSignal, progress: ProgressReporter): Promise<FeedSummary> {
    const key = `${platform}/${def.feed}`;
    const cursor = startCursor(platform, def, mode, range);
    const lag = (config.TETHER_INGEST_LAG_MS ?? def.lagMs) + (mode === 'reread' ? Math.max(config.TETHER_INGEST_REREAD_MS, def.rereadMs ?? 0) : 0);
    const until = Math.min(now() - lag, range?.until ?? Number.POSITIVE_INFINITY);
    const windowMs = Math.min(mode === 'backfill' ? config.TETHER_INGEST_BACKFILL_WINDOW_MS : def.maxWindowMs, def.maxWindowMs);
    const total = (cursor.window ? 1 : 0) + planWindows(cursor.window?.to ?? cursor.watermark, until, windowMs).length;
    progress.started(key, total);
    const seen = { windows: 0, sent: 0, dead: 0 };
    const result = await runWindows(windowed(platform, def), {
      checkpointId: `${key}/${mode}`,
      cursor,
      until,
      windowMs,
      sink: sinkOf(platform),
      signal,
      log,
      maxPages: config.TETHER_INGEST_MAX_PAGES,
      onProgress: (p) => {
        seen.windows += p.windowDone ? 1 : 0;
        seen.sent += p.pageSent;
        seen.dead += p.pageDead;
        progress.advanced(key, seen.windows, { sent: seen.sent, dead: seen.dead });
      },
    });
    return { feed: key, pages: result.pages, sent: result.sent, dead: result.dead, error: null };
  }

  /**
   * A cursor feed from its checkpoint (or `since`) until a page says it is
   * caught up. Backfill and poll keep their own checkpoints (`{since, next}`);
   * a first poll continues where a backfill got to.
   */
  async function runCursorFeed(platform: string, def: CursorFeedDef, mode: FeedMode, range: TimeRange | null, signal: AbortSignal, progress: ProgressReporter): Promise<FeedSummary> {
    const key = `${platform}/${def.feed}`;
    const checkpointId = `${key}/${mode}`;
    const parse = (text: string | undefined): { since: number; next: unknown } | undefined => {
      if (text === undefined) return undefined;
      try {
        const c = JSON.parse(text) as { since?: unknown; next?: unknown };
        return typeof c.since === 'number' && Number.isFinite(c.since) && 'next' in c ? { since: c.since, next: c.next } : undefined;
      } catch {
        return undefined;
      }
    };
    const saved = parse(deps.checkpoints.get(checkpointId)?.cursor);
    let cursor: { since: number; next: unknown };
    if (mode === 'backfill') cursor = saved && saved.since === range!.since ? saved : { since: range!.since, next: null };
    else cursor = saved ?? parse(deps.checkpoints.get(`${key}/backfill`)?.cursor) ?? { since: now() - config.TETHER_INGEST_POLL_LOOKBACK_MS, next: null };
    progress.started(key, 1);
    const commitPage = sinkOf(platform);
    const guard = createPageGuard(key, config.TETHER_INGEST_MAX_PAGES);
    const totals = { pages: 0, sent: 0, dead: 0 };
    for (;;) {
      throwIfAborted(signal);
      const page = await def.fetchPage(cursor.since, cursor.next, signal);
      guard.check(page);
      const items = page.items.map((item) => toItem(platform, def.feed, def.normalise, item, rawOfElement(item), page.organizationId ?? null));
      const next = page.next ?? page.resume ?? cursor.next;
      cursor = { since: cursor.since, next };
      const result = await commitPage.commit({ source: key, items, checkpoint: { id: checkpointId, cursor: JSON.stringify(cursor) } });
      totals.pages++;
      totals.sent += result.sent;
      totals.dead += result.dead;
      progress.advanced(key, page.next === null ? 1 : 0, { sent: totals.sent, dead: totals.dead });
      if (page.next === null) break;
    }
    return { feed: key, ...totals, error: null };
  }

  function inventoryFeed(platform: string, def: InventoryDef<never>, pages: InventoryFeed<never>['pages'], rawOf: (item: unknown) => Buffer): InventoryFeed<never> {
    return {
      source: `${platform}/${def.feed}`,
      pages,
      process: (item) => {
        try {
          return def.process(item);
        } catch (err) {
          return { ok: false, stage: 'normalising', error: TetherError.is(err) ? err : tetherError('TETHER_NORMALISE_INVALID', errorMessage(err), { cause: err }) };
        }
      },
      // Events an inventory derives go through the source's fold like any other.
      emit: (change) => {
        const records = def.emit(change);
        if (!feedsOf(platform).fold) return records;
        return records.flatMap((r) => (r.role === 'accessRaw' ? eventRecords(platform, r.value) : [r]));
      },
      announcedAt: (id, after) => announcements.at(id, after),
      rawOf,
    };
  }

  async function snapshot(platform: string, feed: InventoryFeed<never>, signal: AbortSignal, commit: PageSink = sinkOf(platform)) {
    const checkpointId = `${feed.source}/snapshot`;
    return runInventorySnapshot(feed, {
      checkpointId,
      cursor: parseInventoryCursor<never>(deps.checkpoints.get(checkpointId)?.cursor),
      now,
      sink: commit,
      signal,
      log,
    });
  }

  async function runInventory(platform: string, def: InventoryDef<never>, signal: AbortSignal, progress: ProgressReporter): Promise<FeedSummary> {
    const key = `${platform}/${def.feed}`;
    progress.started(key, 1);
    const feed = inventoryFeed(platform, def, def.pages, (item) => deps.scrubber.bytes(def.rawOf?.(item) ?? serialiseElement(item)));
    const result = await snapshot(platform, feed, signal);
    return { feed: key, pages: 0, sent: result.sent, dead: result.dead, error: null };
  }

  /** One feed run; a failure is reported and counted, never allowed to stop the other feeds. */
  async function attempt(key: string, pass: string, signal: AbortSignal, progress: ProgressReporter, run: () => Promise<FeedSummary>): Promise<FeedSummary> {
    try {
      const summary = await run();
      status.succeeded(key, now(), pass);
      progress.finished(summary);
      return summary;
    } catch (err) {
      if (signal.aborted) throw err;
      status.failed(key, err, now(), pass);
      const code = TetherError.is(err) ? err.code : 'TETHER_SOURCE_HTTP';
      metrics.errors.inc({ component: key, error_code: code, stage: 'receiving' });
      log.error({ err, feed: key, code }, 'feed run failed');
      // A response the feed could not read (bytes that are not UTF-8) is kept as it came.
      const original = originalOf(err);
      if (original) {
        await deadLetters
          .send([{ stage: 'receiving', source: key, error: err, original: deps.scrubber.bytes(original) }])
          .catch((dlqErr: unknown) => log.error({ err: dlqErr, feed: key }, 'unreadable response not dead-lettered'));
      }
      const message = errorMessage(err);
      // The error says which feed stopped, also when it came from a shared reader that only knew a path.
      const named = message.startsWith(`${key}:`) ? message : `${key}: ${message}`;
      const summary = { feed: key, pages: 0, sent: 0, dead: 0, error: `${code}: ${deps.scrubber.text(named)}` };
      progress.finished(summary);
      return summary;
    }
  }

  async function every(intervalMs: number, signal: AbortSignal, run: () => Promise<void>): Promise<void> {
    while (!signal.aborted) {
      await run();
      await sleep(intervalMs, signal).catch(() => undefined);
    }
  }

  async function runAll(platform: string, feeds: 'events' | 'inventories', mode: FeedMode, range: TimeRange | null, signal: AbortSignal, progress: ProgressReporter) {
    const source = feedsOf(platform);
    const out: FeedSummary[] = [];
    if (feeds === 'inventories') {
      for (const def of source.inventories) {
        if (signal.aborted) break;
        out.push(await attempt(`${platform}/${def.feed}`, 'snapshot', signal, progress, () => runInventory(platform, def, signal, progress)));
      }
    } else {
      for (const def of source.eventFeeds) {
        if (signal.aborted) break;
        // A cursor feed has no windows to read a second time: its cursor already covers late records.
        if (def.kind === 'cursor' && mode === 'reread') continue;
        const run = def.kind === 'cursor' ? () => runCursorFeed(platform, def, mode, range, signal, progress) : () => runEventFeed(platform, def, mode, range, signal, progress);
        out.push(await attempt(`${platform}/${def.feed}`, mode, signal, progress, run));
      }
    }
    return out;
  }

  async function importEvents(platform: string, feed: string, normalise: EventNormaliser, path: string, signal: AbortSignal): Promise<FeedSummary> {
    const key = `${platform}/${feed}`;
    const summary: FeedSummary = { feed: key, pages: 0, sent: 0, dead: 0, error: null };
    for await (const batch of readJsonRecords(path, { batchSize: config.TETHER_INGEST_PAGE_LIMIT, signal })) {
      const items = batch.map((record): ProcessedItem => {
        const raw = deps.scrubber.bytes(record.raw);
        if (record.error) return { raw, result: { ok: false, stage: 'parsing', error: record.error } };
        return toItem(platform, feed, normalise, record.value, raw, null);
      });
      const result = await sinkOf(platform).commit({ source: key, items });
      summary.pages++;
      summary.sent += result.sent;
      summary.dead += result.dead;
    }
    return summary;
  }

  /**
   * An exported listing taken as a snapshot of that inventory, through the
   * same diff and checkpoint as a poll's: what the file lacks is gone.
   */
  async function importInventory(platform: string, def: InventoryDef<never>, path: string, signal: AbortSignal): Promise<FeedSummary> {
    const key = `${platform}/${def.feed}`;
    let pages = 0;
    async function* fromFile(): AsyncIterable<readonly FileElement[]> {
      for await (const batch of readJsonRecords(path, { batchSize: config.TETHER_INGEST_PAGE_LIMIT, signal })) {
        pages++;
        yield batch.map((record) => new FileElement(deps.scrubber.bytes(record.raw), record));
      }
    }
    const feed = inventoryFeed(platform, { ...def, process: (item) => (item as FileElement).process(def) }, fromFile, (item) => (item as FileElement).raw);
    const result = await snapshot(platform, feed, signal);
    log.info({ feed: key, path, seen: result.seen, changes: result.changes }, 'inventory listing imported');
    return { feed: key, pages, sent: result.sent, dead: result.dead, error: null };
  }

  return {
    metrics,
    configured(selector) {
      const wanted = selector === 'all' ? registry.names : [selector];
      return wanted.filter((name) => endpoints.has(name));
    },

    async poll(sources, signal) {
      state = 'running';
      log.info({ platforms: sources }, 'polling');
      // Every loop is let finish (allSettled): none may still be producing when the caller closes the producer.
      const loops = await Promise.allSettled(
        sources.flatMap((name) => [
          every(config.TETHER_INGEST_POLL_INTERVAL_MS, signal, async () => {
            await runAll(name, 'events', 'poll', null, signal, silentProgress);
            if (config.TETHER_INGEST_REREAD_MS > 0) await runAll(name, 'events', 'reread', null, signal, silentProgress);
          }),
          every(config.TETHER_INGEST_INVENTORY_INTERVAL_MS, signal, async () => {
            await runAll(name, 'inventories', 'poll', null, signal, silentProgress);
          }),
        ]),
      );
      const failure = loops.find((l): l is PromiseRejectedResult => l.status === 'rejected');
      if (failure && !signal.aborted) {
        state = 'failed';
        throw failure.reason;
      }
      state = 'stopped';
    },

    async backfill(sources, range, signal, progress = silentProgress) {
      state = 'running';
      const started = now();
      log.info({ platforms: sources, since: new Date(range.since).toISOString() }, 'backfill started');
      try {
        // Inventories first, so the identities events name exist by the time enrichment sees the events.
        const feeds = await Promise.all(
          sources.map(async (name) => [
            ...(await runAll(name, 'inventories', 'backfill', range, signal, progress)),
            ...(await runAll(name, 'events', 'backfill', range, signal, progress)),
          ]),
        );
        state = 'stopped';
        return { feeds: feeds.flat(), elapsedMs: now() - started };
      } finally {
        progress.stop();
      }
    },

    async importFile(name, feed, path, signal) {
      state = 'running';
      const started = now();
      const source = feedsOf(name);
      const feedName = feed ?? source.defaultImportFeed;
      const normalise = Object.hasOwn(source.importFeeds, feedName) ? source.importFeeds[feedName] : undefined;
      const listing = source.inventories.find((def) => def.feed === feedName && def.importable);
      if (!normalise && !listing) {
        const known = [...Object.keys(source.importFeeds), ...source.inventories.filter((def) => def.importable).map((def) => def.feed)];
        throw tetherError('TETHER_CONFIG_INVALID', `${name} has no importable feed "${feedName}" (known: ${known.join(', ')})`);
      }
      const summary = normalise ? await importEvents(name, feedName, normalise, path, signal) : await importInventory(name, listing!, path, signal);
      state = 'stopped';
      return { feeds: [summary], elapsedMs: now() - started };
    },

    health: () => status.report(state),
  };
}

/**
 * The one place secrets leave what a source emits: every string and byte
 * field of every record (normalised fields, raw, unmapped, identity
 * versions, derived events), the original bytes dead letters keep, and the
 * checkpoint cursor. The sink's redaction stays a second line.
 */
function scrubbingSink(inner: PageSink, scrubber: Scrubber): PageSink {
  return {
    commit: (page) =>
      inner.commit({
        ...page,
        items: page.items.map((item) => {
          const raw = scrubber.bytes(item.raw);
          if (!item.result.ok) return raw === item.raw ? item : { ...item, raw };
          const records = scrubRecord(item.result.records, scrubber);
          return raw === item.raw && records === item.result.records ? item : { raw, result: { ok: true, records } };
        }),
        derived: page.derived && scrubRecord(page.derived, scrubber),
        checkpoint: page.checkpoint && { id: page.checkpoint.id, cursor: scrubber.text(page.checkpoint.cursor) },
        state: page.state && (() => page.state!().map((s) => ({ id: s.id, cursor: scrubber.text(s.cursor) }))),
      }),
  };
}

export type SourceCommand =
  | { mode: 'poll' }
  | { mode: 'backfill'; since: number; until: number | null; progress?: ProgressReporter }
  | { mode: 'import'; feed: string | null; file: string };

/**
 * Runs one source by itself: a poll until `signal` fires (the summary then
 * lists no feeds; health is on the runner), a backfill, or an import.
 */
export async function runSource(
  source: AnySourceDefinition,
  command: SourceCommand,
  options: { config: SourceRunnerConfig & Readonly<Record<string, unknown>>; deps: SourceRunnerDeps; signal: AbortSignal },
): Promise<BackfillSummary> {
  const runner = createSourceRunner(createSourceRegistry([source]), options.config, options.deps);
  if (command.mode === 'poll') {
    const started = (options.deps.now ?? Date.now)();
    await runner.poll([source.name], options.signal);
    return { feeds: [], elapsedMs: (options.deps.now ?? Date.now)() - started };
  }
  if (command.mode === 'backfill') return runner.backfill([source.name], { since: command.since, until: command.until }, options.signal, command.progress);
  return runner.importFile(source.name, command.feed, command.file, options.signal);
}

/** A record of an exported listing: its exact bytes, and its element or why it could not be read. */
class FileElement {
  readonly raw: Buffer;
  readonly record: FileRecord;
  constructor(raw: Buffer, record: FileRecord) {
    this.raw = raw;
    this.record = record;
  }

  process(def: InventoryDef<never>): EntityResult<never> {
    if (this.record.error) return { ok: false, stage: 'parsing', error: this.record.error };
    return def.process(this.record.value);
  }
}
