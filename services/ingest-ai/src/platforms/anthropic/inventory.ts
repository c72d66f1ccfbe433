// Anthropic Admin API inventories (reference 2.5) -> identity entities, and
// the access events their changes stand for. The Admin API keeps no event
// history, so a key that appears, is disabled, archived, expires or vanishes
// between two polls becomes an event here, whether or not the Compliance
// activity feed is available to this organisation.
import type { Directory, EntityChange, EntityResult, OutRecord } from '#source';
import type { AccessEvent, Actor, Target } from '#schemas';
import {
  asObject, buildEvent, emptyActor, emptyScope, emptySrc, idOf, own, str, target, type Json,
} from '../../normalise/common.ts';
import { optionalTime, timeText } from '../../normalise/time.ts';
import { ACCESS_ACTIVITY, API_ACTIVITY, OCSF_CLASS, apiActivityForVerb, ocsfClass } from '../../normalise/ocsf.ts';
import {
  accessEventRecord, badEntity, blankNhi, entityObject, nhiId, nhiVersion, nonHuman, personId, platformAccount, type NhiContent, type PersonContent,
} from '../../identity.ts';

const P = 'anthropic' as const;
const rfc3339 = (value: unknown) => optionalTime('rfc3339', value);

export function anthropicUser(item: unknown): EntityResult<PersonContent> {
  const o = entityObject(item, 'anthropic user');
  if (!o.ok) return o;
  const u = o.value;
  const id = idOf(u.id);
  if (id === null) return badEntity('anthropic user has no id');
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
        createdAt: rfc3339(u.added_at),
      }),
    ],
  };
}

// ---------------------------------------------------------------- invites ---

export interface InviteContent {
  kind: 'invite';
  invite_id: string;
  email: string | null;
  role: string | null;
  status: string;
  invited_at: number | null;
}

export function anthropicInvite(item: unknown): EntityResult<InviteContent> {
  const o = entityObject(item, 'anthropic invite');
  if (!o.ok) return o;
  const i = o.value;
  const id = idOf(i.id);
  if (id === null) return badEntity('anthropic invite has no id');
  const content: InviteContent = {
    kind: 'invite',
    invite_id: id,
    email: str(i.email),
    role: str(i.role),
    status: str(i.status) ?? 'unknown',
    invited_at: rfc3339(i.invited_at),
  };
  return { ok: true, entities: [{ id: nhiId(P, 'invite', id), content, tracked: { status: content.status, role: content.role }, createdAt: content.invited_at }] };
}

/** An invite's life: sent when first seen (at its own time), then each status it reaches. */
export function inviteEvents(change: EntityChange<InviteContent>): OutRecord[] {
  const invite = change.current;
  const events: AccessEvent[] = [];
  const make = (verb: string, time: number, suffix: string) =>
    derivedEvent(change, {
      feed: 'invites',
      sourceEventId: `${invite.invite_id}:${suffix}`,
      time,
      action: `invite.${verb}`,
      ocsf: ocsfClass(OCSF_CLASS.apiActivity, apiActivityForVerb(verb)),
      actor: emptyActor('unknown'),
      targets: target('invite', invite.invite_id, invite.email),
    });
  if (change.kind === 'new') {
    events.push(make('sent', invite.invited_at ?? change.validFrom, 'sent'));
    if (!change.baseline && invite.status !== 'pending') events.push(make(invite.status, change.validFrom, invite.status));
  } else if (change.kind === 'changed' && change.previous?.status !== invite.status) {
    events.push(make(invite.status, change.validFrom, `${invite.status}:${change.validFrom}`));
  } else if (change.kind === 'gone' && invite.status === 'pending') {
    events.push(make('deleted', change.validFrom, `deleted:${change.validFrom}`));
  }
  return events.map(accessEventRecord);
}

// ------------------------------------------------- workspaces and members ---

export interface MemberContent {
  kind: 'workspace_member';
  workspace_id: string;
  user_id: string;
  workspace_role: string | null;
}

export type WorkspaceContent = NhiContent | MemberContent;

export type WorkspaceInventoryItem = { kind: 'workspace'; item: unknown } | { kind: 'workspace_member'; workspaceId: string; item: unknown };

export function anthropicWorkspaceItem(tagged: WorkspaceInventoryItem): EntityResult<WorkspaceContent> {
  const o = entityObject(tagged.item, `anthropic ${tagged.kind}`);
  if (!o.ok) return o;
  if (tagged.kind === 'workspace') {
    const w = o.value;
    const id = idOf(w.id);
    if (id === null) return badEntity('anthropic workspace has no id');
    const archived = str(w.archived_at) !== null;
    const content: NhiContent = {
      ...blankNhi(P, 'workspace', id),
      status: archived ? 'archived' : 'active',
      active: !archived,
      name: str(w.name),
      created_at: rfc3339(w.created_at),
      source_time: timeText(w.created_at),
    };
    return { ok: true, entities: [nonHuman(content)] };
  }
  const m = o.value;
  const userId = idOf(m.user_id);
  const workspaceId = idOf(m.workspace_id) ?? tagged.workspaceId;
  if (userId === null) return badEntity('anthropic workspace member has no user_id');
  const content: MemberContent = { kind: 'workspace_member', workspace_id: workspaceId, user_id: userId, workspace_role: str(m.workspace_role) };
  return {
    ok: true,
    entities: [{ id: `${P}:workspace_member:${workspaceId}:${userId}`, content, tracked: { role: content.workspace_role }, createdAt: null }],
  };
}

/**
 * Workspaces are identities; memberships are grants. The first snapshot is a
 * baseline (when someone joined is unknown, so no event claims a time).
 */
export function workspaceRecords(change: EntityChange<WorkspaceContent>): OutRecord[] {
  if (change.current.kind !== 'workspace_member') return [nhiVersion(change as EntityChange<NhiContent>, P, 'workspaces')];
  const member = change.current as MemberContent;
  const previous = change.previous as MemberContent | null;
  const verb = change.kind === 'gone' ? 'removed' : change.kind === 'new' ? 'added' : 'updated';
  if (change.kind === 'new' && change.baseline) return [];
  const activity =
    verb === 'added'
      ? ocsfClass(OCSF_CLASS.userAccessManagement, ACCESS_ACTIVITY.assign)
      : verb === 'removed'
        ? ocsfClass(OCSF_CLASS.userAccessManagement, ACCESS_ACTIVITY.revoke)
        : ocsfClass(OCSF_CLASS.apiActivity, API_ACTIVITY.update);
  const event = derivedEvent(change, {
    feed: 'workspace_members',
    sourceEventId: `${member.workspace_id}:${member.user_id}:${verb}:${change.validFrom}`,
    time: change.validFrom,
    action: `workspace_member.${verb}`,
    ocsf: activity,
    actor: emptyActor('unknown'),
    targets: [...target('user', member.user_id), ...target('workspace', member.workspace_id)],
    workspaceId: member.workspace_id,
    unmapped: { workspace_role: member.workspace_role, previous_workspace_role: previous?.workspace_role },
  });
  return [accessEventRecord(event)];
}

// --------------------------------------------------------------- API keys ---

/**
 * The key chains to the service account it acts as, else to its workspace
 * (organisation-scoped keys have no parent). Its owner is whoever created
 * it, else the user it acts as.
 */
export function anthropicApiKey(item: unknown, directory: Directory): EntityResult<NhiContent> {
  const o = entityObject(item, 'anthropic API key');
  if (!o.ok) return o;
  const k = o.value;
  const id = idOf(k.id);
  if (id === null) return badEntity('anthropic API key has no id');
  const createdBy = asObject(k.created_by);
  const principal = asObject(k.principal);
  const scope = asObject(k.scope);
  const workspaceId = str(scope?.workspace_id) ?? str(k.workspace_id);
  const serviceAccountId = principal?.type === 'service_account_actor' ? idOf(principal.service_account_id) : null;
  const ownerUserId = createdBy?.type === 'user' ? idOf(createdBy.id) : principal?.type === 'user_actor' ? idOf(principal.user_id) : null;
  const owner = ownerUserId ? personId(P, ownerUserId) : null;
  const status = str(k.status) ?? 'unknown';
  const content: NhiContent = {
    ...blankNhi(P, 'api_key', id),
    status,
    active: status === 'active',
    name: str(k.name),
    parent_nhi_id: serviceAccountId ? nhiId(P, 'service_account', serviceAccountId) : workspaceId ? nhiId(P, 'workspace', workspaceId) : null,
    owner_platform_user_id: owner,
    owner_email: owner ? directory.emailOf(owner) : null,
    created_at: rfc3339(k.created_at),
    redacted_value: str(k.partial_key_hint),
    source_time: timeText(k.created_at),
  };
  return { ok: true, entities: [nonHuman(content)] };
}

/** Status words to the event verb a transition into them is. */
const KEY_STATUS_VERB: Record<string, string> = { active: 'enabled', inactive: 'disabled', archived: 'archived', expired: 'expired' };

export function apiKeyRecords(change: EntityChange<NhiContent>): OutRecord[] {
  const key = change.current;
  const records: OutRecord[] = [nhiVersion(change, P, 'api_keys')];
  const event = (verb: string, time: number, sourceEventId: string, actor: Actor) =>
    accessEventRecord(
      derivedEvent(change, {
        feed: 'api_keys',
        sourceEventId,
        time,
        action: `api_key.${verb}`,
        ocsf: ocsfClass(OCSF_CLASS.apiActivity, verb === 'enabled' || verb === 'disabled' || verb === 'expired' ? API_ACTIVITY.update : apiActivityForVerb(verb)),
        actor,
        targets: target('api_key', key.platform_id, key.name),
        workspaceId: key.parent_nhi_id?.startsWith(`${P}:workspace:`) ? key.parent_nhi_id.slice(`${P}:workspace:`.length) : null,
        unmapped: { status: key.status, previous_status: change.previous?.status },
      }),
    );
  const statusVerb = own(KEY_STATUS_VERB, key.status) ?? key.status;
  if (change.kind === 'new') {
    records.push(event('created', key.created_at ?? change.validFrom, `${key.platform_id}:created`, creator(key)));
    if (!change.baseline && key.status !== 'active') {
      records.push(event(statusVerb, change.validFrom, `${key.platform_id}:${key.status}:${change.validFrom}`, emptyActor('unknown')));
    }
  } else if (change.kind === 'changed' && change.previous?.status !== key.status) {
    records.push(event(statusVerb, change.validFrom, `${key.platform_id}:${key.status}:${change.validFrom}`, emptyActor('unknown')));
  } else if (change.kind === 'gone') {
    records.push(event('deleted', change.validFrom, `${key.platform_id}:deleted:${change.validFrom}`, emptyActor('unknown')));
  }
  return records;
}

function creator(key: NhiContent): Actor {
  if (!key.owner_platform_user_id) return emptyActor('unknown');
  return {
    ...emptyActor('human'),
    platform_user_id: key.owner_platform_user_id.slice(`${P}:`.length),
    email: key.owner_email,
  };
}

// ------------------------------------------------------------------ shared ---

/**
 * Bigger listed elements are not kept as a derived event's raw: the event
 * would not fit in a Kafka record and, all records of an element going out
 * together, would take the key's identity version to the DLQ with it.
 */
export const DERIVED_RAW_MAX_BYTES = 512 * 1024;

/**
 * An event an inventory change stands for; its raw is the listed element
 * (the last content for 'gone', and the mapped content, flagged, for an
 * element over DERIVED_RAW_MAX_BYTES).
 */
function derivedEvent(
  change: EntityChange<unknown>,
  parts: {
    feed: string;
    sourceEventId: string;
    time: number;
    action: string;
    ocsf: AccessEvent['ocsf'];
    actor: Actor;
    targets: Target[];
    workspaceId?: string | null;
    unmapped?: Json;
  },
): AccessEvent {
  const tooLarge = (change.raw?.length ?? 0) > DERIVED_RAW_MAX_BYTES;
  return buildEvent(
    {
      sourceEventId: parts.sourceEventId,
      time: parts.time,
      timeRaw: new Date(parts.time).toISOString(),
      action: parts.action,
      sourceType: `inventory:${parts.action}`,
      outcome: 'success',
      ocsf: parts.ocsf,
      actor: parts.actor,
      targets: parts.targets,
      scope: { ...emptyScope(), workspace_id: parts.workspaceId ?? null },
      src: emptySrc(),
      unmapped: { ...(parts.unmapped ?? {}), derived_from: `inventory ${change.kind}`, listed_bytes: tooLarge ? change.raw?.length : undefined },
      flags: tooLarge ? ['raw_is_mapped_content'] : [],
    },
    { platform: P, feed: parts.feed, ingestedAt: change.observedAt, rawBytes: tooLarge ? Buffer.from(JSON.stringify(change.current)) : (change.raw ?? Buffer.from(JSON.stringify(change.current))) },
  );
}
