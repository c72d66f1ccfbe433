// The normaliser contract shared by the three platforms: a pure function
// from one source record to an AccessEvent or a typed error, never a throw.
import { TetherError, tetherError } from '#errors';
import { deriveEventId, type AccessEvent, type Actor, type ConnectorRef, type OcsfClass, type PlatformScope, type SourceEndpoint, type Target } from '#schemas';

export const PLATFORMS = ['openai', 'anthropic', 'cursor'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Stamped on every event so a re-normalised record can be told apart. */
export const INGEST_VERSION = 'ingest-ai/1';

export interface NormaliseContext {
  platform: Platform;
  feed: string;
  ingestedAt: number;
  /** The record's original bytes, secrets already scrubbed; becomes `raw`. */
  rawBytes: Buffer;
  /** The organisation a page belongs to when its records do not say (Cursor's team id). */
  organizationId?: string | null;
}

export type NormaliseResult = { ok: true; event: AccessEvent } | { ok: false; error: TetherError };
export type Normaliser = (record: unknown, ctx: NormaliseContext) => NormaliseResult;

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

/** A non-empty string, or null. */
export function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Ids arrive as strings or (older Cursor docs) numbers. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return str(value);
}

export function requireString(o: Json, key: string, what: string): string {
  const value = str(o[key]);
  if (value === null) throw invalid(`${what}: "${key}" is missing or not a non-empty string`);
  return value;
}

/** Unix seconds (OpenAI) to epoch ms. */
export function secondsToMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw invalid(`${what}: time ${JSON.stringify(value)} is not Unix seconds`);
  return Math.round(value * 1000);
}

/** RFC 3339 / ISO 8601 to epoch ms. */
export function isoToMs(value: unknown, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(`${what}: time ${JSON.stringify(value)} is not an ISO 8601 timestamp`);
  return ms;
}

export function optionalSecondsToMs(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 1000) : null;
}

export function optionalIsoToMs(value: unknown): number | null {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? null : ms;
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
}

export function buildEvent(parts: EventParts, ctx: NormaliseContext): AccessEvent {
  return {
    event_id: deriveEventId(ctx.platform, ctx.feed, parts.sourceEventId),
    source: { platform: ctx.platform, feed: ctx.feed, source_event_id: parts.sourceEventId, ingested_at: ctx.ingestedAt, ingest_version: INGEST_VERSION },
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
    unmapped: JSON.stringify(dropEmpty(parts.unmapped)),
  };
}

export function target(type: string, id: unknown, name: unknown = null): Target[] {
  const value = idOf(id);
  return value === null ? [] : [{ type, id: value, name: str(name) }];
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

function dropEmpty(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

/** Every field of `o` except the ones a mapping consumed. */
export function rest(o: Json, consumed: readonly string[]): Json {
  const skip = new Set(consumed);
  return Object.fromEntries(Object.entries(o).filter(([k]) => !skip.has(k)));
}
