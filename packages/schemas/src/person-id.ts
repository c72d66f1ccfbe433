// The stable internal person id: one rule for every writer of directory
// versions (the SCIM service, the directory CSV import, the IdP change
// history sources), so a SCIM push, a CSV row and a history import of the same
// user land on one person, and a change of provisioning mode (CSV import, then
// SCIM push) never starts a new one.
//
// - The id is settled when a writer first sees the user and is never derived
//   again from changing attributes: a rename (new userName, new addresses)
//   keeps it.
// - A user is the person an earlier directory version named when it carries
//   the same externalId from the same platform, or the same employee number
//   (a re-provisioning, another app, a changed provisioning mode, a rehire);
//   writers that can see earlier versions pass them as `known`.
// - Else '<platform>:<externalId>' (the IdP's id for the user: the CSV's
//   external_id, SCIM's externalId, Okta's and Entra's user ids in their change
//   history), else '<platform>:id:<local id>' (a SCIM id, when no externalId).
// - An address or userName alone never joins two users: a reused address is a
//   new person, not the leaver who held it.
import type { PersonVersion } from './generated-types.ts';
import { normaliseExternalId } from './identity-keys.ts';

/** Alias kinds that carry an IdP's (or HR system's) id for the user, per platform. */
export const EXTERNAL_ID_ALIAS_KINDS: readonly string[] = ['external_id', 'scim_external_id'];
export const EMPLOYEE_NUMBER_ALIAS_KIND = 'employee_number';

export interface PersonKeys {
  /** The system of record's or IdP's id for the user (SCIM externalId, CSV external_id, Okta/Entra user id). */
  externalId: string | null;
  employeeNumber: string | null;
  /** The writer's own id for the record (a SCIM id), used only when there is no externalId. */
  localId?: string | null;
}

/** Who earlier directory versions named for a key. */
export interface KnownPeople {
  byExternalId(platform: string, externalId: string): string | undefined;
  byEmployeeNumber(employeeNumber: string): string | undefined;
}

/** A platform as it prefixes person ids: trimmed, lower-case. */
export function personIdPlatform(platform: string): string {
  return platform.trim().toLowerCase();
}

/** The person id for a user first seen with these keys (see above); null when there is neither an externalId nor a local id. */
export function stablePersonId(platform: string, keys: PersonKeys, known?: KnownPeople): string | null {
  const prefix = personIdPlatform(platform);
  const externalId = keys.externalId === null ? null : normaliseExternalId(keys.externalId);
  const employeeNumber = keys.employeeNumber === null ? null : normaliseExternalId(keys.employeeNumber);
  const seen = (externalId !== null ? known?.byExternalId(prefix, externalId) : undefined) ??
    (employeeNumber !== null ? known?.byEmployeeNumber(employeeNumber) : undefined);
  if (seen !== undefined) return seen;
  if (externalId !== null) return `${prefix}:${externalId}`;
  const local = keys.localId == null ? null : normaliseExternalId(keys.localId);
  return local === null ? null : `${prefix}:id:${local}`;
}

/**
 * The keys directory versions carried, for `known`: each version's platform
 * and external ids, and its employee number, to the person it names (the
 * latest version noted wins, so a rehire's number names the rehired person).
 */
export class KnownPeopleIndex implements KnownPeople {
  readonly #byExternalId = new Map<string, string>();
  readonly #byEmployeeNumber = new Map<string, string>();

  note(v: PersonVersion): void {
    if (v.record_kind !== 'directory') return;
    const platform = personIdPlatform(v.source.platform);
    for (const alias of v.aliases) {
      const value = normaliseExternalId(alias.value);
      if (value === null) continue;
      if (EXTERNAL_ID_ALIAS_KINDS.includes(alias.kind)) this.#byExternalId.set(`${platform}\u0000${value}`, v.person_id);
      else if (alias.kind === EMPLOYEE_NUMBER_ALIAS_KIND) this.#byEmployeeNumber.set(value, v.person_id);
    }
  }

  byExternalId(platform: string, externalId: string): string | undefined {
    const value = normaliseExternalId(externalId);
    return value === null ? undefined : this.#byExternalId.get(`${personIdPlatform(platform)}\u0000${value}`);
  }

  byEmployeeNumber(employeeNumber: string): string | undefined {
    const value = normaliseExternalId(employeeNumber);
    return value === null ? undefined : this.#byEmployeeNumber.get(value);
  }
}
