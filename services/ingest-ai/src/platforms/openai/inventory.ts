// OpenAI inventories (reference 1.7) -> identity entities: organisation users
// are platform accounts; projects, their service accounts and API keys, and
// admin keys are non-human identities chained key -> service account or
// project -> (none), with the human owner where the API names one: a user
// key's owner, an admin key's owner, a project's owner (its users with role
// owner), so a service account's key ends at a person.
import type { EntityResult } from '#source';
import { asObject, flag, idOf, str } from '../../normalise/common.ts';
import { optionalTime, timeText } from '../../normalise/time.ts';
import {
  badEntity as bad, blankNhi, entityObject as object, nhiId, nonHuman, personId, platformAccount, type NhiContent, type PersonContent,
} from '../../identity.ts';

const P = 'openai' as const;

/** One element of the projects inventory, tagged with what it is and where it was listed. */
export type ProjectInventoryItem =
  /** `owners`: the project's users (GET /organization/projects/{id}/users) with role owner; none known when absent (an exported project listing). */
  | { kind: 'project'; item: unknown; owners?: readonly unknown[] }
  | { kind: 'service_account'; projectId: string; item: unknown }
  | { kind: 'api_key'; projectId: string; item: unknown };

export function openAiUser(item: unknown): EntityResult<PersonContent> {
  const o = object(item, 'openai user');
  if (!o.ok) return o;
  const u = o.value;
  const id = idOf(u.id);
  if (id === null) return bad('openai user has no id');
  // Service-account users are not people; the project service-account inventory carries them.
  if (flag(u.is_service_account) === true) return { ok: true, entities: [] };
  const addedAt = seconds(u.added_at) ?? seconds(u.created);
  return {
    ok: true,
    entities: [
      platformAccount(P, {
        userId: id,
        email: str(u.email),
        name: str(u.name),
        role: str(u.role),
        active: true,
        sourceTime: timeText(u.added_at),
        createdAt: addedAt,
      }),
    ],
  };
}

export function openAiProjectItem(tagged: ProjectInventoryItem): EntityResult<NhiContent> {
  switch (tagged.kind) {
    case 'project':
      return project(tagged.item, tagged.owners ?? []);
    case 'service_account':
      return serviceAccount(tagged.item, tagged.projectId);
    case 'api_key':
      return projectApiKey(tagged.item, tagged.projectId);
  }
}

/** A project user the owner of the project (the users listing's role). */
export function isProjectOwner(user: unknown): boolean {
  return asObject(user)?.role === 'owner';
}

function project(item: unknown, owners: readonly unknown[]): EntityResult<NhiContent> {
  const o = object(item, 'openai project');
  if (!o.ok) return o;
  const p = o.value;
  const id = idOf(p.id);
  if (id === null) return bad('openai project has no id');
  const status = str(p.status) ?? (p.archived_at ? 'archived' : 'active');
  const owner = primaryOwner(owners);
  return one({
    ...blankNhi(P, 'project', id),
    status,
    active: status === 'active',
    name: str(p.name),
    owner_email: owner?.email ?? null,
    owner_platform_user_id: owner?.userId ? personId(P, owner.userId) : null,
    created_at: seconds(p.created_at),
    source_time: timeRaw(p.created_at),
  });
}

function serviceAccount(item: unknown, projectId: string): EntityResult<NhiContent> {
  const o = object(item, 'openai service account');
  if (!o.ok) return o;
  const s = o.value;
  const id = idOf(s.id);
  if (id === null) return bad('openai service account has no id');
  return one({
    ...blankNhi(P, 'service_account', id),
    name: str(s.name),
    parent_nhi_id: nhiId(P, 'project', projectId),
    created_at: seconds(s.created_at),
    source_time: timeRaw(s.created_at),
  });
}

/**
 * A key owned by a user acts as that user inside the project; a key owned by
 * a service account chains to it. `owner_project_access: inactive` means the
 * owner lost access to the project, which makes the key unusable.
 */
function projectApiKey(item: unknown, projectId: string): EntityResult<NhiContent> {
  const o = object(item, 'openai project API key');
  if (!o.ok) return o;
  const k = o.value;
  const id = idOf(k.id);
  if (id === null) return bad('openai project API key has no id');
  const owner = asObject(k.owner);
  const user = owner?.type === 'user' ? asObject(owner.user) : undefined;
  const sa = owner?.type === 'service_account' ? asObject(owner.service_account) : undefined;
  const saId = idOf(sa?.id);
  const userId = idOf(user?.id);
  const inactive = k.owner_project_access === 'inactive';
  return one({
    ...blankNhi(P, 'api_key', id),
    status: inactive ? 'inactive' : 'active',
    active: !inactive,
    name: str(k.name),
    parent_nhi_id: saId ? nhiId(P, 'service_account', saId) : nhiId(P, 'project', projectId),
    owner_email: str(user?.email),
    owner_platform_user_id: userId ? personId(P, userId) : null,
    created_at: seconds(k.created_at),
    last_used_at: seconds(k.last_used_at),
    redacted_value: str(k.redacted_value),
    source_time: timeRaw(k.created_at),
  });
}

/**
 * The owner a project's chain ends at, among its users with role owner
 * (reference section 7: keep one primary, the latest human): the one added
 * last, ties by user id, so the choice never depends on listing order.
 * Entries naming nobody (no id, no email) are passed over.
 */
function primaryOwner(owners: readonly unknown[]): { userId: string | null; email: string | null } | undefined {
  let best: { userId: string | null; email: string | null; addedAt: number } | undefined;
  for (const element of owners) {
    const u = asObject(element);
    if (!u || !isProjectOwner(u)) continue;
    const candidate = { userId: idOf(u.id), email: str(u.email), addedAt: seconds(u.added_at) ?? Number.NEGATIVE_INFINITY };
    if (candidate.userId === null && candidate.email === null) continue;
    const key = candidate.userId ?? candidate.email!;
    if (!best || candidate.addedAt > best.addedAt || (candidate.addedAt === best.addedAt && key < (best.userId ?? best.email!))) best = candidate;
  }
  return best && { userId: best.userId, email: best.email };
}

export function openAiAdminApiKey(item: unknown): EntityResult<NhiContent> {
  const o = object(item, 'openai admin API key');
  if (!o.ok) return o;
  const k = o.value;
  const id = idOf(k.id);
  if (id === null) return bad('openai admin API key has no id');
  const owner = asObject(k.owner);
  const ownerId = owner?.type === 'user' ? idOf(owner.id) : null;
  return one({
    ...blankNhi(P, 'admin_api_key', id),
    name: str(k.name),
    owner_email: owner?.type === 'user' ? str(owner.email) : null,
    owner_platform_user_id: ownerId ? personId(P, ownerId) : null,
    created_at: seconds(k.created_at),
    last_used_at: seconds(k.last_used_at),
    redacted_value: str(k.redacted_value),
    source_time: timeRaw(k.created_at),
  });
}

function one(content: NhiContent): EntityResult<NhiContent> {
  return { ok: true, entities: [nonHuman(content)] };
}

const seconds = (value: unknown) => optionalTime('unix_seconds', value);
const timeRaw = timeText;
