// An IdP's own change history (Okta System Log user.lifecycle.* and profile
// updates, Entra directoryAudits user changes) as PersonVersions valid from
// when each change happened. A log record is a change, not a state: it says
// what changed (a lifecycle step, the new values of some properties) and who
// the user was then (their id, sign-in name and display name, as the log
// names its target). A version is a whole state, so changes are folded per
// user in the order they happened: each version is the previous state the
// feed saw for that user, with the change applied. A change older than the
// state held is applied to nothing (a file exported newest first still gives
// each record's own facts, never a later state's).
//
// The person id follows the rule every directory writer shares (#schemas
// stablePersonId): '<platform>:<the IdP's user id>', the id a SCIM push of
// the same user gets when its externalId is that id, and the versions carry
// the IdP's id as an `external_id` alias, so a SCIM service started later
// joins them (services/scim restore) whatever its externalId mapping, and
// the employee number, when the log says it, joins the rest.
import { normaliseEmail, normaliseExternalId, normaliseLogin, normaliseUpn, stablePersonId, versionKey, type IdentityAlias, type PersonVersion } from '#schemas';
import { TetherError } from '#errors';
import { parseRfc3339, type OutRecord, type RecordNormaliser } from '#source';
import { asObject, invalid, type Json } from './normalise/common.ts';

export type Lifecycle = 'active' | 'suspended' | 'inactive';

/** Properties a change may set; null clears one, absent leaves it as it was. */
export interface UserFields {
  email?: string | null;
  upn?: string | null;
  login?: string | null;
  displayName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  department?: string | null;
  title?: string | null;
  employeeNumber?: string | null;
  /** The manager's id at the same IdP. */
  managerId?: string | null;
}

export interface UserChange {
  /** The IdP (`okta`, `entra`): the person id's prefix and the versions' source.platform. */
  platform: string;
  feed: string;
  userId: string;
  at: number;
  sourceTime: string;
  /** The new lifecycle state, when the change is a lifecycle step. */
  lifecycle?: Lifecycle;
  set: UserFields;
}

interface UserState {
  at: number;
  lifecycle: Lifecycle;
  fields: UserFields;
  /** Addresses held in earlier versions and no longer: kept as former_* aliases (history only). */
  former: IdentityAlias[];
}

/** The per-user state a feed has folded so far (in memory: a feed run, an import). */
export class UserHistory {
  readonly #states = new Map<string, UserState>();

  /** The version a change states, and the state it leaves. */
  apply(change: UserChange, observedAt: number): PersonVersion {
    const key = `${change.platform}\u0000${change.userId}`;
    const held = this.#states.get(key);
    // An older change does not continue a later state: it stands on its own facts.
    const previous = held && held.at <= change.at ? held : undefined;
    const state = nextState(previous, change);
    if (!held || held.at <= change.at) this.#states.set(key, state);
    return versionOf(change, state, observedAt);
  }
}

function nextState(previous: UserState | undefined, change: UserChange): UserState {
  const fields: UserFields = { ...previous?.fields };
  for (const [name, value] of Object.entries(change.set) as [keyof UserFields, string | null | undefined][]) {
    if (value !== undefined) fields[name] = value;
  }
  const former = [...(previous?.former ?? [])];
  if (previous) {
    for (const [kind, before, now] of [['former_email', previous.fields.email, fields.email], ['former_upn', previous.fields.upn, fields.upn]] as const) {
      if (before && before !== now && !former.some((a) => a.kind === kind && a.value === before)) former.push({ kind, value: before });
    }
  }
  return { at: change.at, lifecycle: change.lifecycle ?? previous?.lifecycle ?? 'active', fields, former };
}

function versionOf(change: UserChange, state: UserState, observedAt: number): PersonVersion {
  const f = state.fields;
  const email = f.email ? normaliseEmail(f.email) : null;
  const upn = f.upn ? normaliseUpn(f.upn) : null;
  const login = f.login ? normaliseLogin(f.login) : null;
  const employeeNumber = f.employeeNumber ? normaliseExternalId(f.employeeNumber) : null;
  const aliases: IdentityAlias[] = [];
  const add = (kind: string, value: string | null) => {
    if (value !== null && !aliases.some((a) => a.kind === kind && a.value === value)) aliases.push({ kind, value });
  };
  add('email', email);
  add('upn', upn);
  if (login !== null && login !== email && login !== upn) add('user_name', login);
  add('external_id', normaliseExternalId(change.userId));
  add('employee_number', employeeNumber);
  const current = new Set([email, upn].filter((v): v is string => v !== null));
  for (const a of state.former) if (!current.has(a.value)) add(a.kind, a.value);

  const active = state.lifecycle === 'active';
  const display = f.displayName ?? ([f.givenName, f.familyName].filter(Boolean).join(' ') || null);
  return {
    person_id: stablePersonId(change.platform, { externalId: change.userId, employeeNumber: null })!,
    record_kind: 'directory',
    valid_from: change.at,
    source: { platform: change.platform, feed: change.feed, source_time: change.sourceTime, observed_at: observedAt },
    active,
    lifecycle_state: state.lifecycle,
    email: email ?? (upn !== null ? normaliseEmail(upn) : null),
    display_name: display,
    department: f.department ?? null,
    title: f.title ?? null,
    manager_person_id: f.managerId ? stablePersonId(change.platform, { externalId: f.managerId, employeeNumber: null }) : null,
    aliases,
    platform_role: null,
    groups: null,
    directory_record: null,
  };
}

export function personRecord(v: PersonVersion): OutRecord {
  return { role: 'identityUsers', key: versionKey(v.person_id, v.valid_from), value: v };
}

/**
 * A feed's normaliser: one log record to the version its change states
 * (none for a record that is no user change, or a failed one), folded
 * through `history`. `changeOf` throws a TetherError for a malformed record.
 */
export function historyNormaliser(history: UserHistory, changeOf: (record: Json) => UserChange | null): RecordNormaliser {
  return (record, ctx) => {
    const o = asObject(record);
    if (!o) return { ok: false, error: invalid(`${ctx.platform}/${ctx.feed}: record is not a JSON object`) };
    try {
      const change = changeOf(o);
      return { ok: true, records: change === null ? [] : [personRecord(history.apply(change, ctx.ingestedAt))] };
    } catch (err) {
      if (TetherError.is(err)) return { ok: false, error: err };
      return { ok: false, error: invalid(`${ctx.platform}/${ctx.feed}: ${(err as Error)?.message ?? String(err)}`) };
    }
  };
}

/** An RFC 3339 time as epoch ms and the text it was given as; a TetherError when it is not one. */
export function changeTime(value: unknown, what: string): { at: number; text: string } {
  if (typeof value !== 'string') throw invalid(`${what} is missing`);
  const parsed = parseRfc3339(value);
  if (!parsed.ok) throw invalid(`${what} ${parsed.reason}`);
  return { at: parsed.ms, text: value };
}
