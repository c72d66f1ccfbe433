// Resolves a reference to a person (a platform user id, an email) as of a
// time. A reference means whoever carried it when it was made (the anchor:
// when an account claimed its email, when a key's owner was recorded), or took
// it first after that, up to the event's time; so a reused email or a rename
// cannot move a key or an account to whoever holds that email today. The
// person's fields are always those of the version valid at the event's time.
import type { PersonVersion } from '#schemas';
import type { IdentityView } from '../store/identity-store.ts';
import { normaliseAlias } from '../store/normalise.ts';
import { CONFIDENCE, REASON, reason } from './policy.ts';

export type PersonVia = 'directory_alias' | 'account_email' | 'email' | 'platform_account';

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

export function resolvePersonRef(view: IdentityView, ref: PersonRef, t: number, anchor = t): Lookup<PersonMatch> {
  const reasons: string[] = [];
  const unknownRefs: string[] = [];
  const from = Math.min(anchor, t);
  const puid = ref.platformUserId;

  if (puid) {
    const held = holderBetween(view, 'platform_user_id', puid, from, t);
    if (held) return found(view, held, t, 'directory_alias', CONFIDENCE.directoryAlias, reasons, unknownRefs);
    for (const account of distinct([view.person(puid, from), view.person(puid, t)])) {
      if (account.record_kind === 'directory') {
        return found(view, { id: puid, candidates: 1 }, t, 'directory_alias', CONFIDENCE.directoryAlias, reasons, unknownRefs);
      }
      if (!account.email) continue;
      // The email links the account to whoever held it when the account claimed it.
      const claimed = runStart(view.personHistory(puid), account, (a, b) => sameEmail(a.email, b.email));
      const byEmail = holderBetween(view, 'email', account.email, Math.min(claimed, t), t);
      if (byEmail) return found(view, byEmail, t, 'account_email', CONFIDENCE.accountEmail, reasons, unknownRefs);
    }
  }

  if (ref.email) {
    const held = holderBetween(view, 'email', ref.email, from, t);
    if (held) return found(view, held, t, 'email', CONFIDENCE.email, reasons, unknownRefs);
    if (view.personIdsByAlias('email', ref.email).length === 0) {
      unknownRefs.push(`email:${normaliseAlias('email', ref.email)}`);
      reasons.push(reason(REASON.emailUnknown, ref.email));
    } else {
      reasons.push(reason(REASON.emailNotHeldAtEventTime, ref.email));
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

function found(
  view: IdentityView, held: Holder, t: number, via: PersonVia, confidence: number, reasons: string[], unknownRefs: string[],
): Lookup<PersonMatch> {
  const version = view.person(held.id, t)!;
  if (held.candidates > 1) {
    reasons.push(reason(REASON.ambiguousPerson, `${held.candidates} people matched; chose ${held.id}`));
    confidence *= CONFIDENCE.ambiguousFactor;
  }
  return { match: { version, via, confidence }, reasons, unknownRefs };
}

interface Holder {
  id: string;
  /** How many people tied for the match (same start, same rank). */
  candidates: number;
}

/**
 * The directory person who first carried the alias within [from, to]: the
 * reference was made at `from`, so whoever held the alias then (or took it
 * first afterwards, when the directory was imported later) is meant, not a
 * later holder of a reused email. At the same start, active people rank
 * before leavers, whose last version often keeps the email a joiner now
 * holds; among equals the most recent version wins and the match is
 * reported as ambiguous.
 */
export function holderBetween(view: IdentityView, kind: string, value: string, from: number, to: number): Holder | undefined {
  const wanted = normaliseAlias(kind, value);
  let best: { v: PersonVersion; start: number; rank: number } | undefined;
  let ties = 0;
  for (const id of view.personIdsByAlias(kind, value)) {
    const held = firstHeld(view.personHistory(id), kind, wanted, from, to);
    if (!held) continue;
    const rank = isActive(held.v) ? 1 : 0;
    const better = !best || held.start < best.start || (held.start === best.start && rank > best.rank);
    if (better) {
      best = { ...held, rank };
      ties = 1;
    } else if (held.start === best!.start && rank === best!.rank) {
      ties++;
      if (held.v.valid_from > best!.v.valid_from || (held.v.valid_from === best!.v.valid_from && held.v.person_id < best!.v.person_id)) {
        best = { ...held, rank };
      }
    }
  }
  return best ? { id: best.v.person_id, candidates: ties } : undefined;
}

/** The first directory version whose validity overlaps [from, to] and carries the alias, and from when within the window. */
function firstHeld(history: readonly PersonVersion[], kind: string, wanted: string, from: number, to: number) {
  for (let i = 0; i < history.length; i++) {
    const v = history[i]!;
    if (v.valid_from > to) break;
    const next = history[i + 1];
    if (next !== undefined && next.valid_from <= from) continue;
    if (v.record_kind === 'directory' && holdsAlias(v, kind, wanted)) return { v, start: Math.max(v.valid_from, from) };
  }
  return undefined;
}

function holdsAlias(v: PersonVersion, kind: string, normalised: string): boolean {
  if (kind === 'email' && v.email !== null && normaliseAlias('email', v.email) === normalised) return true;
  return v.aliases.some((a) => a.kind === kind && normaliseAlias(kind, a.value) === normalised);
}

function sameEmail(a: string | null, b: string | null): boolean {
  return (a === null ? null : normaliseAlias('email', a)) === (b === null ? null : normaliseAlias('email', b));
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
