// Hostile variants of the real-shaped fixtures: every field path of a record
// replaced by values of the wrong type, prototype-named keys planted in every
// object, and the platforms' normalisers and inventory mappers in one table,
// so each hostile class runs over all of them.
import type { EntityChange, EntityResult, InventoryEntity, OutRecord } from '#source';
import { nhiVersion, personVersion, type NhiContent, type PersonContent } from '../src/identity.ts';
import type { Normaliser, Platform } from '../src/normalise/common.ts';
import { normaliseAnthropicActivity } from '../src/platforms/anthropic/activities.ts';
import {
  anthropicApiKey, anthropicInvite, anthropicUser, anthropicWorkspaceItem, apiKeyRecords, inviteEvents, workspaceRecords,
  type InviteContent, type WorkspaceContent,
} from '../src/platforms/anthropic/inventory.ts';
import { normaliseCursorAudit } from '../src/platforms/cursor/audit.ts';
import { cursorMember } from '../src/platforms/cursor/source.ts';
import { normaliseCursorUsage } from '../src/platforms/cursor/usage.ts';
import { normaliseOpenAiAudit } from '../src/platforms/openai/audit.ts';
import { openAiAdminApiKey, openAiProjectItem, openAiUser } from '../src/platforms/openai/inventory.ts';
import { fixture, fixtureLines } from './fixtures.ts';

export type Json = Record<string, unknown>;
export type Path = readonly (string | number)[];

/** Planted as own properties (what JSON.parse makes of such keys). */
export const POISON_KEYS = ['__proto__', 'constructor', 'prototype'] as const;
export const poison = () => JSON.parse('{"polluted":"yes","toString":"x","hasOwnProperty":1}') as Json;

/** Values of every wrong type, plus text that is empty, blank, or control characters only. */
export function hostileValues(): unknown[] {
  return [
    42, -1, 1.5e300, 0.5, '', '   \t\n', '\u0000', '\u202e', '\ud800', true, false, null, [], ['x'], [{ id: 'x' }], {},
    JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}'),
  ];
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Text that names something: what the normalisers accept as an id. */
export function named(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}

/** Every path of `value` down to `depth` levels (containers and leaves). */
export function pathsOf(value: unknown, depth = 4, prefix: Path = []): Path[] {
  const out: Path[] = prefix.length > 0 ? [prefix] : [];
  if (prefix.length >= depth) return out;
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, depth, [...prefix, i])));
  else if (isObject(value)) for (const key of Object.keys(value)) out.push(...pathsOf(value[key], depth, [...prefix, key]));
  return out;
}

/** A deep copy of `record` with the value at `path` replaced. */
export function withValue<T>(record: T, path: Path, value: unknown): T {
  const copy = JSON.parse(JSON.stringify(record)) as T;
  let node = copy as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

/** A deep copy with `__proto__`, `constructor` and `prototype` planted as own keys of every object. */
export function poisoned<T>(record: T): T {
  const copy = JSON.parse(JSON.stringify(record)) as unknown;
  const plant = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(plant);
    else if (isObject(node)) {
      for (const value of Object.values(node)) plant(value);
      for (const key of POISON_KEYS) Object.defineProperty(node, key, { value: poison(), enumerable: true, writable: true, configurable: true });
    }
  };
  plant(copy);
  return copy as T;
}

/** Whether Object.prototype (or anything built on it) picked up a planted property. */
export function polluted(): boolean {
  const probe = {} as Record<string, unknown>;
  return 'polluted' in probe || Object.hasOwn(Object.prototype, 'polluted') || (Object as unknown as Record<string, unknown>).polluted !== undefined;
}

// ------------------------------------------------------------ event feeds ---

export interface EventFeedCase {
  name: string;
  platform: Platform;
  feed: string;
  normalise: Normaliser;
  records: Json[];
  timeField: string;
  /** What a record needs to become an event (ids that name something, an object or no actor); a time replaced is never valid. */
  accepts(record: Json): boolean;
}

const actorOk = (r: Json) => r.actor === undefined || r.actor === null || isObject(r.actor);

export const EVENT_FEEDS: readonly EventFeedCase[] = [
  {
    name: 'OpenAI audit log',
    platform: 'openai',
    feed: 'audit_logs',
    normalise: normaliseOpenAiAudit,
    records: fixtureLines('openai', 'audit-logs.jsonl').map((l) => l.record),
    timeField: 'effective_at',
    accepts: (r) => named(r.id) && named(r.type) && actorOk(r),
  },
  {
    name: 'Anthropic compliance activity',
    platform: 'anthropic',
    feed: 'compliance_activities',
    normalise: normaliseAnthropicActivity,
    records: fixtureLines('anthropic', 'activities.jsonl').map((l) => l.record),
    timeField: 'created_at',
    accepts: (r) => named(r.id) && named(r.type) && actorOk(r),
  },
  {
    name: 'Cursor audit event',
    platform: 'cursor',
    feed: 'audit_logs',
    normalise: normaliseCursorAudit,
    records: fixtureLines('cursor', 'audit-logs.jsonl').map((l) => l.record),
    timeField: 'timestamp',
    accepts: (r) => named(r.event_id) && named(r.event_type),
  },
  {
    name: 'Cursor usage event',
    platform: 'cursor',
    feed: 'usage_events',
    normalise: normaliseCursorUsage,
    records: fixture<{ usageEvents: Json[] }>('cursor', 'usage-events-page.json').usageEvents,
    timeField: 'timestamp',
    accepts: (r) => named(r.userEmail) || named(r.serviceAccountId),
  },
];

// ------------------------------------------------------------ inventories ---

export interface InventoryCase {
  name: string;
  items: unknown[];
  /** The field whose value keys the entity. */
  idField: string;
  process(item: unknown): EntityResult<unknown>;
  emit(change: EntityChange<unknown>): readonly OutRecord[];
}

const page = (platform: Platform, name: string, key = 'data') => fixture<Record<string, unknown[]>>(platform, name)[key]!;
const directory = { emailOf: (id: string) => (id === 'anthropic:user_01FakeK2' ? 'kim@example.com' : null) };
const asNhi = (emit: (c: EntityChange<NhiContent>) => readonly OutRecord[]) => emit as (c: EntityChange<unknown>) => readonly OutRecord[];

export const INVENTORIES: readonly InventoryCase[] = [
  {
    name: 'OpenAI user',
    items: page('openai', 'users-page.json'),
    idField: 'id',
    process: openAiUser,
    emit: (c) => [personVersion(c as EntityChange<PersonContent>, 'openai', 'users')],
  },
  {
    name: 'OpenAI project',
    items: page('openai', 'projects-page.json'),
    idField: 'id',
    process: (item) => openAiProjectItem({ kind: 'project', item }),
    emit: asNhi((c) => [nhiVersion(c, 'openai', 'projects')]),
  },
  {
    name: 'OpenAI project service account',
    items: page('openai', 'service-accounts-page.json'),
    idField: 'id',
    process: (item) => openAiProjectItem({ kind: 'service_account', projectId: 'proj_Ab12Cd34', item }),
    emit: asNhi((c) => [nhiVersion(c, 'openai', 'projects')]),
  },
  {
    name: 'OpenAI project API key',
    items: page('openai', 'api-keys-page.json'),
    idField: 'id',
    process: (item) => openAiProjectItem({ kind: 'api_key', projectId: 'proj_Ab12Cd34', item }),
    emit: asNhi((c) => [nhiVersion(c, 'openai', 'projects')]),
  },
  {
    name: 'OpenAI admin API key',
    items: page('openai', 'admin-api-keys-page.json'),
    idField: 'id',
    process: openAiAdminApiKey,
    emit: asNhi((c) => [nhiVersion(c, 'openai', 'admin_api_keys')]),
  },
  {
    name: 'Anthropic user',
    items: page('anthropic', 'users-page.json'),
    idField: 'id',
    process: anthropicUser,
    emit: (c) => [personVersion(c as EntityChange<PersonContent>, 'anthropic', 'users')],
  },
  {
    name: 'Anthropic invite',
    items: page('anthropic', 'invites-page.json'),
    idField: 'id',
    process: anthropicInvite,
    emit: (c) => inviteEvents(c as EntityChange<InviteContent>),
  },
  {
    name: 'Anthropic workspace',
    items: page('anthropic', 'workspaces-page.json'),
    idField: 'id',
    process: (item) => anthropicWorkspaceItem({ kind: 'workspace', item }),
    emit: (c) => workspaceRecords(c as EntityChange<WorkspaceContent>),
  },
  {
    name: 'Anthropic workspace member',
    items: page('anthropic', 'workspace-members-page.json'),
    idField: 'user_id',
    process: (item) => anthropicWorkspaceItem({ kind: 'workspace_member', workspaceId: 'wrkspc_01FakeW1', item }),
    emit: (c) => workspaceRecords(c as EntityChange<WorkspaceContent>),
  },
  {
    name: 'Anthropic API key',
    items: page('anthropic', 'api-keys-page.json'),
    idField: 'id',
    process: (item) => anthropicApiKey(item, directory),
    emit: asNhi(apiKeyRecords),
  },
  {
    name: 'Cursor team member',
    items: page('cursor', 'members.json', 'teamMembers'),
    idField: 'id',
    process: cursorMember,
    emit: (c) => [personVersion(c as EntityChange<PersonContent>, 'cursor', 'members')],
  },
];

export const OBSERVED = Date.parse('2026-03-03T12:00:00Z');

/** The changes an entity can go through: first seen (after the baseline), changed, gone. */
export function changesOf(entity: InventoryEntity<unknown>, raw: Buffer): EntityChange<unknown>[] {
  const base = { id: entity.id, observedAt: OBSERVED, baseline: false, raw };
  return [
    { ...base, kind: 'new', previous: null, current: entity.content, validFrom: entity.createdAt !== null && entity.createdAt <= OBSERVED ? entity.createdAt : OBSERVED },
    { ...base, kind: 'changed', previous: { ...(entity.content as object), status: 'previous', workspace_role: 'previous' }, current: entity.content, validFrom: OBSERVED },
    { ...base, kind: 'gone', previous: entity.content, current: entity.content, validFrom: OBSERVED + 1, raw: null },
  ];
}
