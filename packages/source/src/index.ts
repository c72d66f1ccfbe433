// The toolkit every ingest service shares: the source framework
// (defineSource / createSourceRegistry / createSourceRunner / runSource), HTTP
// polling with auth hooks, timeouts and retries, pagination, checkpoints on
// Kafka, page delivery with DLQ and checkpoint-after-ack, windowed event
// feeds, inventory snapshots, exported file reading, feed health, secret
// scrubbing.
export { defineSource, inventory, accessEventRecord } from './define-source.ts';
export type {
  SourceDefinition, AnySourceDefinition, SourceEndpoint, SourceFeeds, SourceDeps, EventFeedDef, EventPage, InventoryDef, Directory,
  Normaliser, NormaliseContext, NormaliseResult, NormaliseManyResult, ManyNormaliser, EventNormaliser, CursorFeedDef, CursorPage, EventFold, RecordNormaliser, RecordsResult,
} from './define-source.ts';
export { createSourceRegistry, sourceRunnerEnvShape } from './source-registry.ts';
export type { SourceRegistry, SourceRunnerConfig } from './source-registry.ts';
export { createSourceRunner, runSource } from './source-runner.ts';
export type { SourceRunner, SourceRunnerDeps, SourceCommand, TimeRange, FeedMode } from './source-runner.ts';
export { noAuth, headerAuth, bearerAuth, basicAuth, cachedBearer, oauthClientCredentials, googleServiceAccount, signedJwt, GOOGLE_TOKEN_URI } from './auth.ts';
export type { Auth, AuthContext, ClientCredentials, GoogleServiceAccount, Token, TokenOptions } from './auth.ts';
export { decodeUtf8, notUtf8Error, originalOf, quoteSnippet, withOriginal } from './utf8.ts';
export type { Utf8Result } from './utf8.ts';
export { createAnnouncements } from './announcements.ts';
export type { Announcements } from './announcements.ts';
export { silentProgress, stderrProgress, summaryLine } from './progress.ts';
export type { FeedSummary, BackfillSummary, ProgressReporter } from './progress.ts';
export { DEFAULT_RETRY_POLICY, compileRetryPolicy, backoffDelay, retry, sleep, throwIfAborted } from './retry.ts';
export type { RetryPolicy, RetryInfo, RetryOptions } from './retry.ts';
export { createHttpClient, buildUrl, parseRetryAfter } from './http-client.ts';
export type { HttpClient, HttpClientOptions, JsonResponse, Query, QueryValue } from './http-client.ts';
export { paginate, afterIdPage, pageTokenPage, pageNumberPage, numberedPage, nextPageTokenPage, odataPage, linkHeaderPage, nextLink } from './paginate.ts';
export { createPageGuard, DEFAULT_MAX_PAGES } from './page-guard.ts';
export type { PageGuard, PageGuardReason } from './page-guard.ts';
export type { Page, FetchPage } from './paginate.ts';
export { createKafkaCheckpointStore, createMemoryCheckpointStore, restoreCheckpoints } from './checkpoint-store.ts';
export type { CheckpointStore } from './checkpoint-store.ts';
export { createPageSink } from './page-sink.ts';
export type { OutRecord, ItemResult, ProcessedItem, PageCommit, CommitResult, PageSink } from './page-sink.ts';
export { runWindows, planWindows, freshCursor, parseWindowCursor } from './windowed-feed.ts';
export type { TimeWindow, WindowedFeed, WindowCursor, WindowProgress, WindowRunResult } from './windowed-feed.ts';
export { runInventorySnapshot, diffEntity, fingerprint, parseInventoryCursor } from './inventory.ts';
export type {
  InventoryEntity, InventoryFeed, EntityChange, ChangeKind, EntityResult, EntityState, InventoryCursor, SnapshotResult,
} from './inventory.ts';
export { readJsonRecords, readJsonDocument, splitJsonArray, serialiseElement } from './json-records.ts';
export type { FileRecord, ReadJsonOptions } from './json-records.ts';
export { stringifyJson } from './json-text.ts';
export type { StringifyOptions } from './json-text.ts';
export { createFeedStatus } from './feed-status.ts';
export type { FeedStatus } from './feed-status.ts';
export { createScrubber, scrubbingDestination, secretForms, scrubRecord, scrubTokenShapes } from './secrets.ts';
export type { Scrubber } from './secrets.ts';
export { importItems } from './file-import.ts';
export type { FileImportDeps, FileImportSummary } from './file-import.ts';
export { civilToEpochMs, parseAsctimeUtc, parseInstant, parseRfc3339, quoteValue, zoneOffsetMinutes } from './civil-time.ts';
export type { CivilTime, TimeResult } from './civil-time.ts';
