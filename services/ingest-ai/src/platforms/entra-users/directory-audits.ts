// Microsoft Graph directoryAudits records of category UserManagement
// (reference sections 2.2, 2.4, 6.2) that change a user, as UserChanges:
// Add user, Update user (modifiedProperties with old and new values, each a
// JSON-encoded string such as "[\"Finance\"]" or "[false]": parsed once),
// Disable/Enable account, Delete user, Hard delete user, Restore user. Keys
// are read case-insensitively (Microsoft's own example spells `Type`);
// properties are found by name, never by index. Failed operations change
// nothing. A deleted user's UPN in the log is prefixed with its object id,
// so a delete keeps the addresses the user held. Pure.
import { asObject, invalid, str, type Json } from '../../normalise/common.ts';
import { changeTime, type Lifecycle, type UserChange, type UserFields } from '../../identity-history.ts';

export const ENTRA_PLATFORM = 'entra';
export const ENTRA_USERS_FEED = 'directory_audits';
export const ENTRA_USERS_CATEGORY = 'UserManagement';

/** Activities that change a user, and the lifecycle state each leaves (undefined: unchanged unless AccountEnabled says). */
export const ENTRA_USER_ACTIVITIES: ReadonlyMap<string, Lifecycle | undefined> = new Map<string, Lifecycle | undefined>([
  ['add user', 'active'],
  ['update user', undefined],
  ['enable account', 'active'],
  ['disable account', 'inactive'],
  ['delete user', 'inactive'],
  ['hard delete user', 'inactive'],
  ['restore user', 'active'],
]);

const DELETES = new Set(['delete user', 'hard delete user']);

/** modifiedProperties names (lower-case) to the field they set. */
const PROPERTIES: Readonly<Record<string, keyof UserFields>> = {
  displayname: 'displayName',
  givenname: 'givenName',
  surname: 'familyName',
  department: 'department',
  jobtitle: 'title',
  userprincipalname: 'upn',
  mail: 'email',
  employeeid: 'employeeNumber',
};

export function entraUserChange(o: Json): UserChange | null {
  const activity = str(field(o, 'activityDisplayName'))?.trim().toLowerCase() ?? null;
  if (activity === null) throw invalid('entra-users/directory_audits: activityDisplayName is missing');
  if (!ENTRA_USER_ACTIVITIES.has(activity)) return null;
  const category = str(field(o, 'category'));
  if (category !== null && category.toLowerCase() !== ENTRA_USERS_CATEGORY.toLowerCase()) return null;
  if (str(field(o, 'result'))?.toLowerCase() !== 'success') return null;
  const { at, text } = changeTime(field(o, 'activityDateTime'), 'entra-users/directory_audits: activityDateTime');

  const targets = Array.isArray(field(o, 'targetResources')) ? (field(o, 'targetResources') as unknown[]).map(asObject).filter((t): t is Json => t !== undefined) : [];
  const user = targets.find((t) => str(field(t, 'type'))?.toLowerCase() === 'user');
  const userId = str(user ? field(user, 'id') : undefined);
  if (!user || userId === null) throw invalid(`entra-users/directory_audits: ${activity} names no User target with an id`);

  let lifecycle = ENTRA_USER_ACTIVITIES.get(activity);
  const set: UserFields = {};
  if (!DELETES.has(activity)) {
    const upn = str(field(user, 'userPrincipalName'));
    if (upn !== null) set.upn = upn;
  }
  const modified = Array.isArray(field(user, 'modifiedProperties')) ? (field(user, 'modifiedProperties') as unknown[]).map(asObject) : [];
  for (const p of modified) {
    const name = str(p ? field(p, 'displayName') : undefined)?.trim().toLowerCase();
    if (!p || name === undefined) continue;
    const value = decoded(field(p, 'newValue'));
    if (value === undefined) continue;
    if (name === 'accountenabled') {
      // A delete is a leaver whatever else the record says.
      if (!DELETES.has(activity) && typeof value === 'boolean') lifecycle = value ? 'active' : 'inactive';
      continue;
    }
    const target = PROPERTIES[name];
    if (target === undefined || (DELETES.has(activity) && (target === 'upn' || target === 'email'))) continue;
    const textValue = typeof value === 'boolean' ? (value ? 'True' : 'False') : value;
    set[target] = textValue !== null && textValue.trim() !== '' ? textValue.trim() : null;
  }
  if (set.displayName === undefined) {
    const display = str(field(user, 'displayName'));
    if (display !== null) set.displayName = display;
  }
  return { platform: ENTRA_PLATFORM, feed: ENTRA_USERS_FEED, userId, at, sourceTime: text, lifecycle, set };
}

/**
 * A modifiedProperties value: JSON text of a one-element array (`["Finance"]`,
 * `[false]`), of a string (`"\"True\""`), or plain text. Booleans also as the
 * strings "True"/"False". Undefined when absent; null when cleared (`[]`).
 */
export function decoded(raw: unknown): string | boolean | null | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') return undefined;
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // Plain text: taken as it is.
  }
  if (Array.isArray(value)) value = value.length === 0 ? null : value[0];
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A member by name, any case. */
function field(o: Json, name: string): unknown {
  if (Object.hasOwn(o, name)) return o[name];
  const lower = name.toLowerCase();
  const key = Object.keys(o).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : o[key];
}
