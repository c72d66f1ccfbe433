// What a source is: its own configuration variables (zod), how to reach it
// (base URL and auth), and its feeds: event feeds read in time windows,
// inventories snapshotted and diffed, and the feeds an exported file can be
// imported into. `defineSource` checks a definition once; the runner
// (source-runner.ts) does everything else, the same way for every source.
import type { z } from 'zod';
import { tetherError, type TetherError } from '#errors';
import type { Logger } from '#log';
import type { AccessEvent } from '#schemas';
import type { Auth } from './auth.ts';
import type { HttpClient } from './http-client.ts';
import type { EntityChange, EntityResult } from './inventory.ts';
import type { OutRecord } from './page-sink.ts';
import type { Page } from './paginate.ts';
import type { TimeWindow } from './windowed-feed.ts';

export interface NormaliseContext {
  /** The source's name (`openai`): the platform events and identities are attributed to. */
  platform: string;
  feed: string;
  ingestedAt: number;
  /** The record's original bytes, secrets already scrubbed; becomes `raw`. */
  rawBytes: Buffer;
  /** The organisation a page belongs to when its records do not say (Cursor's team id). */
  organizationId?: string | null;
  /** Stamped as source.ingest_version; the service's own when absent (connector-grant sources stamp theirs). */
  ingestVersion?: string;
}

export type NormaliseResult = { ok: true; event: AccessEvent } | { ok: false; error: TetherError };
/**
 * One record to any number of events: a Google token activity holds
 * several; a record of a type outside the source's tables none (named in
 * `skipped`, counted, never dead-lettered).
 */
export type NormaliseManyResult = { ok: true; events: readonly AccessEvent[]; skipped?: readonly string[] } | { ok: false; error: TetherError };
/** Pure: one source record to an AccessEvent or a typed error, never a throw (a throw is caught and dead-lettered as a bug). */
export type Normaliser = (record: unknown, ctx: NormaliseContext) => NormaliseResult;
/** As a Normaliser, for records that hold any number of events. */
export type ManyNormaliser = (record: unknown, ctx: NormaliseContext) => NormaliseManyResult;
/** The records one source record states (identity versions; none for a record that changes nothing), or a typed error. */
export type RecordsResult = { ok: true; records: readonly OutRecord[] } | { ok: false; error: TetherError };
/**
 * For feeds whose records are changes of identity rather than access (an
 * IdP's change history): one record to the versions it states. Same contract
 * as Normaliser otherwise.
 */
export type RecordNormaliser = (record: unknown, ctx: NormaliseContext) => RecordsResult;
/** What an event feed's records go through: one event, several, or identity records. */
export type EventNormaliser = Normaliser | ManyNormaliser | RecordNormaliser;

/** A page of an event feed; `organizationId` when the page (not its records) names the organisation. */
export interface EventPage extends Page<unknown> {
  organizationId?: string | null;
}

/** An event feed read in closed time windows (most audit logs). */
export interface EventFeedDef {
  kind?: 'windowed';
  feed: string;
  /** Longest time window one request may ask for. */
  maxWindowMs: number;
  /** How far behind now a window must end for the source to have all its records. */
  lagMs: number;
  /** The source's own late-arrival figure: with re-reads on, a window is read again at least this long after the first read. */
  rereadMs?: number;
  /** One page of `window`; `page` is the cursor the previous page gave (null: the first). */
  fetchPage(window: TimeWindow, page: unknown, signal: AbortSignal): Promise<EventPage>;
  normalise: EventNormaliser;
}

/** A page of a cursor feed; `next` null: caught up for now, and `resume` is where the next run starts. */
export interface CursorPage extends EventPage {
  resume?: unknown;
}

/**
 * An event feed read on from a cursor the source itself hands out, with no
 * windows (Okta's System Log in polling mode: `since` once, then its
 * `rel="next"` links, one after an empty page too). The checkpoint is the
 * cursor; a run ends when a page says it is caught up.
 */
export interface CursorFeedDef {
  kind: 'cursor';
  feed: string;
  /** Page `page` of the feed (null: the first, starting at `since`). */
  fetchPage(since: number, page: unknown, signal: AbortSignal): Promise<CursorPage>;
  normalise: EventNormaliser;
}

/**
 * State a source folds every event it emits into, and the records that
 * state derives (the connector inventory from grant events). Its state
 * rides in checkpoints of its own, saved with every page before the page's
 * checkpoint, so a restart never lacks what a checkpointed page applied;
 * re-applying an event (a re-read) must yield the records it yielded.
 */
export interface EventFold {
  /** Called once, before any event: the saved state by checkpoint id. */
  restore(get: (checkpointId: string) => string | undefined): void;
  /** The records `event` derives; may change state. */
  apply(event: AccessEvent): readonly OutRecord[];
  /** The checkpoints (ids under '<source>/') of the state changed since the last call. */
  changed(): { id: string; cursor: string }[];
}

export interface InventoryDef<S = unknown> {
  feed: string;
  /** Every page of the inventory over the API, in any order. */
  pages(signal: AbortSignal): AsyncIterable<readonly unknown[]>;
  /** Pure: one listed element to its entities. */
  process(item: unknown): EntityResult<S>;
  /** Pure: a change to the records it produces (versions, derived events). */
  emit(change: EntityChange<S>): readonly OutRecord[];
  /** The bytes kept for an element (DLQ); JSON of the element by default. */
  rawOf?(item: unknown): Buffer;
  /**
   * An exported listing of this inventory (the API's list envelope, a JSON
   * array or JSONL of its elements) can be imported as a snapshot: its
   * elements are what `process` takes. Absent: not importable.
   */
  importable?: true;
}

export interface SourceFeeds {
  eventFeeds: readonly (EventFeedDef | CursorFeedDef)[];
  /** Fed every event the source emits (event feeds, imports, events inventories derive). */
  fold?: EventFold;
  /** Run in this order: later ones may look up what earlier ones saw (key creator -> email). */
  inventories: readonly InventoryDef<never>[];
  /** Event normalisers an exported file can be imported with, by feed. */
  importFeeds: Readonly<Record<string, EventNormaliser>>;
  /** `import` without `--feed`. */
  defaultImportFeed: string;
  /** The inventory of accounts (entities whose content has an `email`) that `Directory.emailOf` reads. */
  accountsFeed?: string;
}

/** Lookups an inventory may make into what other inventories saw. */
export interface Directory {
  /** Email of an account by its entity id ('<source>:<user id>'), from the accounts inventory's last snapshot. */
  emailOf(personId: string): string | null;
}

export interface SourceDeps {
  http: HttpClient;
  /** Page size asked for; each source clamps it to its own maximum. */
  pageLimit: number;
  directory: Directory;
  log: Logger;
}

export interface SourceEndpoint {
  /** Prefix of every request path. */
  baseUrl: string;
  auth: Auth;
  /** Client-side pacing under the published limit; 0 or absent: none. */
  requestsPerMinute?: number;
}

export interface SourceDefinition<Shape extends z.ZodRawShape = z.ZodRawShape, Name extends string = string> {
  /** Lower-case, `[a-z][a-z0-9_-]*`: the CLI name, the platform of its records, the prefix of its checkpoints. */
  name: Name;
  /** One line for `--help`. */
  description: string;
  /** The source's own variables (`TETHER_<NAME>_*`), merged into the service's schema by the registry. */
  env: Shape;
  /** How to reach the source with this configuration; null when it is not configured (no credentials), which leaves it out of `all`. */
  endpoint(config: z.output<z.ZodObject<Shape>>): SourceEndpoint | null;
  /** The feeds, given a client that already carries the endpoint's auth, and the configuration. */
  feeds(deps: SourceDeps, config: z.output<z.ZodObject<Shape>>): SourceFeeds;
}

/** A definition of any shape, as the registry holds them. */
export type AnySourceDefinition = SourceDefinition<z.ZodRawShape, string>;

const NAME = /^[a-z][a-z0-9_-]*$/;

/** Checks a source definition once, at module load, and freezes it. */
export function defineSource<const Shape extends z.ZodRawShape, const Name extends string>(definition: SourceDefinition<Shape, Name>): SourceDefinition<Shape, Name> {
  if (!NAME.test(definition.name)) throw tetherError('TETHER_CONFIG_INVALID', `source name "${definition.name}" must match ${NAME}`);
  for (const key of Object.keys(definition.env)) {
    if (!key.startsWith('TETHER_')) throw tetherError('TETHER_CONFIG_INVALID', `source ${definition.name}: variable ${key} must start with TETHER_`);
  }
  return Object.freeze({ ...definition });
}

/** Lets a typed inventory sit in a list of inventories of other entity types. */
export function inventory<S>(def: InventoryDef<S>): InventoryDef<never> {
  return def as unknown as InventoryDef<never>;
}

/** The record an access event is produced as: keyed by its deterministic id. */
export function accessEventRecord(event: AccessEvent): OutRecord {
  return { role: 'accessRaw', key: event.event_id, value: event };
}
