// A SCIM User (canonical, as Tether holds it) to the PersonVersion it
// states from the time of a change, and how a new User finds its person.
// Pure.
//
// The person id is settled when a User is first seen and then never
// changes: a rename (new userName, new addresses) keeps it because it is
// stored with the resource, not derived from its attributes. How a new User
// finds its person is the rule every directory writer shares (#schemas
// stablePersonId): the person of an earlier directory version with the same
// externalId (same platform) or employee number, the SCIM service's own
// Users first, then other writers' (a CSV import, an IdP history import: a
// changed provisioning mode); else '<platform>:<externalId>', else
// '<platform>:id:<SCIM id>'.
//
// Aliases keep the history: every SCIM id and externalId the person had
// (and the vendor ids other writers recorded for them), their employee number, current addresses as email/upn, and addresses
// held in earlier versions as former_email/former_upn (history only: the
// enricher matches current addresses, so a reused address names its new
// holder).
import type { GroupMembership, IdentityAlias, PersonVersion } from '#schemas';
import { normaliseEmail, normaliseExternalId, normaliseUpn, stablePersonId, type KnownPeople } from '#schemas';
import { isObject, type Json, type JsonObject } from './canonical.ts';
import { ENTERPRISE_SCHEMA } from './schema.ts';

export const FEED = 'scim';

export interface PersonContext {
  personId: string;
  validFrom: number;
  /** The change time as the request (or the recorded call) gave it. */
  sourceTime: string;
  observedAt: number;
  platform: string;
  deleted: boolean;
  groups: GroupMembership[];
  managerPersonId: string | null;
  /** The person's latest version before this change (maybe of another User: a re-provisioning). */
  previous: PersonVersion | undefined;
}

/** What a directory_record carries for SCIM. */
export interface DirectoryRecord {
  resource: JsonObject;
  deleted: boolean;
}

/** Ids that stay identifiers of the person once carried: SCIM ids and externalIds, and vendor ids other writers recorded. */
const HISTORY_ID_KINDS: ReadonlySet<string> = new Set(['scim_id', 'scim_external_id', 'external_id']);

export function personVersion(resource: JsonObject, ctx: PersonContext): PersonVersion {
  const active = resource.active !== false && !ctx.deleted;
  const emails = addresses(resource);
  const email = primaryEmail(resource) ?? emails[0] ?? null;
  const userName = typeof resource.userName === 'string' ? resource.userName : '';
  const upn = userName.includes('@') ? normaliseUpn(userName) : null;
  const enterprise = isObject(resource[ENTERPRISE_SCHEMA]) ? (resource[ENTERPRISE_SCHEMA] as JsonObject) : {};

  const aliases: IdentityAlias[] = [];
  const add = (kind: string, value: string | null) => {
    if (value !== null && !aliases.some((a) => a.kind === kind && a.value === value)) aliases.push({ kind, value });
  };
  for (const e of emails) add('email', e);
  add('upn', upn);
  if (upn === null && userName.trim() !== '') add('user_name', userName.trim().toLowerCase());
  const employeeNumber = str(enterprise.employeeNumber);
  add('employee_number', employeeNumber === null ? null : normaliseExternalId(employeeNumber));
  add('scim_id', str(resource.id));
  const externalId = str(resource.externalId);
  add('scim_external_id', externalId === null ? null : normaliseExternalId(externalId));

  // History from the previous version: ids stay identifiers of this person; addresses no longer held become former.
  const previous = ctx.previous?.aliases ?? [];
  for (const a of previous) if (HISTORY_ID_KINDS.has(a.kind)) add(a.kind, a.value);
  const current = new Set(aliases.filter((a) => a.kind === 'email' || a.kind === 'upn').map((a) => a.value));
  if (email !== null) current.add(email);
  const formerOf = (kind: string) => (kind === 'email' || kind === 'former_email' ? 'former_email' : 'former_upn');
  const earlier = [
    ...(ctx.previous?.email ? [{ kind: 'email', value: ctx.previous.email }] : []),
    ...previous.filter((a) => ['email', 'upn', 'former_email', 'former_upn'].includes(a.kind)),
  ];
  for (const a of earlier) if (!current.has(a.value)) add(formerOf(a.kind), a.value);

  const name = isObject(resource.name) ? (resource.name as JsonObject) : {};
  const given = str(name.givenName);
  const family = str(name.familyName);
  const record: DirectoryRecord = { resource, deleted: ctx.deleted };
  return {
    person_id: ctx.personId,
    record_kind: 'directory',
    valid_from: ctx.validFrom,
    source: { platform: ctx.platform, feed: FEED, source_time: ctx.sourceTime, observed_at: ctx.observedAt },
    active,
    lifecycle_state: active ? 'active' : 'inactive',
    email,
    display_name: str(resource.displayName) ?? str(name.formatted) ?? ([given, family].filter(Boolean).join(' ') || null),
    department: str(enterprise.department),
    title: str(resource.title),
    manager_person_id: ctx.managerPersonId,
    aliases,
    platform_role: null,
    groups: [...ctx.groups].sort((a, b) => (a.group_id < b.group_id ? -1 : a.group_id > b.group_id ? 1 : 0)),
    directory_record: JSON.stringify(record),
  };
}

/** The person a new User belongs to, given who carried its externalId or employee number before (#schemas stablePersonId). */
export function derivePersonId(resource: JsonObject, platform: string, known: KnownPeople): string {
  const enterprise = isObject(resource[ENTERPRISE_SCHEMA]) ? (resource[ENTERPRISE_SCHEMA] as JsonObject) : {};
  // A created User always has its server-set id: the last resort never fails.
  return stablePersonId(platform, { externalId: str(resource.externalId), employeeNumber: str(enterprise.employeeNumber), localId: String(resource.id) }, known)!;
}

/** The manager's SCIM id from the enterprise extension, if any. */
export function managerId(resource: JsonObject): string | null {
  const enterprise = resource[ENTERPRISE_SCHEMA];
  if (!isObject(enterprise) || !isObject(enterprise.manager)) return null;
  return str((enterprise.manager as JsonObject).value);
}

/** Every address the User carries (emails, normalised), primary first, then in order. */
function addresses(resource: JsonObject): string[] {
  const out: string[] = [];
  const primary = primaryEmail(resource);
  if (primary !== null) out.push(primary);
  for (const item of Array.isArray(resource.emails) ? resource.emails : []) {
    const e = isObject(item) ? str(item.value) : null;
    const normalised = e === null ? null : normaliseEmail(e);
    if (normalised !== null && !out.includes(normalised)) out.push(normalised);
  }
  return out;
}

/** The primary email, else the work one, else the first; else the userName when it is an address. */
function primaryEmail(resource: JsonObject): string | null {
  const items = (Array.isArray(resource.emails) ? resource.emails : []).filter(isObject) as JsonObject[];
  const pick = items.find((e) => e.primary === true) ?? items.find((e) => typeof e.type === 'string' && e.type.toLowerCase() === 'work') ?? items[0];
  const value = pick ? str(pick.value) : null;
  const normalised = value === null ? null : normaliseEmail(value);
  if (normalised !== null) return normalised;
  return typeof resource.userName === 'string' ? normaliseEmail(resource.userName) : null;
}

function str(value: Json | undefined): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}
