// One directory CSV row (reference §6.3) to the PersonVersion(s) it states,
// before the file-level checks (duplicates, managers) in directory-file.ts.
// Pure: fields in, a candidate or a typed error out.
//
// valid_from is the row's own effective time, never the import time, so an
// export imported twice gives the same keys and an older export imported
// after a newer one only adds or repeats history before the newer rows:
// - updated_at (when the system of record changed the row) by default;
// - start_date instead when it is later: a pre-hire entered before the
//   first day (a reused address must not pass to the joiner early);
// - end_date for a terminated row (the reference's leaver valid_from), and,
//   when HR entered the termination after end_date, the same inactive
//   version again at updated_at, so a version with a later updated_at
//   cannot leave the leaver active "as of now".
// An active row's end_date (notice given) schedules nothing: a rescinded
// resignation would otherwise leave a future leave no later row could undo.
import { tetherError, type TetherError } from '#errors';
import { normaliseEmail, normaliseLogin, normaliseUpn, stablePersonId, type IdentityAlias, type PersonVersion } from '#schemas';
import { quoteValue as show } from '#source';
import { parseIsoTime } from './iso-time.ts';

export const REQUIRED_COLUMNS = ['email', 'external_id', 'status', 'source', 'updated_at'] as const;
export const OPTIONAL_COLUMNS = [
  'user_name', 'employee_number', 'given_name', 'family_name', 'display_name', 'department', 'title', 'division', 'cost_center',
  'manager_email', 'manager_employee_number', 'manager_external_id', 'start_date', 'end_date', 'aliases',
] as const;
export type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

export type Lifecycle = 'active' | 'suspended' | 'inactive';
const STATUSES = new Map<string, Lifecycle>([['active', 'active'], ['suspended', 'suspended'], ['terminated', 'inactive']]);

/** Longest values kept: identifiers and addresses (RFC 5321's 254), free text; beyond is a broken or hostile row. */
export const MAX_ID_CHARS = 256;
export const MAX_EMAIL_CHARS = 254;
export const MAX_TEXT_CHARS = 1_024;
export const MAX_ALIASES = 64;
/** A change time later than this after the import is a broken clock or a hostile row (HR cannot have changed it yet). */
export const FUTURE_TOLERANCE_MS = 86_400_000;
/** The identity store's range for valid_from (services/enrich refuses the rest). */
const VALID_FROM_MIN = 0;
const VALID_FROM_MAX = Date.UTC(2200, 0, 1);

/** Controls, format characters (zero-width, bidi overrides), line separators, U+FFFD (text mis-decoded before export): never in an identifier. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/u;
const EMAIL_FORBIDDEN = /[\s<>()[\]\\,;:"]/u;

export type Fields = ReadonlyMap<Column, string>;

export type ManagerRef = { kind: 'external_id' | 'employee_number' | 'email'; value: string };

/** A row read, its manager not yet resolved (that needs the whole file). */
export interface Candidate {
  line: number;
  raw: Buffer;
  personId: string;
  lifecycle: Lifecycle;
  /** The versions the row states (two for a leaver whose termination was entered after end_date), manager_person_id null. */
  versions: PersonVersion[];
  /** Manager references in the order they are tried. */
  managerRefs: ManagerRef[];
  source: string;
  employeeNumber: string | null;
}

export interface RowContext {
  observedAt: number;
  feed: string;
}

export function readRow(line: number, raw: Buffer, f: Fields, ctx: RowContext): Candidate {
  for (const column of REQUIRED_COLUMNS) if (!f.has(column)) throw invalid(`${column} is empty`);
  const source = identifier(f, 'source')!.toLowerCase();
  const externalId = identifier(f, 'external_id')!;
  const email = address(f.get('email')!, 'email');
  const status = f.get('status')!.toLowerCase();
  const lifecycle = STATUSES.get(status);
  if (lifecycle === undefined) throw invalid(`status ${show(f.get('status')!)} is not active, suspended or terminated`);

  const updatedAt = time(f, 'updated_at')!;
  if (updatedAt > ctx.observedAt + FUTURE_TOLERANCE_MS) {
    throw invalid(`updated_at ${show(f.get('updated_at')!)} is after the import (${new Date(ctx.observedAt).toISOString()}): a change cannot be dated in the future`);
  }
  const startDate = time(f, 'start_date');
  const endDate = time(f, 'end_date');
  const validFroms =
    lifecycle === 'inactive' && endDate !== null
      ? endDate < updatedAt ? [endDate, updatedAt] : [endDate]
      : [startDate !== null && startDate > updatedAt ? startDate : updatedAt];
  for (const t of validFroms) {
    if (t < VALID_FROM_MIN || t >= VALID_FROM_MAX) throw invalid(`the version would hold from ${new Date(t).toISOString()}, outside 1970..2200`);
  }

  const employeeNumber = identifier(f, 'employee_number');
  const aliases: IdentityAlias[] = [{ kind: 'email', value: email }, { kind: 'external_id', value: externalId }];
  if (employeeNumber !== null) aliases.push({ kind: 'employee_number', value: employeeNumber });
  const userName = identifier(f, 'user_name');
  const upn = userName?.includes('@') ? normaliseUpn(userName) : null;
  const login = userName === null ? null : normaliseLogin(userName);
  if (login !== null) aliases.push(upn !== null ? { kind: 'upn', value: upn } : { kind: 'user_name', value: login });
  const listed = (f.get('aliases') ?? '').split(';').map((a) => a.trim()).filter(Boolean);
  if (listed.length > MAX_ALIASES) throw tooLarge(`aliases lists ${listed.length} values; at most ${MAX_ALIASES} are read`);
  for (const alias of listed) {
    checkIdentifier(alias, 'an alias');
    aliases.push(alias.includes('@') ? { kind: 'email', value: address(alias, 'an alias') } : { kind: 'alias', value: normaliseLogin(alias)! });
  }

  // The rule every directory writer shares (#schemas stablePersonId): '<source>:<external_id>', the id a SCIM push
  // of the same IdP user with that externalId gets, so a change of provisioning mode keeps the person.
  const personId = stablePersonId(source, { externalId, employeeNumber })!;
  const given = text(f, 'given_name');
  const family = text(f, 'family_name');
  const base: Omit<PersonVersion, 'valid_from'> = {
    person_id: personId,
    record_kind: 'directory',
    source: { platform: source, feed: ctx.feed, source_time: f.get('updated_at')!, observed_at: ctx.observedAt },
    active: lifecycle === 'active',
    lifecycle_state: lifecycle,
    email,
    display_name: text(f, 'display_name') ?? ([given, family].filter(Boolean).join(' ') || null),
    department: text(f, 'department'),
    title: text(f, 'title'),
    manager_person_id: null,
    aliases: dedupeAliases(aliases),
    platform_role: null,
    groups: null,
    directory_record: null,
  };
  const managerRefs: ManagerRef[] = [];
  const managerId = identifier(f, 'manager_external_id');
  if (managerId !== null) managerRefs.push({ kind: 'external_id', value: managerId });
  const managerNumber = identifier(f, 'manager_employee_number');
  if (managerNumber !== null) managerRefs.push({ kind: 'employee_number', value: managerNumber });
  if (f.has('manager_email')) managerRefs.push({ kind: 'email', value: address(f.get('manager_email')!, 'manager_email') });

  return {
    line, raw, personId, lifecycle, source, employeeNumber, managerRefs,
    versions: validFroms.map((validFrom) => ({ ...base, valid_from: validFrom, aliases: base.aliases.map((a) => ({ ...a })) })),
  };
}

function identifier(f: Fields, column: Column): string | null {
  const value = f.get(column);
  if (value === undefined) return null;
  checkIdentifier(value, column);
  return value;
}

function checkIdentifier(value: string, what: string): void {
  if (value.length > MAX_ID_CHARS) throw tooLarge(`${what} is ${value.length} characters long; an identifier is at most ${MAX_ID_CHARS}`);
  if (INVISIBLE.test(value)) throw invalid(`${what} ${show(value)} holds a control, invisible or replacement character`);
}

/**
 * #schemas normaliseEmail (trimmed, NFC, lower-cased as reference §6.3 asks;
 * a +tag kept: the enricher matches it to its mailbox), after the checks a
 * system of record's address must pass.
 */
function address(value: string, what: string): string {
  if (value.length > MAX_EMAIL_CHARS) throw tooLarge(`${what} is ${value.length} characters long; an address is at most ${MAX_EMAIL_CHARS}`);
  if (INVISIBLE.test(value)) throw invalid(`${what} ${show(value)} holds a control, invisible or replacement character`);
  const email = normaliseEmail(value);
  const at = email?.indexOf('@') ?? -1;
  const local = email?.slice(0, at) ?? '';
  const domain = email?.slice(at + 1) ?? '';
  const ok =
    email !== null && at > 0 && !domain.includes('@') && !EMAIL_FORBIDDEN.test(email) && local.length <= 64 &&
    domain !== '' && domain.split('.').every((label) => label !== '');
  if (!ok) throw invalid(`${what} ${show(value)} is not an address`);
  return email;
}

function text(f: Fields, column: Column): string | null {
  const value = f.get(column);
  if (value === undefined) return null;
  if (value.length > MAX_TEXT_CHARS) throw tooLarge(`${column} is ${value.length} characters long; at most ${MAX_TEXT_CHARS} are kept`);
  return value;
}

function time(f: Fields, column: Column): number | null {
  const value = f.get(column);
  if (value === undefined) return null;
  const parsed = parseIsoTime(value);
  if (!parsed.ok) throw invalid(`${column} ${parsed.reason}`);
  return parsed.ms;
}

function dedupeAliases(aliases: IdentityAlias[]): IdentityAlias[] {
  const seen = new Set<string>();
  return aliases.filter((a) => {
    const key = `${a.kind}\u0000${a.value}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function invalid(message: string): TetherError {
  return tetherError('TETHER_NORMALISE_INVALID', message);
}

function tooLarge(message: string): TetherError {
  return tetherError('TETHER_RECORD_TOO_LARGE', message);
}
