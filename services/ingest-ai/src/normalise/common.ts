// Helpers for the platforms' normalisers: the contract itself (a pure
// function from one source record to an AccessEvent or a typed error, never a
// throw) is the source framework's (`#source` define-source.ts).
import { TetherError, tetherError } from '#errors';
import { deriveEventId, type AccessEvent, type Actor, type ConnectorRef, type OcsfClass, type PlatformScope, type SourceEndpoint, type Target } from '#schemas';
import type { NormaliseContext, Normaliser } from '#source';
import type { DeviceSourceName } from '../../../ingest-devices/src/sources/names.ts';
import type { SOURCES } from '../sources.ts';
import { timeFlags } from './time.ts';
import { unmappedBudget, unmappedJson } from './unmapped.ts';

export type { NormaliseContext, NormaliseResult, Normaliser } from '#source';

/**
 * The name of a registered AI-platform source: derived from the table in
 * src/sources.ts, so it grows with it; the connector-grant sources
 * (services/ingest-grants) name theirs GrantProvider, and the device
 * inventories registered there (services/ingest-devices) are sources of
 * devices, not platforms.
 */
export type Platform = Exclude<(typeof SOURCES)['names'][number], 'google' | 'entra' | 'okta' | 'github' | DeviceSourceName>;

/** Stamped on every event so a re-normalised record can be told apart. */
export const INGEST_VERSION = 'ingest-ai/1';

export type Json = Record<string, unknown>;

export function invalid(message: string, context?: Record<string, unknown>): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message, { context });
}

/**
 * Wraps a normaliser body: a TetherError it throws (missing id, bad time)
 * and any unexpected throw both come back as a typed error result.
 */
export function safely(body: (record: Json, ctx: NormaliseContext) => AccessEvent): Normaliser {
  return (record, ctx) => {
    const o = asObject(record);
    if (!o) return { ok: false, error: invalid(`${ctx.platform}/${ctx.feed}: record is not a JSON object`) };
    try {
      return { ok: true, event: body(o, ctx) };
    } catch (err) {
      if (TetherError.is(err)) return { ok: false, error: err };
      return { ok: false, error: tetherError('TETHER_NORMALISE_INVALID', `${ctx.platform}/${ctx.feed}: ${(err as Error)?.message ?? String(err)}`, { cause: err }) };
    }
  };
}

export function asObject(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/**
 * A string with something in it, or null (blank text names nothing: two
 * records with a blank email must not look like one person). Lone UTF-16
 * surrogates become U+FFFD here, as Avro's UTF-8 would make them on the
 * wire, so an event reads back as it was produced; `raw` keeps the original.
 */
export function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.toWellFormed() : null;
}

/** Ids arrive as strings or (older Cursor docs) numbers. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return str(value);
}

/** A flag the source may write as a boolean, "true"/"false" or 1/0; null when it is anything else. */
export function flag(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 'true' || value === 'TRUE' || value === 'True') return true;
  if (value === 0 || value === 'false' || value === 'FALSE' || value === 'False') return false;
  return null;
}

/**
 * A mapping table entry by a source-given key. Tables are object literals,
 * so `table["constructor"]` would be Object itself: only own entries count.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

export function requireString(o: Json, key: string, what: string): string {
  const value = str(o[key]);
  if (value === null) throw invalid(`${what}: "${key}" is missing or not a non-blank string`);
  return value;
}

export function emptyActor(kind: string = 'unknown'): Actor {
  return { kind, platform_user_id: null, email: null, name: null, api_key_id: null, service_account_id: null, oauth_client_id: null, session_id: null };
}

export function emptyScope(): PlatformScope {
  return { organization_id: null, project_id: null, workspace_id: null };
}

export function emptySrc(): SourceEndpoint {
  return { ip: null, user_agent: null, hostname: null, device_serial: null, device_id: null, country: null };
}

export interface EventParts {
  sourceEventId: string;
  time: number;
  timeRaw: string;
  action: string;
  sourceType: string;
  outcome: 'success' | 'failure' | 'unknown';
  ocsf: OcsfClass;
  actor: Actor;
  targets: Target[];
  scope: PlatformScope;
  src: SourceEndpoint;
  connector?: ConnectorRef | null;
  unmapped: Json;
  /** Tether's annotations on this event, kept in unmapped.tether_flags. */
  flags?: readonly string[];
}

/**
 * The one way an event is made: ids derived, targets deduplicated, unmapped
 * bounded, time flags added. Its text is well-formed UTF-16 because every
 * source string enters through str(), timeText() or target() (see wellFormed).
 */
export function buildEvent(parts: EventParts, ctx: NormaliseContext): AccessEvent {
  return {
    event_id: deriveEventId(ctx.platform, ctx.feed, parts.sourceEventId),
    source: { platform: ctx.platform, feed: ctx.feed, source_event_id: parts.sourceEventId, ingested_at: ctx.ingestedAt, ingest_version: ctx.ingestVersion ?? INGEST_VERSION },
    time: parts.time,
    time_raw: parts.timeRaw,
    action: parts.action,
    source_type: parts.sourceType,
    outcome: parts.outcome,
    ocsf: parts.ocsf,
    actor: parts.actor,
    targets: dedupeTargets(parts.targets),
    scope: parts.scope,
    src: parts.src,
    connector: parts.connector ?? null,
    raw: ctx.rawBytes,
    unmapped: unmappedJson(parts.unmapped, unmappedBudget(ctx.rawBytes.length), [...timeFlags(parts.time, ctx.ingestedAt), ...(parts.flags ?? [])]),
  };
}

/**
 * Every string of a record as well-formed UTF-16. avsc writes a lone
 * surrogate as CESU bytes (ED A0 80), which no UTF-8 reader accepts, so a
 * record must not carry one (bytes such as `raw` are left as they are).
 * Identity versions pass through here whole; events, many more, rely on
 * their strings' entry points doing it (a walk per event costs ~15 %).
 */
export function wellFormed<T>(value: T): T {
  return hasLoneSurrogate(value) ? rebuildWellFormed(value) : value;
}

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return !value.isWellFormed();
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  for (const v of Array.isArray(value) ? value : Object.values(value)) if (hasLoneSurrogate(v)) return true;
  return false;
}

function rebuildWellFormed<T>(value: T): T {
  if (typeof value === 'string') return value.toWellFormed() as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => rebuildWellFormed(v)) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rebuildWellFormed(v)])) as T;
}

/** A target; its type may come from a source key (Anthropic `*_id`), so it is made well-formed too. */
export function target(type: string, id: unknown, name: unknown = null): Target[] {
  const value = idOf(id);
  return value === null ? [] : [{ type: type.toWellFormed(), id: value, name: str(name) }];
}

/** A source IP or email the platform wrote as "unknown" is no value. */
export function known(value: unknown): string | null {
  const s = str(value);
  return s === null || s.toLowerCase() === 'unknown' ? null : s;
}

function dedupeTargets(targets: Target[]): Target[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = `${t.type}\u0000${t.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Every field of `o` except the ones a mapping consumed. */
export function rest(o: Json, consumed: readonly string[]): Json {
  const skip = new Set(consumed);
  return Object.fromEntries(Object.entries(o).filter(([k]) => !skip.has(k)));
}
