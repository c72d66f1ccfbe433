// The connector inventory, derived from grant events alone (pure): one
// connector per (provider, client id, grant subject), its versions on
// tether.identity.connectors keyed '<connector_id>@<valid_from>'.
//
//   grant   opens a version (granted_at = its time), or, on an open grant,
//           a new version only when it adds scopes (one Entra consent writes
//           three records; they make one version);
//   revoke  closes the open version (revoked_at); `every` closes every
//           connector of the client, known now or met later;
//   use     dates last_used_at on the version in force at its time, in
//           place (same key), re-emitted when it is the first use in its
//           `useResolutionMs` bucket (so last_used_at lags by less than that);
//           a use with nothing known before it opens a version with
//           granted_at null (a grant older than the source's retention).
//
// Late and out-of-order records are the normal case (Google pages come
// newest first; every source re-reads an overlap): transitions are kept in
// time order and the versions from an inserted one on are recomputed and
// re-emitted, so the versions equal those of the sorted history whatever the
// order of arrival, and a record read twice changes no state. A key once
// emitted is never orphaned: when an earlier record re-cuts the history, the
// key is re-emitted as a continuation of the state then in force. A record
// applied again (a re-read, a restart that resumes behind the saved ledger)
// re-emits the versions it made, from the ledger as it is now: the same
// keys, so the ledger may be saved before or after the records it made and
// nothing is lost either way. Failed or
// unknown-outcome grants (requests, denials) change no state.
// Classification (AI tool, sanctioned) comes from the catalogue as of each
// version's own time.
import type { Catalogue } from '#catalogue';
import { versionKey, type AccessEvent, type ConnectorVersion } from '#schemas';
import { wellFormed } from '../../../ingest-ai/src/normalise/common.ts';
import { grantKindOf, subjectKey, subjectOf } from '../normalise/grant-event.ts';

export interface Transition {
  time: number;
  kind: 'grant' | 'revoke' | 'seen';
  /** The event that made it (dedup across re-reads). */
  eventId: string;
  scopes: string[];
  appName: string | null;
  grantedByUserId: string | null;
  grantedByEmail: string | null;
  feed: string;
  sourceTime: string;
  observedAt: number;
}

export interface ConnectorState {
  provider: string;
  clientId: string;
  subject: string;
  transitions: Transition[];
  /** Latest use per resolution bucket (bucket start -> use time), the newest MAX_USE_BUCKETS kept. */
  uses: Record<string, number>;
  /** Every valid_from ever emitted: a key on the topic stays a version (a continuation) when history is re-cut. */
  keys: number[];
}

/** Use buckets kept per connector (at an hour each, three weeks of late data). */
export const MAX_USE_BUCKETS = 500;

export interface ConnectorLedger {
  connectors: Record<string, ConnectorState>;
  /** `every` revokes per '<provider>\u0000<client id>', applied to connectors met later too. */
  clientRevokes: Record<string, Transition[]>;
}

export interface LedgerOptions {
  catalogue: Catalogue;
  /** A use re-emits its version only when it moves last_used_at by at least this much. */
  useResolutionMs: number;
}

export function emptyLedger(): ConnectorLedger {
  return { connectors: {}, clientRevokes: {} };
}

export function connectorId(provider: string, clientId: string, subject: string): string {
  return `${provider}:${clientId}:${subject}`;
}

/** Pure fold step: the ledger after `event`, and the versions it makes or remakes. Mutates `ledger`. */
export function applyGrantEvent(ledger: ConnectorLedger, event: AccessEvent, options: LedgerOptions): ConnectorVersion[] {
  const kind = grantKindOf(event.action);
  const connector = event.connector;
  if (kind === null || kind === 'appRecord' || !connector) return [];
  const subject = subjectOf(event);
  if (subject === null) return [];
  const provider = connector.provider;
  const clientId = connector.client_id;
  const transition: Transition = {
    time: event.time,
    kind: kind === 'use' ? 'seen' : kind,
    eventId: event.event_id,
    scopes: connector.scopes,
    appName: connector.app_name,
    grantedByUserId: event.actor.kind === 'human' ? event.actor.platform_user_id : null,
    grantedByEmail: event.actor.kind === 'human' ? event.actor.email : null,
    feed: event.source.feed,
    sourceTime: event.time_raw,
    observedAt: event.source.ingested_at,
  };

  if (kind === 'revoke' && subject.kind === 'every') {
    if (event.outcome !== 'success') return [];
    const clientKey = `${provider}\u0000${clientId}`;
    insert((ledger.clientRevokes[clientKey] ??= []), transition);
    const out: ConnectorVersion[] = [];
    for (const [id, state] of Object.entries(ledger.connectors)) {
      if (state.provider !== provider || state.clientId !== clientId) continue;
      insert(state.transitions, transition);
      out.push(...emitted(state, fold(id, state, options).filter((v) => v.valid_from >= transition.time), event));
    }
    return out;
  }

  const key = subjectKey(subject);
  if (key === null) return [];
  const id = connectorId(provider, clientId, key);
  let state = ledger.connectors[id];
  if (!state) {
    state = { provider, clientId, subject: key, transitions: [...(ledger.clientRevokes[`${provider}\u0000${clientId}`] ?? [])], uses: {}, keys: [] };
    ledger.connectors[id] = state;
  }

  if (kind === 'use') {
    // Only a use before everything known is a transition (it proves an older grant); at most one is kept.
    let from: number | null = null;
    const firstTime = state.transitions[0]?.time;
    if (firstTime === undefined || event.time < firstTime) {
      state.transitions = state.transitions.filter((t) => t.kind !== 'seen');
      insert(state.transitions, transition);
      from = transition.time;
    }
    const bucket = String(Math.floor(event.time / options.useResolutionMs) * options.useResolutionMs);
    const known = state.uses[bucket];
    if (known === undefined || event.time > known) {
      state.uses[bucket] = event.time;
      pruneUses(state);
    }
    const versions = fold(id, state, options);
    const out = from === null ? [] : versions.filter((v) => v.valid_from >= from);
    // First use in its bucket (or that use again): the version in force says so now.
    if (known === undefined || known === event.time) {
      const inForce = versions.findLast((v) => v.valid_from <= event.time);
      if (inForce && !out.includes(inForce)) out.push(inForce);
    }
    return emitted(state, out, event);
  }

  // Requests, denials and failed grants or revokes leave the grant as it was.
  if (event.outcome !== 'success') return [];
  // Already known (a re-read): its versions again, as the ledger has them now.
  insert(state.transitions, transition);
  return emitted(state, fold(id, state, options).filter((v) => v.valid_from >= transition.time), event);
}

/**
 * Remembers the keys, and dates each version's observation no earlier than
 * the event that made it go out: a version re-emitted with news (a later
 * last use) then replaces the earlier copy in ClickHouse (ReplacingMergeTree
 * by observed_at).
 */
function emitted(state: ConnectorState, versions: ConnectorVersion[], by: AccessEvent): ConnectorVersion[] {
  for (const v of versions) {
    if (!state.keys.includes(v.valid_from)) state.keys.push(v.valid_from);
    if (by.source.ingested_at > v.source.observed_at) v.source = { ...v.source, observed_at: by.source.ingested_at };
  }
  return versions;
}

function pruneUses(state: ConnectorState): void {
  const buckets = Object.keys(state.uses);
  if (buckets.length <= MAX_USE_BUCKETS) return;
  for (const b of buckets.map(Number).sort((x, y) => x - y).slice(0, buckets.length - MAX_USE_BUCKETS)) delete state.uses[String(b)];
}

/** Inserts in time order (ties: by event id, so any arrival order gives one order); false when already there. */
function insert(list: Transition[], t: Transition): boolean {
  if (list.some((x) => x.eventId === t.eventId)) return false;
  let i = list.length;
  while (i > 0 && (list[i - 1]!.time > t.time || (list[i - 1]!.time === t.time && list[i - 1]!.eventId > t.eventId))) i--;
  list.splice(i, 0, t);
  return true;
}

/** Every version of a connector from its sorted transitions. */
export function fold(id: string, state: ConnectorState, options: LedgerOptions): ConnectorVersion[] {
  const out: ConnectorVersion[] = [];
  let open: ConnectorVersion | null = null;
  let seenAny = false;
  for (const t of state.transitions) {
    const first = !seenAny;
    seenAny = true;
    if (t.kind === 'seen') {
      // A use proves a grant only when nothing is known before it.
      if (first) open = push(out, version(id, state, t, null, t.scopes, options));
      continue;
    }
    if (t.kind === 'grant') {
      if (open === null) {
        open = push(out, version(id, state, t, t.time, t.scopes, options));
      } else {
        const added = t.scopes.filter((s) => !open!.scopes.includes(s));
        if (added.length === 0) continue;
        open = push(out, { ...version(id, state, t, open.granted_at, [...open.scopes, ...added], options), granted_by_email: open.granted_by_email, granted_by_platform_user_id: open.granted_by_platform_user_id });
      }
      continue;
    }
    // revoke
    if (open === null && !first) continue;
    const base = open ?? version(id, state, t, null, t.scopes, options);
    push(out, {
      ...version(id, state, t, base.granted_at, base.scopes.length > 0 ? base.scopes : t.scopes, options),
      active: false,
      status: 'revoked',
      revoked_at: t.time,
      granted_by_email: base.granted_by_email,
      granted_by_platform_user_id: base.granted_by_platform_user_id,
      app_name: t.appName ?? base.app_name,
    });
    open = null;
  }
  // Keys emitted before the history was re-cut: the state in force then, under that key.
  for (const k of state.keys) {
    if (out.some((v) => v.valid_from === k)) continue;
    const inForce = out.findLast((v) => v.valid_from < k);
    if (inForce) out.push({ ...inForce, valid_from: k });
  }
  out.sort((a, b) => a.valid_from - b.valid_from);
  // Latest use while each version held.
  const uses = Object.values(state.uses);
  for (const [i, v] of out.entries()) {
    const until = out[i + 1]?.valid_from ?? Number.POSITIVE_INFINITY;
    let last: number | null = null;
    for (const u of uses) if (u >= v.valid_from && u < until && (last === null || u > last)) last = u;
    v.last_used_at = last;
  }
  return out;
}

function push(out: ConnectorVersion[], v: ConnectorVersion): ConnectorVersion {
  // Two transitions at one millisecond: the later in order wins the key.
  if (out.length > 0 && out[out.length - 1]!.valid_from === v.valid_from) out.pop();
  out.push(v);
  return v;
}

function version(id: string, state: ConnectorState, t: Transition, grantedAt: number | null, scopes: string[], options: LedgerOptions): ConnectorVersion {
  const c = options.catalogue.classifyClient({ provider: state.provider, clientId: state.clientId, appName: t.appName }, t.time);
  return wellFormed({
    connector_id: id,
    provider: state.provider,
    client_id: state.clientId,
    app_name: t.appName,
    valid_from: t.time,
    source: { platform: state.provider, feed: t.feed, source_time: t.sourceTime, observed_at: t.observedAt },
    active: true,
    status: 'granted',
    granted_by_email: t.grantedByEmail,
    granted_by_platform_user_id: t.grantedByUserId === null ? null : `${state.provider}:${t.grantedByUserId}`,
    scopes,
    ai_classification: c.classification,
    sanctioned: c.sanctioned,
    granted_at: grantedAt,
    revoked_at: null,
    last_used_at: null,
    ai_tool_id: c.tool?.id ?? null,
    catalogue_version: c.catalogueVersion,
    grant_subject: state.subject,
  });
}

/** The record a version goes out as. */
export function connectorRecord(v: ConnectorVersion) {
  return { role: 'identityConnectors' as const, key: versionKey(v.connector_id, v.valid_from), value: v };
}
