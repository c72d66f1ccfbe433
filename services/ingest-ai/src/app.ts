// ingest-ai: reads the OpenAI, Anthropic and Cursor admin APIs (or exported
// files) and produces AccessEvents to tether.access.raw, identity versions to
// tether.identity.users / .nhi, bad records to tether.dlq, and its cursors to
// tether.ingest.checkpoints. `buildApp` wires the parts without touching the
// network; `connectApp` opens Kafka, the registry and the checkpoints first.
import type { TopicRole } from '#config';
import { TetherError, errorMessage, tetherError } from '#errors';
import { ensureTetherTopics, type Producer } from '#kafka';
import type { Logger } from '#log';
import type { Codec } from '#schemas';
import { connectPipeline } from '#service/pipeline';
import { createMetrics, deadLetterWriter, type ComponentMetrics, type HealthReport, type LifecycleState } from '#service';
import {
  serialiseElement, compileRetryPolicy, createFeedStatus, createHttpClient, createKafkaCheckpointStore, createPageSink, freshCursor, parseInventoryCursor,
  parseWindowCursor, planWindows, readJsonRecords, restoreCheckpoints, retry, runInventorySnapshot, runWindows, sleep,
  type CheckpointStore, type InventoryFeed, type Page, type ProcessedItem, type Scrubber, type WindowCursor, type WindowedFeed,
} from '#source';
import { createAnnouncements } from './announcements.ts';
import { endpointOf, type IngestAiConfig } from './config.ts';
import { accessEventRecord, type PersonContent } from './identity.ts';
import { PLATFORMS, type Normaliser, type Platform } from './normalise/common.ts';
import { authHeaders, platformSource } from './platforms/index.ts';
import type { EventFeedDef, InventoryDef, PlatformSource } from './platforms/types.ts';
import { silentProgress, type BackfillSummary, type FeedSummary, type ProgressReporter } from './progress.ts';

export const SERVICE = 'ingest-ai';

export interface AppDeps {
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
type FeedMode = 'poll' | 'backfill' | 'reread';

export interface IngestAiApp {
  /** The platforms `selector` names that have a key configured. */
  configured(selector: Platform | 'all'): Platform[];
  /** Reads every feed of `platforms` on its interval until `signal` fires. */
  poll(platforms: readonly Platform[], signal: AbortSignal): Promise<void>;
  /** Snapshots the inventories, then reads the event feeds from `since`; resumes a killed backfill with the same `since`. */
  backfill(platforms: readonly Platform[], range: TimeRange, signal: AbortSignal, progress?: ProgressReporter): Promise<BackfillSummary>;
  /** Normalises an exported JSON / JSONL file; no checkpoint (event ids make a re-import harmless). */
  importFile(platform: Platform, feed: string | null, path: string, signal: AbortSignal): Promise<BackfillSummary>;
  health(): HealthReport;
  readonly metrics: ComponentMetrics;
}

/** The platforms `selector` names that have a key configured. */
export function configuredPlatforms(config: IngestAiConfig, selector: Platform | 'all'): Platform[] {
  const wanted = selector === 'all' ? [...PLATFORMS] : [selector];
  return wanted.filter((p) => endpointOf(config, p).key !== undefined);
}

/** Which checkpoints on the shared topic are ours. */
export function ownsCheckpoint(id: string): boolean {
  return PLATFORMS.some((p) => id.startsWith(`${p}/`));
}

export function buildApp(config: IngestAiConfig, deps: AppDeps): IngestAiApp {
  const now = deps.now ?? Date.now;
  const log = deps.log;
  const metrics = deps.metrics ?? createMetrics(SERVICE);
  const retries = metrics.counter('source_http_retries_total', 'HTTP requests retried.', ['platform', 'reason']);
  const deadLetters = deadLetterWriter({ service: SERVICE, dlqTopic: deps.topics.dlq, codec: deps.codec, producer: deps.producer, scrub: deps.scrubber.text, now });
  const sink = createPageSink({ producer: deps.producer, codec: deps.codec, topics: deps.topics, checkpoints: deps.checkpoints, deadLetters, metrics, log });
  const announcements = createAnnouncements();
  const status = createFeedStatus({ scrub: deps.scrubber.text });
  const retryPolicy = compileRetryPolicy({ maxAttempts: config.TETHER_INGEST_HTTP_MAX_ATTEMPTS });
  const sources = new Map<Platform, PlatformSource>();
  let state: LifecycleState = 'starting';

  function sourceOf(platform: Platform): PlatformSource {
    let source = sources.get(platform);
    if (source) return source;
    const endpoint = endpointOf(config, platform);
    const platformLog = log.child({ platform });
    const http = createHttpClient({
      baseUrl: endpoint.baseUrl,
      headers: endpoint.key ? authHeaders(platform, endpoint.key) : {},
      timeoutMs: config.TETHER_INGEST_HTTP_TIMEOUT_MS,
      retry: retryPolicy,
      requestsPerMinute: endpoint.requestsPerMinute,
      scrub: deps.scrubber.text,
      log: platformLog,
      fetch: deps.fetch,
      now,
      onRetry: (reason) => retries.inc({ platform, reason }),
    });
    source = platformSource(platform, { http, pageLimit: config.TETHER_INGEST_PAGE_LIMIT, directory: directoryOf(platform, () => source!.accountsFeed), log: platformLog });
    sources.set(platform, source);
    return source;
  }

  /** Emails of platform accounts, from the users inventory's last snapshot (parsed once per checkpoint). */
  function directoryOf(platform: Platform, accountsFeed: () => string) {
    let seen: string | undefined;
    let emails = new Map<string, string | null>();
    return {
      emailOf(personId: string): string | null {
        const text = deps.checkpoints.get(`${platform}/${accountsFeed()}/snapshot`)?.cursor;
        if (text !== seen) {
          seen = text;
          const entities = parseInventoryCursor<PersonContent>(text)?.entities ?? {};
          emails = new Map(Object.entries(entities).map(([id, e]) => [id, e.content.email]));
        }
        return emails.get(personId) ?? null;
      },
    };
  }

  function toItem(platform: Platform, feed: string, normalise: Normaliser, record: unknown, raw: Buffer, organizationId: string | null): ProcessedItem {
    let result;
    try {
      result = normalise(record, { platform, feed, ingestedAt: now(), rawBytes: raw, organizationId });
    } catch (err) {
      // Normalisers return errors; a throw is a bug, and still must not stop the feed.
      result = { ok: false as const, error: tetherError('TETHER_NORMALISE_INVALID', `normaliser threw: ${errorMessage(err)}`, { cause: err }) };
    }
    if (!result.ok) return { raw, result: { ok: false, stage: result.error.code === 'TETHER_SOURCE_PARSE' ? 'parsing' : 'normalising', error: result.error } };
    announcements.note(result.event);
    // Source fields land in unmapped verbatim; a key a record carried must not.
    const event = { ...result.event, unmapped: deps.scrubber.text(result.event.unmapped) };
    return { raw, result: { ok: true, records: [accessEventRecord(event)] } };
  }

  /** API elements are stored as their JSON re-serialised: the page's exact bytes per element are not kept by JSON.parse. */
  const rawOfElement = (element: unknown) => deps.scrubber.bytes(serialiseElement(element));

  function windowed(platform: Platform, def: EventFeedDef): WindowedFeed<unknown> {
    return {
      source: `${platform}/${def.feed}`,
      maxWindowMs: def.maxWindowMs,
      fetchPage: def.fetchPage,
      process: (item, page: Page<unknown> & { organizationId?: string | null }) =>
        toItem(platform, def.feed, def.normalise, item, rawOfElement(item), page.organizationId ?? null),
    };
  }

  function startCursor(platform: Platform, def: EventFeedDef, mode: FeedMode, range: TimeRange | null): WindowCursor<unknown> {
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

  async function runEventFeed(
    platform: Platform,
    def: EventFeedDef,
    mode: FeedMode,
    range: TimeRange | null,
    signal: AbortSignal,
    progress: ProgressReporter,
  ): Promise<FeedSummary> {
    const key = `${platform}/${def.feed}`;
    const cursor = startCursor(platform, def, mode, range);
    const lag = (config.TETHER_INGEST_LAG_MS ?? def.lagMs) + (mode === 'reread' ? config.TETHER_INGEST_REREAD_MS : 0);
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
      sink,
      signal,
      log,
      onProgress: (p) => {
        seen.windows += p.windowDone ? 1 : 0;
        seen.sent += p.pageSent;
        seen.dead += p.pageDead;
        progress.advanced(key, seen.windows, { sent: seen.sent, dead: seen.dead });
      },
    });
    return { feed: key, pages: result.pages, sent: result.sent, dead: result.dead, error: null };
  }

  async function runInventory(platform: Platform, def: InventoryDef<never>, signal: AbortSignal, progress: ProgressReporter): Promise<FeedSummary> {
    const key = `${platform}/${def.feed}`;
    const checkpointId = `${key}/snapshot`;
    progress.started(key, 1);
    const feed: InventoryFeed<never> = {
      source: key,
      pages: def.pages,
      process: (item) => {
        try {
          return def.process(item);
        } catch (err) {
          return { ok: false, stage: 'normalising', error: TetherError.is(err) ? err : tetherError('TETHER_NORMALISE_INVALID', errorMessage(err), { cause: err }) };
        }
      },
      emit: def.emit,
      announcedAt: (id, after) => announcements.at(id, after),
      rawOf: (item) => deps.scrubber.bytes(def.rawOf?.(item) ?? serialiseElement(item)),
    };
    const result = await runInventorySnapshot(feed, {
      checkpointId,
      cursor: parseInventoryCursor<never>(deps.checkpoints.get(checkpointId)?.cursor),
      now,
      sink,
      signal,
      log,
    });
    return { feed: key, pages: 0, sent: result.sent, dead: result.dead, error: null };
  }

  /** One feed run; a failure is reported and counted, never allowed to stop the other feeds. */
  async function attempt(key: string, signal: AbortSignal, progress: ProgressReporter, run: () => Promise<FeedSummary>): Promise<FeedSummary> {
    try {
      const summary = await run();
      status.succeeded(key, now());
      progress.finished(summary);
      return summary;
    } catch (err) {
      if (signal.aborted) throw err;
      status.failed(key, err, now());
      const code = TetherError.is(err) ? err.code : 'TETHER_SOURCE_HTTP';
      metrics.errors.inc({ component: key, error_code: code, stage: 'receiving' });
      log.error({ err, feed: key, code }, 'feed run failed');
      const summary = { feed: key, pages: 0, sent: 0, dead: 0, error: `${code}: ${deps.scrubber.text(errorMessage(err))}` };
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

  async function runAll(platform: Platform, feeds: 'events' | 'inventories', mode: FeedMode, range: TimeRange | null, signal: AbortSignal, progress: ProgressReporter) {
    const source = sourceOf(platform);
    const out: FeedSummary[] = [];
    if (feeds === 'inventories') {
      for (const def of source.inventories) {
        if (signal.aborted) break;
        out.push(await attempt(`${platform}/${def.feed}`, signal, progress, () => runInventory(platform, def, signal, progress)));
      }
    } else {
      for (const def of source.eventFeeds) {
        if (signal.aborted) break;
        out.push(await attempt(`${platform}/${def.feed}`, signal, progress, () => runEventFeed(platform, def, mode, range, signal, progress)));
      }
    }
    return out;
  }

  return {
    metrics,
    configured: (selector) => configuredPlatforms(config, selector),

    async poll(platforms, signal) {
      state = 'running';
      log.info({ platforms }, 'polling');
      // Every loop is let finish (allSettled): none may still be producing when the caller closes the producer.
      const loops = await Promise.allSettled(
        platforms.flatMap((platform) => [
          every(config.TETHER_INGEST_POLL_INTERVAL_MS, signal, async () => {
            await runAll(platform, 'events', 'poll', null, signal, silentProgress);
            if (config.TETHER_INGEST_REREAD_MS > 0) await runAll(platform, 'events', 'reread', null, signal, silentProgress);
          }),
          every(config.TETHER_INGEST_INVENTORY_INTERVAL_MS, signal, async () => {
            await runAll(platform, 'inventories', 'poll', null, signal, silentProgress);
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

    async backfill(platforms, range, signal, progress = silentProgress) {
      state = 'running';
      const started = now();
      log.info({ platforms, since: new Date(range.since).toISOString() }, 'backfill started');
      try {
        // Inventories first, so the identities events name exist by the time enrichment sees the events.
        const feeds = await Promise.all(
          platforms.map(async (platform) => [
            ...(await runAll(platform, 'inventories', 'backfill', range, signal, progress)),
            ...(await runAll(platform, 'events', 'backfill', range, signal, progress)),
          ]),
        );
        state = 'stopped';
        return { feeds: feeds.flat(), elapsedMs: now() - started };
      } finally {
        progress.stop();
      }
    },

    async importFile(platform, feed, path, signal) {
      state = 'running';
      const started = now();
      const source = sourceOf(platform);
      const feedName = feed ?? source.defaultImportFeed;
      const normalise = source.importFeeds[feedName];
      if (!normalise) {
        throw tetherError('TETHER_CONFIG_INVALID', `${platform} has no importable feed "${feedName}" (known: ${Object.keys(source.importFeeds).join(', ')})`);
      }
      const key = `${platform}/${feedName}`;
      const summary: FeedSummary = { feed: key, pages: 0, sent: 0, dead: 0, error: null };
      for await (const batch of readJsonRecords(path, { batchSize: config.TETHER_INGEST_PAGE_LIMIT, signal })) {
        const items = batch.map((record): ProcessedItem => {
          const raw = deps.scrubber.bytes(record.raw);
          if (record.error) return { raw, result: { ok: false, stage: 'parsing', error: record.error } };
          return toItem(platform, feedName, normalise, record.value, raw, null);
        });
        const result = await sink.commit({ source: key, items });
        summary.pages++;
        summary.sent += result.sent;
        summary.dead += result.dead;
      }
      state = 'stopped';
      return { feeds: [summary], elapsedMs: now() - started };
    },

    health: () => status.report(state),
  };
}

export interface ConnectedApp {
  app: IngestAiApp;
  close(): Promise<void>;
}

/** Opens Kafka and the registry, makes sure the topics exist, restores this service's checkpoints. */
export async function connectApp(config: IngestAiConfig, options: { log: Logger; scrubber: Scrubber; fetch?: typeof fetch }): Promise<ConnectedApp> {
  const { log } = options;
  const pipeline = await connectPipeline(config, `tether-${SERVICE}`, log);
  const admin = await pipeline.kafka.admin.admin();
  try {
    // A broker busy creating other topics can answer before the new leaders are known: retried.
    await retry(
      () => ensureTetherTopics(admin, config.TETHER_TOPIC_PREFIX).catch((err: unknown) => {
        throw tetherError('TETHER_KAFKA', `creating the topics failed: ${errorMessage(err)}`, { cause: err, retriable: true });
      }),
      compileRetryPolicy({ maxAttempts: 5, initialDelayMs: 500 }),
    );
  } finally {
    await admin.close();
  }
  const producer = await pipeline.kafka.producer.producer();
  try {
    const restored = await restoreCheckpoints({
      client: pipeline.kafka.consumer,
      codec: pipeline.codec,
      topic: pipeline.topics.ingestCheckpoints,
      log,
      keep: ownsCheckpoint,
    });
    const checkpoints = createKafkaCheckpointStore({ producer, codec: pipeline.codec, topic: pipeline.topics.ingestCheckpoints, restored });
    const app = buildApp(config, { log, scrubber: options.scrubber, producer, codec: pipeline.codec, topics: pipeline.topics, checkpoints, fetch: options.fetch });
    return { app, close: () => producer.close() };
  } catch (err) {
    await producer.close().catch(() => undefined);
    throw err;
  }
}
