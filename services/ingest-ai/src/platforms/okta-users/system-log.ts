// Okta System Log records (reference section 3.3) that change a user, as
// UserChanges: the lifecycle steps and profile updates. The log names the
// user as the `User` target (id, alternateId = login, displayName as of the
// event); profile values other than those are not in the log (debugData
// lists changed attribute names at most), so a profile update carries the
// login and display name it names and keeps the rest of the folded state.
// Failed attempts change nothing. Pure.
import { asObject, invalid, str, type Json } from '../../normalise/common.ts';
import { changeTime, type Lifecycle, type UserChange } from '../../identity-history.ts';

export const OKTA_PLATFORM = 'okta';
export const OKTA_USERS_FEED = 'system_log';

/** Lifecycle event types and the state each leaves (reference 6.1: DEPROVISIONED is a leaver, SUSPENDED reversible). */
export const OKTA_LIFECYCLE: Readonly<Record<string, Lifecycle>> = {
  'user.lifecycle.create': 'active',
  'user.lifecycle.activate': 'active',
  'user.lifecycle.reactivate': 'active',
  'user.lifecycle.unsuspend': 'active',
  'user.lifecycle.suspend': 'suspended',
  'user.lifecycle.deactivate': 'inactive',
  'user.lifecycle.delete.initiated': 'inactive',
  'user.lifecycle.delete.completed': 'inactive',
  'user.lifecycle.delete': 'inactive',
};

/** Profile changes: the state as it was, with the login and display name the event names. */
export const OKTA_PROFILE_EVENTS: ReadonlySet<string> = new Set(['user.account.update_profile', 'user.account.update_primary_email']);

/** The System Log filter for these event types (Okta filters support `sw` and `or`). */
export const OKTA_USERS_FILTER = 'eventType sw "user.lifecycle." or eventType eq "user.account.update_profile" or eventType eq "user.account.update_primary_email"';

const SUCCESS = new Set(['SUCCESS', 'ALLOW']);

export function oktaUserChange(o: Json): UserChange | null {
  const eventType = str(o.eventType);
  if (eventType === null) throw invalid('okta-users/system_log: eventType is missing');
  const lifecycle = Object.hasOwn(OKTA_LIFECYCLE, eventType) ? OKTA_LIFECYCLE[eventType] : undefined;
  if (lifecycle === undefined && !OKTA_PROFILE_EVENTS.has(eventType)) return null;
  const result = str(asObject(o.outcome)?.result)?.toUpperCase() ?? null;
  if (result !== null && !SUCCESS.has(result)) return null;
  const { at, text } = changeTime(o.published, 'okta-users/system_log: published');
  const targets = Array.isArray(o.target) ? o.target.map(asObject).filter((t): t is Json => t !== undefined) : [];
  // The changed user is the User target; a self-service change may name the user only as the actor.
  const actor = asObject(o.actor);
  const user = targets.find((t) => str(t.type)?.toLowerCase() === 'user') ?? (str(actor?.type)?.toLowerCase() === 'user' && OKTA_PROFILE_EVENTS.has(eventType) ? actor : undefined);
  const userId = str(user?.id);
  if (!user || userId === null) throw invalid(`okta-users/system_log: ${eventType} names no User target with an id`);
  const login = str(user.alternateId);
  // Okta sign-in names are usually addresses; "unknown" is what the log writes when it has none.
  const address = login !== null && login.includes('@') ? login : null;
  const set: UserChange['set'] = { displayName: str(user.displayName) ?? undefined };
  if (login !== null && login.toLowerCase() !== 'unknown') Object.assign(set, { login, email: address ?? undefined, upn: address ?? undefined });
  return { platform: OKTA_PLATFORM, feed: OKTA_USERS_FEED, userId, at, sourceTime: text, lifecycle, set };
}
