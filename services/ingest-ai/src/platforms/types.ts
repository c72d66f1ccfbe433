// What each platform module hands the app: its event feeds (read in time
// windows), its inventories (snapshotted and diffed, in dependency order),
// and the normalisers an exported file can be imported with.
import type { Logger } from '#log';
import type { EntityChange, EntityResult, HttpClient, OutRecord, Page, TimeWindow } from '#source';
import type { Normaliser, Platform } from '../normalise/common.ts';

export interface EventFeedDef {
  feed: string;
  /** Longest time window one request may ask for. */
  maxWindowMs: number;
  /** How far behind now a window must end for the source to have all its records. */
  lagMs: number;
  fetchPage(window: TimeWindow, page: unknown, signal: AbortSignal): Promise<Page<unknown> & { organizationId?: string | null }>;
  normalise: Normaliser;
}

export interface InventoryDef<S = unknown> {
  feed: string;
  pages(signal: AbortSignal): AsyncIterable<readonly unknown[]>;
  process(item: unknown): EntityResult<S>;
  emit(change: EntityChange<S>): readonly OutRecord[];
  /** The bytes kept for an element (DLQ); JSON of the element by default. */
  rawOf?(item: unknown): Buffer;
}

export interface PlatformSource {
  platform: Platform;
  eventFeeds: readonly EventFeedDef[];
  /** Run in this order: later ones may look up what earlier ones saw (key creator -> email). */
  inventories: readonly InventoryDef<never>[];
  importFeeds: Readonly<Record<string, Normaliser>>;
  defaultImportFeed: string;
  /** The inventory of platform accounts, whose emails other inventories look up. */
  accountsFeed: string;
}

/** Lookups an inventory may make into what other inventories saw. */
export interface Directory {
  /** Email of a platform account by person id ('<platform>:<user id>'), from the users inventory. */
  emailOf(personId: string): string | null;
}

export interface PlatformDeps {
  http: HttpClient;
  /** Page size asked for; each platform clamps it to its own maximum. */
  pageLimit: number;
  directory: Directory;
  log: Logger;
}

/** Lets a typed inventory sit in a list of inventories of other entity types. */
export function inventory<S>(def: InventoryDef<S>): InventoryDef<never> {
  return def as unknown as InventoryDef<never>;
}
