// The SCIM service's state: every User and Group it has served (deleted
// ones kept, marked), with the indexes uniqueness checks, person-id
// derivation and filters need. In memory; rebuilt at start from the
// versions the service wrote to the identity topics (see restore.ts).
// Changes are staged and committed only after Kafka acknowledged them.
import type { GroupMembership, KnownPeople, PersonVersion } from '#schemas';
import { KnownPeopleIndex, normaliseExternalId } from '#schemas';
import { isObject, type JsonObject } from './canonical.ts';
import { ENTERPRISE_SCHEMA } from './schema.ts';

export interface UserEntry {
  id: string;
  /** Canonical resource with id and meta (no location, no groups: those are rendered). */
  resource: JsonObject;
  personId: string;
  deleted: boolean;
  /** Bumped on every accepted change: the weak ETag. */
  version: number;
  /** valid_from of the latest version, epoch ms. */
  changedAt: number;
}

export interface GroupEntry {
  id: string;
  resource: JsonObject;
  deleted: boolean;
  version: number;
  changedAt: number;
}

export class Directory {
  readonly users = new Map<string, UserEntry>();
  readonly groups = new Map<string, GroupEntry>();
  readonly #liveUserNames = new Map<string, string>();
  readonly #liveExternalIds = new Map<string, string>();
  readonly #personByExternalId = new Map<string, string>();
  readonly #personByEmployeeNumber = new Map<string, string>();
  readonly #latestPerson = new Map<string, PersonVersion>();
  readonly #groupsOfUser = new Map<string, Set<string>>();
  /** Directory versions other writers made (a CSV import, an IdP history import), read at start: a new User may be one of their people. */
  readonly others: KnownPeopleIndex;

  constructor(others: KnownPeopleIndex = new KnownPeopleIndex()) {
    this.others = others;
  }

  /** Who a new User may already be: the service's own Users first, then other writers' people. */
  readonly known: KnownPeople = {
    byExternalId: (platform, externalId) => this.#personByExternalId.get(normaliseExternalId(externalId) ?? '') ?? this.others.byExternalId(platform, externalId),
    byEmployeeNumber: (n) => this.#personByEmployeeNumber.get(normaliseExternalId(n) ?? '') ?? this.others.byEmployeeNumber(n),
  };

  liveUser(id: string): UserEntry | undefined {
    const entry = this.users.get(id);
    return entry && !entry.deleted ? entry : undefined;
  }

  liveGroup(id: string): GroupEntry | undefined {
    const entry = this.groups.get(id);
    return entry && !entry.deleted ? entry : undefined;
  }

  /** The live User holding a userName (case-insensitive), if any. */
  userIdByUserName(userName: string): string | undefined {
    return this.#liveUserNames.get(userName.toLowerCase());
  }

  userIdByExternalId(externalId: string): string | undefined {
    const id = normaliseExternalId(externalId);
    return id === null ? undefined : this.#liveExternalIds.get(id);
  }

  personByExternalId(externalId: string): string | undefined {
    return this.#personByExternalId.get(externalId);
  }

  personByEmployeeNumber(employeeNumber: string): string | undefined {
    return this.#personByEmployeeNumber.get(employeeNumber);
  }

  latestPerson(personId: string): PersonVersion | undefined {
    return this.#latestPerson.get(personId);
  }

  /** The live groups a User is a member of, as memberships (id and name). */
  membershipsOf(userId: string): GroupMembership[] {
    const ids = this.#groupsOfUser.get(userId) ?? new Set<string>();
    return [...ids].flatMap((gid) => {
      const g = this.liveGroup(gid);
      return g ? [{ group_id: gid, display_name: typeof g.resource.displayName === 'string' ? g.resource.displayName : null }] : [];
    });
  }

  groupIdsOf(userId: string): ReadonlySet<string> {
    return this.#groupsOfUser.get(userId) ?? new Set();
  }

  putUser(entry: UserEntry): void {
    const before = this.users.get(entry.id);
    if (before && !before.deleted) {
      this.#liveUserNames.delete(String(before.resource.userName).toLowerCase());
      const ext = externalIdOf(before.resource);
      if (ext !== null && this.#liveExternalIds.get(ext) === before.id) this.#liveExternalIds.delete(ext);
    }
    this.users.set(entry.id, entry);
    const ext = externalIdOf(entry.resource);
    if (ext !== null) this.#personByExternalId.set(ext, entry.personId);
    const employeeNumber = employeeNumberOf(entry.resource);
    if (employeeNumber !== null) this.#personByEmployeeNumber.set(employeeNumber, entry.personId);
    if (!entry.deleted) {
      this.#liveUserNames.set(String(entry.resource.userName).toLowerCase(), entry.id);
      if (ext !== null) this.#liveExternalIds.set(ext, entry.id);
    }
  }

  putGroup(entry: GroupEntry): void {
    const before = this.groups.get(entry.id);
    if (before) for (const member of memberIds(before.resource)) this.#groupsOfUser.get(member)?.delete(entry.id);
    this.groups.set(entry.id, entry);
    if (!entry.deleted) {
      for (const member of memberIds(entry.resource)) {
        let set = this.#groupsOfUser.get(member);
        if (!set) this.#groupsOfUser.set(member, (set = new Set()));
        set.add(entry.id);
      }
    }
  }

  /** Remembers a person's latest version (history for the next one: former addresses, earlier SCIM ids). */
  notePerson(version: PersonVersion): void {
    const had = this.#latestPerson.get(version.person_id);
    if (!had || had.valid_from <= version.valid_from) this.#latestPerson.set(version.person_id, version);
  }

  counts(): { users: number; liveUsers: number; groups: number; liveGroups: number } {
    let liveUsers = 0;
    let liveGroups = 0;
    for (const u of this.users.values()) if (!u.deleted) liveUsers++;
    for (const g of this.groups.values()) if (!g.deleted) liveGroups++;
    return { users: this.users.size, liveUsers, groups: this.groups.size, liveGroups };
  }
}

export function memberIds(resource: JsonObject): string[] {
  const members = Array.isArray(resource.members) ? resource.members : [];
  return members.flatMap((m) => (isObject(m) && typeof m.value === 'string' ? [m.value] : []));
}

export function externalIdOf(resource: JsonObject): string | null {
  return typeof resource.externalId === 'string' ? normaliseExternalId(resource.externalId) : null;
}

export function employeeNumberOf(resource: JsonObject): string | null {
  const ext = resource[ENTERPRISE_SCHEMA];
  const n = isObject(ext) ? ext.employeeNumber : undefined;
  return typeof n === 'string' ? normaliseExternalId(n) : null;
}
