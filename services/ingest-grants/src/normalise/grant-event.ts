// What the four grant sources share: the normalised actions, the OCSF
// classes they map to, and how a grant's facts are carried on an AccessEvent
// so that the connector inventory (inventory/connector-versions.ts) can be
// derived from the events alone, from a poll or from the topic again.
//
// An event's `actor` is who acted (the person who granted, revoked or whose
// token was used). Whose grant it is travels as a `grant_subject` target:
// the user the grant is for, or `all` for a tenant-wide (admin) grant, so a
// revoke by an administrator closes the user's grant and not one of the
// administrator's own. The app is the `connector` and an `oauth_client` target.
import { TetherError, errorMessage, tetherError } from '#errors';
import type { AccessEvent, Actor, ConnectorRef, OcsfClass, Target } from '#schemas';
import { normaliseEmail } from '#schemas';
import { asObject, buildEvent, invalid, type EventParts, type Json, type NormaliseContext } from '../../../ingest-ai/src/normalise/common.ts';
import { ACCESS_ACTIVITY, API_ACTIVITY, OCSF_CLASS, SEVERITY, ocsfClass } from '../../../ingest-ai/src/normalise/ocsf.ts';

export const GRANT_PROVIDERS = ['google', 'entra', 'okta', 'github'] as const;
export type GrantProvider = (typeof GRANT_PROVIDERS)[number];

export const INGEST_GRANTS_VERSION = 'ingest-grants/1';

/** Normalised actions of connector events. */
export const GRANT_ACTION = {
  grant: 'oauth.grant',
  revoke: 'oauth.revoke',
  use: 'oauth.use',
  /** An app (service principal, OAuth app, GitHub App) registered in the tenant: an NHI record, not a grant. */
  appRecord: 'oauth.app_record',
} as const;
export type GrantKind = keyof typeof GRANT_ACTION;

export type Outcome = 'success' | 'failure' | 'unknown';

export interface GrantContext extends NormaliseContext {
  platform: GrantProvider;
}

export function grantContext(platform: GrantProvider, feed: string, ingestedAt: number, rawBytes: Buffer): GrantContext {
  return { platform, feed, ingestedAt, rawBytes, ingestVersion: INGEST_GRANTS_VERSION };
}

/** OCSF: grants and revokes are User Access Management (assign / revoke privileges); a use is API Activity. */
export function grantOcsf(kind: GrantKind, outcome: Outcome): OcsfClass {
  const severity = outcome === 'failure' ? SEVERITY.low : SEVERITY.informational;
  switch (kind) {
    case 'grant':
      return ocsfClass(OCSF_CLASS.userAccessManagement, ACCESS_ACTIVITY.assign, severity);
    case 'revoke':
      return ocsfClass(OCSF_CLASS.userAccessManagement, ACCESS_ACTIVITY.revoke, severity);
    case 'use':
      return ocsfClass(OCSF_CLASS.apiActivity, API_ACTIVITY.other, severity);
    case 'appRecord':
      return ocsfClass(OCSF_CLASS.apiActivity, API_ACTIVITY.create, severity);
  }
}

/**
 * Whose grant it is: one user (by directory id and/or email), or every user
 * of the tenant / organisation (`all`: an admin consent, an app installation).
 * `every` is for revokes only: every grant of the client, whoever's (the
 * app's service principal deleted, the app blocked or all its tokens revoked).
 */
export type GrantSubject =
  | { kind: 'user'; userId: string | null; email: string | null }
  | { kind: 'all'; scopeId: string }
  | { kind: 'every'; scopeId: string };

export const SUBJECT_TARGET = 'grant_subject';
export const CLIENT_TARGET = 'oauth_client';

export function subjectTarget(subject: GrantSubject | null): Target[] {
  if (subject === null) return [];
  if (subject.kind !== 'user') return [{ type: SUBJECT_TARGET, id: `${subject.kind}:${subject.scopeId}`, name: null }];
  const id = subject.userId ?? (subject.email === null ? null : `email:${subject.email}`);
  return id === null ? [] : [{ type: SUBJECT_TARGET, id, name: subject.email }];
}

/** The subject a grant_subject target names. */
export function subjectOf(event: AccessEvent): GrantSubject | null {
  const t = event.targets.find((x) => x.type === SUBJECT_TARGET);
  if (!t) return null;
  if (t.id.startsWith('all:')) return { kind: 'all', scopeId: t.id.slice(4) };
  if (t.id.startsWith('every:')) return { kind: 'every', scopeId: t.id.slice(6) };
  if (t.id.startsWith('email:')) return { kind: 'user', userId: null, email: t.name ?? t.id.slice(6) };
  return { kind: 'user', userId: t.id, email: t.name };
}

/**
 * The stable key of a subject inside a connector id: the directory id when
 * the source gives one (it survives a rename), else the normalised email.
 */
export function subjectKey(subject: GrantSubject): string | null {
  if (subject.kind !== 'user') return `${subject.kind}:${subject.scopeId}`;
  if (subject.userId) return subject.userId;
  const email = subject.email === null ? null : normaliseEmail(subject.email);
  return email === null ? null : `email:${email}`;
}

/** Scopes as a list: split on `sep`, trimmed, blanks and repeats dropped, order kept. */
export function scopeList(value: unknown, sep: RegExp = /\s+/): string[] {
  const parts: string[] = [];
  const add = (s: string) => {
    for (const p of s.split(sep)) {
      const v = p.trim();
      if (v !== '' && !parts.includes(v)) parts.push(v.toWellFormed());
    }
  };
  if (typeof value === 'string') add(value);
  else if (Array.isArray(value)) for (const v of value) if (typeof v === 'string') add(v);
  return parts;
}

export interface GrantParts extends Omit<EventParts, 'action' | 'ocsf' | 'connector' | 'targets'> {
  kind: GrantKind;
  /** The action when it is not the kind's own (an unknown source type stays itself). */
  action?: string;
  connector: ConnectorRef | null;
  subject: GrantSubject | null;
  targets?: Target[];
}

/** The one way a grant event is made (through ingest-ai's buildEvent: ids, unmapped, flags). */
export function grantEvent(parts: GrantParts, ctx: GrantContext): AccessEvent {
  const { kind, subject, connector, targets = [], ...rest } = parts;
  const clientTarget: Target[] = connector ? [{ type: CLIENT_TARGET, id: connector.client_id, name: connector.app_name }] : [];
  return buildEvent(
    {
      ...rest,
      action: parts.action ?? GRANT_ACTION[kind],
      ocsf: grantOcsf(kind, parts.outcome),
      connector,
      targets: [...clientTarget, ...subjectTarget(subject), ...targets],
    },
    ctx,
  );
}

/** The kind of a normalised grant event, or null for any other action. */
export function grantKindOf(action: string): GrantKind | null {
  for (const [kind, value] of Object.entries(GRANT_ACTION)) if (value === action) return kind as GrantKind;
  return null;
}

export function humanActor(fields: Partial<Pick<Actor, 'platform_user_id' | 'email' | 'name' | 'session_id'>>): Actor {
  return {
    kind: 'human',
    platform_user_id: fields.platform_user_id ?? null,
    email: fields.email ?? null,
    name: fields.name ?? null,
    api_key_id: null,
    service_account_id: null,
    oauth_client_id: null,
    session_id: fields.session_id ?? null,
  };
}

/** A record yields zero or more events (a Google activity holds several); names outside the tables are skipped and counted. */
export type GrantResult = { ok: true; events: AccessEvent[]; skipped: string[] } | { ok: false; error: TetherError };
export type GrantNormaliser = (record: unknown, ctx: GrantContext) => GrantResult;

/** As ingest-ai's `safely`, for normalisers of many events: a throw becomes a typed error result, never escapes. */
export function safelyMany(body: (record: Json, ctx: GrantContext) => { events: AccessEvent[]; skipped: string[] }): GrantNormaliser {
  return (record, ctx) => {
    const o = asObject(record);
    if (!o) return { ok: false, error: invalid(`${ctx.platform}/${ctx.feed}: record is not a JSON object`) };
    try {
      return { ok: true, ...body(o, ctx) };
    } catch (err) {
      if (TetherError.is(err)) return { ok: false, error: err };
      return { ok: false, error: tetherError('TETHER_NORMALISE_INVALID', `${ctx.platform}/${ctx.feed}: ${errorMessage(err)}`, { cause: err }) };
    }
  };
}
