// Resolves a reference to a person (a platform user id, an email) as of a
// time. A reference means whoever carried it when it was made (the anchor:
// when an account claimed its email, when a key's owner was recorded), or took
// it first after that, up to the event's time; so a reused email or a rename
// cannot move a key or an account to whoever holds that email today. When
// nobody held an address then, whoever held it last before is named, with
// less confidence and a reason (a rename the platform has not caught up with).
// When nobody had held it yet, its first holder, if their record appears within
// the provisioning lag after the event, is named, with less confidence and a
// reason (a joiner using AI tools before the directory caught up).
// The person's fields are always those of the version valid at the event's time.
import { aliasMatchKey, emailMatchKey, type PersonVersion } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { nonBlank } from '../store/normalise.ts';
import { CONFIDENCE, REASON, quote, reason } from './policy.ts';

export type PersonVia = 'directory_alias' | 'account_email' | 'email' | 'platform_account' | 'device_user';

export interface PersonMatch {
  /** The person's version as of the event's time. */
  version: PersonVersion;
  via: PersonVia;
  confidence: number;
}

export interface PersonRef {
  /** '<platform>:<user id>'. */
  platformUserId: string | null;
  email: string | null;
}

export interface Lookup<T> {
  match: T | undefined;
  reasons: string[];
  /** References no identity record names at all: the event may wait for them. */
  unknownRefs: string[];
}

export function isActive(v: { active: boolean; lifecycle_state?: string }): boolean {
  return v.active && v.lifecycle_state !== 'inactive' && v.lifecycle_state !== 'suspended';
}

/** lifecycle_state as of the version, never 'active' on a version that records a leaver. */
export function lifecycleOf(v: PersonVersion): string {
  const state = v.lifecycle_state.trim() === '' ? 'unknown' : v.lifecycle_state;
  return !v.active && state === 'active' ? 'inactive' : state;
}

/** Why an NHI or grant whose owner was no longer active at the event is orphaned (reference section 7), if it is. */
export function ownerInactive(nhiId: string, owner: PersonMatch): string | undefined {
  if (owner.via === 'platform_account' || isActive(owner.version)) return undefined;
  return reason(REASON.nhiOwnerInactive, `${nhiId} owner ${owner.version.person_id} is ${lifecycleOf(owner.version)}`);
}

/**
 * `lagMs`: how long after `t` an address's first holder may appear and still be
 * named (the provisioning lag, ResolveRules); 0 for references whose holder must
 * be known by the event (owners of keys and grants).
 */
export function resolvePersonRef(view: IdentityView, ref: PersonRef, t: number, anchor = t, lagMs = 0): Lookup<PersonMatch> {
  const reasons: string[] = [];
  const unknownRefs: string[] = [];
  const from = Math.min(anchor, t);
  const puid = nonBlank(ref.platformUserId);
  const email = nonBlank(ref.email);
  const accounts = puid ? distinct([view.person(puid, from), view.person(puid, t)]) : [];

  if (puid) {
    const held = holderBetween(view, 'platform_user_id', puid, from, t);
    if (held) return found(view, held, t, 'directory_alias', CONFIDENCE.directoryAlias, reasons, unknownRefs);
    for (const account of accounts) {
      if (account.record_kind === 'directory') {
        return found(view, { id: puid, start: t }, t, 'directory_alias', CONFIDENCE.directoryAlias, reasons, unknownRefs);
      }
      const claim = accountClaim(view, puid, account, t);
      const byEmail = claim && addressHolder(view, claim.email, claim.from, t);
      if (byEmail) return found(view, byEmail, t, 'account_email', CONFIDENCE.accountEmail, reasons, unknownRefs);
    }
  }

  if (email) {
    const held = addressHolder(view, email, from, t);
    if (held) return found(view, held, t, 'email', CONFIDENCE.email, reasons, unknownRefs);
  }

  // Nobody held the address from the reference on. Its last holder before is
  // the best lead: renamed people keep their old address on the platforms for
  // a while, and a leaver's record may drop it. Were the address reused, its
  // new holder would have matched above; exact matches always come first.
  for (const account of accounts) {
    const claim = accountClaim(view, puid!, account, t);
    const former = claim && formerHolder(view, claim.email, claim.from);
    if (former) return formerMatch(view, former, t, 'account_email', reasons, unknownRefs);
  }
  if (email) {
    const former = formerHolder(view, email, from);
    if (former) return formerMatch(view, former, t, 'email', reasons, unknownRefs);
  }

  // Nobody had ever held the address by the event (no holder from the reference on,
  // none before): a joiner whose directory record came after their first events.
  if (lagMs > 0) {
    for (const account of accounts) {
      const claim = accountClaim(view, puid!, account, t);
      const joiner = claim && addressHolder(view, claim.email, t, t + lagMs);
      if (joiner) return lagMatch(view, joiner, claim.email, t, 'account_email', CONFIDENCE.provisioningLag, reasons, unknownRefs);
    }
    const joiner = email && addressHolder(view, email, t, t + lagMs);
    if (joiner) return lagMatch(view, joiner, email!, t, 'email', CONFIDENCE.provisioningLag, reasons, unknownRefs);
  }

  if (email) {
    if (!knownAddress(view, email)) {
      // Text that is no address can never be named: nothing to wait for.
      const key = emailMatchKey(email);
      if (key !== null) unknownRefs.push(`email:${key}`);
      reasons.push(reason(REASON.emailUnknown, email.trim()));
    } else {
      reasons.push(reason(REASON.emailNotHeldAtEventTime, email.trim()));
    }
  }

  if (puid) {
    const account = view.person(puid, t);
    if (account) {
      reasons.push(reason(REASON.noDirectoryPerson, puid));
      return { match: { version: account, via: 'platform_account', confidence: CONFIDENCE.platformAccount }, reasons, unknownRefs };
    }
    if (view.personHistory(puid).length === 0 && view.personIdsByAlias('platform_user_id', puid).length === 0) {
      unknownRefs.push(`platform_user:${puid}`);
      reasons.push(reason(REASON.platformUserUnknown, puid));
    } else {
      reasons.push(reason(REASON.platformUserNotYetKnown, puid));
    }
  }
  return { match: undefined, reasons, unknownRefs };
}

/** The directory person an address named at `t` (its holder then), for cross-checks; no fallback to former holders. */
export function addressHolderAt(view: IdentityView, address: string, t: number): string | undefined {
  return addressHolder(view, address, t, t)?.id;
}

/**
 * The directory person an address names for a reference made at `from` and
 * read at `t`: its holder in between, else its last holder before. For
 * references carried without a confidence of their own (a device's assignee).
 */
export function addressPersonId(view: IdentityView, address: string | null, from: number, t: number): string | null {
  if (nonBlank(address) === null) return null;
  return addressHolder(view, address!, from, t)?.id ?? formerHolder(view, address!, from)?.id ?? null;
}

/** Whether the version carries the address (by its match key) as its email, an email alias or its UPN. */
export function carriesAddress(v: PersonVersion, address: string): boolean {
  return ADDRESS_KINDS.some((kind) => {
    const key = aliasMatchKey(kind, address);
    return key !== null && holdsAlias(v, kind, key);
  });
}

/** `t`: the time whose version is reported (the event's; a joiner's first version for a provisioning-lag match). */
function found(
  view: IdentityView, held: Holder, t: number, via: PersonVia, confidence: number, reasons: string[], unknownRefs: string[],
): Lookup<PersonMatch> {
  const version = view.person(held.id, t)!;
  if (held.tie) {
    reasons.push(reason(REASON.ambiguousPerson, describeTie(held.id, held.tie)));
    confidence *= CONFIDENCE.ambiguousFactor;
  }
  return { match: { version, via, confidence }, reasons, unknownRefs };
}

/** The first holder of an address nobody held at `t`, whose record starts later: their first version, and how much later. */
function lagMatch(
  view: IdentityView, held: Holder, address: string, t: number, via: PersonVia, confidence: number, reasons: string[], unknownRefs: string[],
): Lookup<PersonMatch> {
  const hours = Math.round((held.start - t) / 360_000) / 10;
  reasons.push(reason(REASON.provisioningLag, `${quote(address.trim())} first held by ${held.id} from ${new Date(held.start).toISOString()}, ${hours} h after the event`));
  return found(view, held, held.start, via, confidence, reasons, unknownRefs);
}

function formerMatch(view: IdentityView, former: Former, t: number, via: PersonVia, reasons: string[], unknownRefs: string[]): Lookup<PersonMatch> {
  reasons.push(reason(REASON.emailFormerlyHeld, `${quote(former.value)} last held by ${former.id} until ${new Date(former.until).toISOString()}`));
  return { match: { version: view.person(former.id, t)!, via, confidence: CONFIDENCE.formerEmail }, reasons, unknownRefs };
}

function describeTie(id: string, tie: Tie): string {
  const shown = tie.ids.slice(0, 5).join(', ') + (tie.ids.length > 5 ? ', …' : '');
  const who = tie.active ? 'active people' : 'people';
  const since = tie.active ? `, its holder since ${new Date(tie.since).toISOString()}` : '';
  return `${quote(tie.value)} held by ${tie.ids.length} ${who} (${shown}); chose ${id}${since}`;
}

interface Holder {
  id: string;
  /** When, within the window asked, they first held the alias. */
  start: number;
  /** Set when the match is ambiguous: everyone tied for it (the chosen one included, in id order), and the address. */
  tie?: Tie;
}

interface Tie {
  ids: readonly string[];
  /** The alias as matched (its match key). */
  value: string;
  /** Whether the tied holders were active when the match was made. */
  active: boolean;
  /** Active: since when the chosen holder held the alias unbroken. */
  since: number;
}

/** Address aliases in the order they are tried: a UPN is a sign-in name, often the address events carry. */
const ADDRESS_KINDS = ['email', 'upn'] as const;

function addressHolder(view: IdentityView, address: string, from: number, to: number): Holder | undefined {
  for (const kind of ADDRESS_KINDS) {
    const held = holderBetween(view, kind, address, from, to);
    if (held) return held;
  }
  return undefined;
}

function knownAddress(view: IdentityView, address: string): boolean {
  return ADDRESS_KINDS.some((kind) => view.personIdsByAlias(kind, address).length > 0);
}

/** When a platform account claimed its current email: its run of versions with that email. */
function accountClaim(view: IdentityView, puid: string, account: PersonVersion, t: number): { email: string; from: number } | undefined {
  const email = nonBlank(account.email);
  if (email === null) return undefined;
  const claimed = runStart(view.personHistory(puid), account, (a, b) => sameEmail(a.email, b.email));
  return { email, from: Math.min(claimed, t) };
}

/** How a person held an alias within a window. */
interface Claim {
  id: string;
  /** When, within the window, they first held it. */
  start: number;
  history: readonly PersonVersion[];
  /** Index in history of the version they first held it with. */
  at: number;
  /** Settled only when claims compete (most aliases have one holder): see settle(). */
  rank?: 0 | 1 | 2;
  since?: number;
}

/**
 * The directory person who first carried the alias within [from, to]: the
 * reference was made at `from`, so whoever held it then (or took it first
 * afterwards, when the directory was imported later) is meant, not a later
 * holder of a reused email. At the same start:
 * - active people rank before leavers, whose last version often keeps the
 *   address a joiner now holds;
 * - two active people holding one address is a collision (a duplicate import,
 *   a hostile record): never picked silently. It is reported as ambiguous with
 *   everyone involved, and the incumbent (holder the longest) is chosen: a
 *   newcomer claiming a live address is the suspect record;
 * - among leavers, the one who held it last while active is meant, and that is
 *   not ambiguous (the others' records merely kept the address).
 * Equal claims are ordered by id, so the answer never depends on arrival order.
 */
function holderBetween(view: IdentityView, kind: string, value: string, from: number, to: number): Holder | undefined {
  const wanted = aliasMatchKey(kind, value);
  if (wanted === null) return undefined;
  let best: Claim | undefined;
  let all: Claim[] | undefined;
  for (const id of view.personIdsByAlias(kind, wanted)) {
    const claim = claimOf(view.personHistory(id), kind, wanted, from, to);
    if (!claim) continue;
    if (best === undefined) {
      best = claim;
      continue;
    }
    (all ??= [best]).push(claim);
    if (precedes(claim, best, kind, wanted)) best = claim;
  }
  if (best === undefined) return undefined;
  if (!all) return { id: best.id, start: best.start };
  const winner = best;
  const ids = all.filter((c) => tiesWith(c, winner, kind, wanted)).map((c) => c.id).sort();
  if (ids.length === 1) return { id: winner.id, start: winner.start };
  const { rank, since } = settle(winner, kind, wanted);
  return { id: winner.id, start: winner.start, tie: { ids, value: wanted, active: rank === 2, since } };
}

/**
 * Who held a reference made at the window's start: someone active then
 * before anyone else; failing that, whoever first held it while active in the
 * window (a leaver cannot have made it; the directory may date the new
 * holder late); only then a leaver whose record kept it. The owner views in
 * ClickHouse (0006, owner_holders) rank the same way.
 */
function precedes(a: Claim, b: Claim, kind: string, wanted: string): boolean {
  const x = settle(a, kind, wanted);
  const y = settle(b, kind, wanted);
  if ((x.rank === 2) !== (y.rank === 2)) return x.rank === 2;
  if (a.start !== b.start) return a.start < b.start;
  if (x.rank !== y.rank) return x.rank > y.rank;
  if (x.since !== y.since) return x.rank === 2 ? x.since < y.since : x.since > y.since;
  return a.id < b.id;
}

function tiesWith(a: Claim, winner: Claim, kind: string, wanted: string): boolean {
  if (a.start !== winner.start) return false;
  const x = settle(a, kind, wanted);
  const y = settle(winner, kind, wanted);
  return x.rank === y.rank && (x.rank !== 1 || x.since === y.since);
}

/**
 * Rank 2: active when the claim starts; since = start of their unbroken active
 * run carrying the alias. Rank 1: a leaver who carried it while active before;
 * since = when that ended. Rank 0: never an active holder.
 */
function settle(c: Claim, kind: string, wanted: string): { rank: 0 | 1 | 2; since: number } {
  if (c.rank !== undefined && c.since !== undefined) return { rank: c.rank, since: c.since };
  const { history, at } = c;
  const carriedActively = (j: number) => j >= 0 && isActive(history[j]!) && holdsAlias(history[j]!, kind, wanted);
  let rank: 0 | 1 | 2 = 0;
  let since = history[at]!.valid_from;
  if (isActive(history[at]!)) {
    let j = at;
    while (carriedActively(j - 1)) j--;
    rank = 2;
    since = history[j]!.valid_from;
  } else {
    for (let j = at - 1; j >= 0; j--) {
      if (!carriedActively(j)) continue;
      rank = 1;
      since = history[j + 1]!.valid_from;
      break;
    }
  }
  c.rank = rank;
  c.since = since;
  return { rank, since };
}

/** The first directory version overlapping [from, to] that carries the alias, and from when within the window. */
function claimOf(history: readonly PersonVersion[], kind: string, wanted: string, from: number, to: number): Claim | undefined {
  for (let i = 0; i < history.length; i++) {
    const v = history[i]!;
    if (v.valid_from > to) break;
    const next = history[i + 1];
    if (next !== undefined && next.valid_from <= from) continue;
    if (v.record_kind === 'directory' && holdsAlias(v, kind, wanted)) {
      return { id: v.person_id, start: Math.max(v.valid_from, from), history, at: i };
    }
  }
  return undefined;
}

interface Former {
  id: string;
  value: string;
  /** When they stopped carrying it. */
  until: number;
}

/** The directory person who carried the address (as email or UPN) last before `before`, when nobody carries it then. */
function formerHolder(view: IdentityView, address: string, before: number): Former | undefined {
  let best: Former | undefined;
  for (const kind of ADDRESS_KINDS) {
    const wanted = aliasMatchKey(kind, address);
    if (wanted === null) return undefined;
    for (const id of view.personIdsByAlias(kind, wanted)) {
      const until = heldUntil(view.personHistory(id), kind, wanted, before);
      if (until === undefined) continue;
      if (!best || until > best.until || (until === best.until && id < best.id)) best = { id, value: wanted, until };
    }
  }
  return best;
}

/** When the person stopped carrying the alias, if they carried it and stopped by `before`. */
function heldUntil(history: readonly PersonVersion[], kind: string, wanted: string, before: number): number | undefined {
  let until: number | undefined;
  for (let i = 0; i < history.length; i++) {
    const end = history[i + 1]?.valid_from;
    // The version valid at `before` is not former: it either carries the alias (a holder) or ends the search.
    if (end === undefined || end > before) break;
    const v = history[i]!;
    if (v.record_kind === 'directory' && holdsAlias(v, kind, wanted)) until = end;
  }
  return until;
}

/** Whether the version carries an alias of the kind whose match key is `key` (a key is its own key: most values are written normalised). */
function holdsAlias(v: PersonVersion, kind: string, key: string): boolean {
  if (kind === 'email' && v.email !== null && (v.email === key || aliasMatchKey('email', v.email) === key)) return true;
  return v.aliases.some((a) => a.kind === kind && (a.value === key || aliasMatchKey(kind, a.value) === key));
}

/** One mailbox: the same match key (plus tags aside), or both without an address. */
function sameEmail(a: string | null, b: string | null): boolean {
  return (a === null ? null : emailMatchKey(a)) === (b === null ? null : emailMatchKey(b));
}

function distinct<T>(items: readonly (T | undefined)[]): T[] {
  const out: T[] = [];
  for (const item of items) if (item !== undefined && !out.includes(item)) out.push(item);
  return out;
}

/** valid_from of the oldest version in the unbroken run of versions `same` as `version`. */
export function runStart<V extends { valid_from: number }>(history: readonly V[], version: V, same: (a: V, b: V) => boolean): number {
  let at = history.indexOf(version);
  if (at < 0) return version.valid_from;
  while (at > 0 && same(history[at - 1]!, version)) at--;
  return history[at]!.valid_from;
}
