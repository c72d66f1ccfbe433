// Inventory changes to identity versions (and derived events): the shape of
// PersonVersion / NonHumanIdentityVersion records every platform shares.
import { accessEventRecord, type OutRecord, type EntityChange, type InventoryEntity } from '#source';
import { versionKey, type IdentityAlias, type NonHumanIdentityVersion, type PersonVersion } from '#schemas';
import { asObject, invalid, wellFormed, type Json, type Platform } from './normalise/common.ts';

/** A PersonVersion without the per-version fields. */
export interface PersonContent {
  person_id: string;
  email: string | null;
  display_name: string | null;
  platform_role: string | null;
  active: boolean;
  lifecycle_state: string;
  aliases: IdentityAlias[];
  /** Creation time as the platform wrote it. */
  source_time: string | null;
}

/** A NonHumanIdentityVersion without the per-version fields. */
export interface NhiContent {
  nhi_id: string;
  kind: string;
  platform_id: string;
  active: boolean;
  status: string;
  name: string | null;
  parent_nhi_id: string | null;
  owner_email: string | null;
  owner_platform_user_id: string | null;
  created_at: number | null;
  last_used_at: number | null;
  redacted_value: string | null;
  source_time: string | null;
}

export function personId(platform: Platform, userId: string): string {
  return `${platform}:${userId}`;
}

export function nhiId(platform: Platform, kind: string, id: string): string {
  return `${platform}:${kind}:${id}`;
}

/** An active NHI with nothing known but its id; the mappers fill in the rest. */
export function blankNhi(platform: Platform, kind: string, id: string): NhiContent {
  return {
    nhi_id: nhiId(platform, kind, id),
    kind,
    platform_id: id,
    active: true,
    status: 'active',
    name: null,
    parent_nhi_id: null,
    owner_email: null,
    owner_platform_user_id: null,
    created_at: null,
    last_used_at: null,
    redacted_value: null,
    source_time: null,
  };
}

export function platformAccount(platform: Platform, fields: {
  userId: string;
  email: string | null;
  name: string | null;
  role: string | null;
  active: boolean;
  sourceTime: string | null;
  createdAt: number | null;
}): InventoryEntity<PersonContent> {
  const id = personId(platform, fields.userId);
  const aliases: IdentityAlias[] = [];
  if (fields.email) aliases.push({ kind: 'email', value: fields.email });
  aliases.push({ kind: 'platform_user_id', value: id });
  const content: PersonContent = {
    person_id: id,
    email: fields.email,
    display_name: fields.name,
    platform_role: fields.role,
    active: fields.active,
    lifecycle_state: fields.active ? 'active' : 'inactive',
    aliases,
    source_time: fields.sourceTime,
  };
  return { id, content, tracked: { email: fields.email, name: fields.name, role: fields.role, active: fields.active }, createdAt: fields.createdAt };
}

export function nonHuman(content: NhiContent): InventoryEntity<NhiContent> {
  const { status, active, name, parent_nhi_id, owner_email, owner_platform_user_id } = content;
  return {
    id: content.nhi_id,
    content,
    tracked: { status, active, name, parent_nhi_id, owner_email, owner_platform_user_id },
    createdAt: content.created_at,
  };
}

export function personVersion(change: EntityChange<PersonContent>, platform: Platform, feed: string): OutRecord {
  const { source_time, ...content } = change.current;
  const gone = change.kind === 'gone';
  const value: PersonVersion = {
    ...content,
    record_kind: 'platform_account',
    valid_from: change.validFrom,
    source: { platform, feed, source_time: change.kind === 'new' ? source_time : null, observed_at: change.observedAt },
    active: gone ? false : content.active,
    lifecycle_state: gone ? 'inactive' : content.lifecycle_state,
    department: null,
    title: null,
    manager_person_id: null,
    groups: null,
    directory_record: null,
  };
  return { role: 'identityUsers', key: versionKey(value.person_id, value.valid_from), value: wellFormed(value) };
}

export function nhiVersion(change: EntityChange<NhiContent>, platform: Platform, feed: string): OutRecord {
  const { source_time, ...content } = change.current;
  const gone = change.kind === 'gone';
  const value: NonHumanIdentityVersion = {
    ...content,
    platform,
    valid_from: change.validFrom,
    source: { platform, feed, source_time: change.kind === 'new' ? source_time : null, observed_at: change.observedAt },
    active: gone ? false : content.active,
    status: gone ? 'deleted' : content.status,
  };
  return { role: 'identityNhi', key: versionKey(value.nhi_id, value.valid_from), value: wellFormed(value) };
}

export { accessEventRecord };

/** An inventory element that must be an object, or the dead-letter result saying it is not. */
export function entityObject(item: unknown, what: string): { ok: true; value: Json } | { ok: false; stage: 'normalising'; error: unknown } {
  const value = asObject(item);
  return value ? { ok: true, value } : badEntity(`${what} is not a JSON object`);
}

export function badEntity(message: string): { ok: false; stage: 'normalising'; error: unknown } {
  return { ok: false, stage: 'normalising', error: invalid(message) };
}
