// The SCIM protocol (RFC 7644) over the Directory, independent of HTTP: the
// fastify routes, the replay import and the bootstrap import all call
// handle() with a method, a path under /scim/v2, a body and the time of the
// change. Writes are serialised; each accepted change is staged, its
// versions (PersonVersion for every person it touches, GroupVersion for a
// group) are sent and acknowledged, and only then is the change committed
// in memory: a refused body or a failed send changes nothing. A change that
// changes nothing (an IdP's reconciliation PUT or PATCH) writes no version.
import { randomUUID } from 'node:crypto';
import type { GroupVersion, PersonVersion } from '#schemas';
import { versionKey } from '#schemas';
import { canonicalResource, clone, isObject, sameJson, type Json, type JsonObject } from './canonical.ts';
import { Directory, memberIds, type GroupEntry, type UserEntry } from './directory.ts';
import { parseFilter } from './filter.ts';
import { matches, pinnedEquality } from './match.ts';
import { applyPatch } from './patch.ts';
import { derivePersonId, FEED, managerId, personVersion, type DirectoryRecord } from './person.ts';
import { ScimError, badRequest, notFound } from './scim-error.ts';
import {
  GROUP, LIST_SCHEMA, USER, findAttr, resourceTypes, schemaResources, serviceProviderConfig, type ResourceSchema,
} from './schema.ts';

export interface ScimRequest {
  method: string;
  /** Path below /scim/v2, e.g. /Users/2819c223 (no query). */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  ifMatch?: string;
  ifNoneMatch?: string;
  /** The time of the change, epoch ms: when a push was received, or a recorded call's `at`. */
  at: number;
  /** The time as the caller gave it (ISO for pushes; the recorded text for replays). */
  sourceTime?: string;
  /** Base URL of /scim/v2 for meta.location and Location. */
  baseUrl: string;
}

export interface ScimResponse {
  status: number;
  body?: Record<string, unknown>;
  headers: Record<string, string>;
}

export type OutRecord =
  | { role: 'identityUsers'; key: string; value: PersonVersion }
  | { role: 'identityGroups'; key: string; value: GroupVersion };

export interface ScimServiceOptions {
  directory?: Directory;
  /** Sends the records of one change and resolves once acknowledged. */
  emit(records: OutRecord[]): Promise<void>;
  platform: string;
  maxResults: number;
  now?: () => number;
  newId?: () => string;
}

export interface ChangeSummary {
  kind: 'create' | 'replace' | 'patch' | 'delete';
  resourceType: 'User' | 'Group';
  id: string;
  versions: number;
}

export class ScimService {
  readonly directory: Directory;
  readonly #emit: ScimServiceOptions['emit'];
  readonly #platform: string;
  readonly #maxResults: number;
  readonly #now: () => number;
  readonly #newId: () => string;
  #queue: Promise<unknown> = Promise.resolve();
  /** Called after each committed change (metrics, logs). */
  onChange: (change: ChangeSummary) => void = () => undefined;

  constructor(options: ScimServiceOptions) {
    this.directory = options.directory ?? new Directory();
    this.#emit = options.emit;
    this.#platform = options.platform;
    this.#maxResults = options.maxResults;
    this.#now = options.now ?? Date.now;
    this.#newId = options.newId ?? randomUUID;
  }

  /** Answers one request; SCIM errors become their RFC 7644 bodies, anything else is thrown. */
  async handle(req: ScimRequest): Promise<ScimResponse> {
    try {
      return await this.#route(req);
    } catch (err) {
      if (ScimError.is(err)) return { status: err.status, body: err.body(), headers: {} };
      throw err;
    }
  }

  #route(req: ScimRequest): Promise<ScimResponse> | ScimResponse {
    const method = req.method.toUpperCase();
    const parts = req.path.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
    const [collection, id, ...rest] = parts;
    if (rest.length > 0) throw notFound(`no endpoint ${req.path}`);
    const kind = (collection ?? '').toLowerCase();
    if (method === 'GET' && id === undefined) {
      if (kind === 'serviceproviderconfig') return ok(serviceProviderConfig(req.baseUrl, this.#maxResults));
      if (kind === 'resourcetypes') return ok(listOf(resourceTypes(req.baseUrl)));
      if (kind === 'schemas') return ok(listOf(schemaResources(req.baseUrl)));
    }
    if (method === 'GET' && id !== undefined) {
      if (kind === 'resourcetypes') return ok(found(resourceTypes(req.baseUrl).find((r) => r.id === id), `resource type ${id}`));
      if (kind === 'schemas') return ok(found(schemaResources(req.baseUrl).find((s) => s.id === id), `schema ${id}`));
    }
    const schema = kind === 'users' ? USER : kind === 'groups' ? GROUP : undefined;
    if (!schema) throw notFound(`no endpoint ${req.path}`);
    if (method === 'GET') return id === undefined ? this.#list(schema, req) : this.#get(schema, id, req);
    if (method === 'POST' && id === undefined) return this.#write(() => this.#create(schema, req));
    if (id === undefined) throw new ScimError(405, null, `${method} is not allowed on ${schema.endpoint}`);
    if (method === 'PUT') return this.#write(() => this.#replace(schema, id, req));
    if (method === 'PATCH') return this.#write(() => this.#patch(schema, id, req));
    if (method === 'DELETE') return this.#write(() => this.#delete(schema, id, req));
    throw new ScimError(405, null, `${method} is not allowed on ${schema.endpoint}/{id}`);
  }

  /** One write at a time, in arrival order: each sees the state the previous one committed. */
  #write(work: () => Promise<ScimResponse>): Promise<ScimResponse> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // ---- reads ---------------------------------------------------------------

  #get(schema: ResourceSchema, id: string, req: ScimRequest): ScimResponse {
    const entry = schema === USER ? this.directory.liveUser(id) : this.directory.liveGroup(id);
    if (!entry) throw notFound(`${schema.type} ${id} not found`);
    const etag = etagOf(entry.version);
    if (req.ifNoneMatch !== undefined && etagMatches(req.ifNoneMatch, etag)) return { status: 304, headers: { etag } };
    return { status: 200, body: project(this.#render(schema, entry, req.baseUrl), schema, req.query), headers: { etag } };
  }

  #list(schema: ResourceSchema, req: ScimRequest): ScimResponse {
    const filterText = req.query?.filter;
    const filter = filterText === undefined ? null : parseFilter(filterText);
    const startIndex = Math.max(1, intParam(req.query?.startIndex, 1));
    const count = Math.min(this.#maxResults, Math.max(0, intParam(req.query?.count, this.#maxResults)));
    const live = [...(schema === USER ? this.directory.users.values() : this.directory.groups.values())].filter((e) => !e.deleted) as Array<UserEntry | GroupEntry>;
    const pinned = filter ? pinnedEquality(filter) : undefined;
    let candidates = live;
    if (pinned && schema === USER && pinned.attr === 'username') {
      const uid = this.directory.userIdByUserName(pinned.value);
      candidates = uid ? [this.directory.users.get(uid)!] : [];
    } else if (pinned && pinned.attr === 'id') {
      const e = schema === USER ? this.directory.liveUser(pinned.value) : this.directory.liveGroup(pinned.value);
      candidates = e ? [e] : [];
    }
    const hits = filter ? candidates.filter((e) => matches(filter, this.#render(schema, e, req.baseUrl), schema)) : candidates;
    const page = hits.slice(startIndex - 1, startIndex - 1 + count);
    return ok({
      schemas: [LIST_SCHEMA],
      totalResults: hits.length,
      startIndex,
      itemsPerPage: page.length,
      Resources: page.map((e) => project(this.#render(schema, e, req.baseUrl), schema, req.query)),
    });
  }

  /** The resource as served: location, and for a User its groups (RFC 7643 §4.1.2, read-only). */
  #render(schema: ResourceSchema, entry: UserEntry | GroupEntry, baseUrl: string): JsonObject {
    const out = clone(entry.resource);
    out.meta = { ...(out.meta as JsonObject), location: `${baseUrl}${schema.endpoint}/${entry.id}`, version: etagOf(entry.version) };
    if (schema === USER) {
      const groups = this.directory.membershipsOf(entry.id).map((m) => ({ value: m.group_id, $ref: `${baseUrl}/Groups/${m.group_id}`, display: m.display_name, type: 'direct' }));
      if (groups.length > 0) out.groups = groups as Json;
    } else if (Array.isArray(out.members)) {
      out.members = out.members.map((m) => {
        const member = m as JsonObject;
        const user = this.directory.liveUser(String(member.value));
        return { ...member, $ref: `${baseUrl}/Users/${String(member.value)}`, ...(user && typeof user.resource.displayName === 'string' ? { display: user.resource.displayName } : {}) };
      });
    }
    return out;
  }

  // ---- writes --------------------------------------------------------------

  async #create(schema: ResourceSchema, req: ScimRequest): Promise<ScimResponse> {
    const attrs = canonicalResource(schema, req.body);
    const id = this.#newId();
    const time = iso(req.at);
    const resource: JsonObject = { ...attrs, id, meta: { resourceType: schema.type, created: time, lastModified: time } };
    if (schema === USER) {
      this.#checkUserUnique(resource, null);
      const entry: UserEntry = {
        id, resource, deleted: false, version: 1, changedAt: req.at,
        personId: derivePersonId(resource, this.#platform, this.directory.known),
      };
      await this.#commit(req, { users: [entry], groups: [] });
      this.onChange({ kind: 'create', resourceType: 'User', id, versions: 1 });
      return this.#created(schema, entry, req);
    }
    this.#checkMembers(resource);
    const entry: GroupEntry = { id, resource, deleted: false, version: 1, changedAt: req.at };
    const versions = await this.#commit(req, { users: [], groups: [entry] });
    this.onChange({ kind: 'create', resourceType: 'Group', id, versions });
    return this.#created(schema, entry, req);
  }

  #created(schema: ResourceSchema, entry: UserEntry | GroupEntry, req: ScimRequest): ScimResponse {
    const location = `${req.baseUrl}${schema.endpoint}/${entry.id}`;
    return { status: 201, body: this.#render(schema, entry, req.baseUrl), headers: { location, etag: etagOf(entry.version) } };
  }

  async #replace(schema: ResourceSchema, id: string, req: ScimRequest): Promise<ScimResponse> {
    const current = this.#current(schema, id, req);
    const attrs = canonicalResource(schema, req.body);
    return this.#update(schema, current, { ...attrs, id, meta: current.resource.meta! }, req, 'replace');
  }

  async #patch(schema: ResourceSchema, id: string, req: ScimRequest): Promise<ScimResponse> {
    const current = this.#current(schema, id, req);
    const patched = applyPatch(schema, current.resource, req.body);
    // The patched resource must still be a valid one (userName present, types right).
    const attrs = canonicalResource(schema, { ...patched, schemas: patched.schemas ?? [schema.core] });
    return this.#update(schema, current, { ...attrs, id, meta: current.resource.meta! }, req, 'patch');
  }

  async #update(schema: ResourceSchema, current: UserEntry | GroupEntry, resource: JsonObject, req: ScimRequest, kind: 'replace' | 'patch'): Promise<ScimResponse> {
    if (sameJson(withoutMeta(current.resource), withoutMeta(resource))) {
      // A reconciliation that restates what Tether holds: no version, same ETag.
      return { status: 200, body: project(this.#render(schema, current, req.baseUrl), schema, req.query), headers: { etag: etagOf(current.version) } };
    }
    const changedAt = Math.max(req.at, current.changedAt);
    resource.meta = { ...(current.resource.meta as JsonObject), lastModified: iso(changedAt) };
    let versions: number;
    let entry: UserEntry | GroupEntry;
    if (schema === USER) {
      this.#checkUserUnique(resource, current.id);
      entry = { ...(current as UserEntry), resource, version: current.version + 1, changedAt };
      versions = await this.#commit(req, { users: [entry as UserEntry], groups: [] });
    } else {
      this.#checkMembers(resource);
      entry = { ...(current as GroupEntry), resource, version: current.version + 1, changedAt };
      versions = await this.#commit(req, { users: [], groups: [entry as GroupEntry] });
    }
    this.onChange({ kind, resourceType: schema.type, id: current.id, versions });
    return { status: 200, body: project(this.#render(schema, entry, req.baseUrl), schema, req.query), headers: { etag: etagOf(entry.version) } };
  }

  async #delete(schema: ResourceSchema, id: string, req: ScimRequest): Promise<ScimResponse> {
    const current = this.#current(schema, id, req);
    const changedAt = Math.max(req.at, current.changedAt);
    const resource: JsonObject = { ...current.resource, meta: { ...(current.resource.meta as JsonObject), lastModified: iso(changedAt) } };
    let versions: number;
    if (schema === USER) {
      // A deleted User leaves its groups too (RFC 7644 §3.6): each group gets a version without them.
      const groups = [...this.directory.groupIdsOf(id)].flatMap((gid) => {
        const g = this.directory.liveGroup(gid);
        if (!g) return [];
        const members = (g.resource.members as Json[]).filter((m) => !(isObject(m) && m.value === id));
        const next: JsonObject = { ...g.resource, meta: { ...(g.resource.meta as JsonObject), lastModified: iso(changedAt) } };
        if (members.length > 0) next.members = members;
        else delete next.members;
        return [{ ...g, resource: next, version: g.version + 1, changedAt: Math.max(changedAt, g.changedAt) }];
      });
      const entry: UserEntry = { ...(current as UserEntry), resource, deleted: true, version: current.version + 1, changedAt };
      versions = await this.#commit(req, { users: [entry], groups });
    } else {
      versions = await this.#commit(req, { users: [], groups: [{ ...(current as GroupEntry), resource, deleted: true, version: current.version + 1, changedAt }] });
    }
    this.onChange({ kind: 'delete', resourceType: schema.type, id, versions });
    return { status: 204, headers: {} };
  }

  /** The live resource a write names, its If-Match checked (RFC 7644 §3.14). */
  #current(schema: ResourceSchema, id: string, req: ScimRequest): UserEntry | GroupEntry {
    const entry = schema === USER ? this.directory.liveUser(id) : this.directory.liveGroup(id);
    if (!entry) throw notFound(`${schema.type} ${id} not found`);
    if (req.ifMatch !== undefined && !etagMatches(req.ifMatch, etagOf(entry.version))) {
      throw new ScimError(412, null, `${schema.type} ${id} is at version ${etagOf(entry.version)}, not ${req.ifMatch}`);
    }
    return entry;
  }

  #checkUserUnique(resource: JsonObject, self: string | null): void {
    const holder = this.directory.userIdByUserName(String(resource.userName));
    if (holder !== undefined && holder !== self) throw new ScimError(409, 'uniqueness', `userName ${JSON.stringify(resource.userName)} is already taken`);
    if (typeof resource.externalId === 'string') {
      const other = this.directory.userIdByExternalId(resource.externalId);
      if (other !== undefined && other !== self) throw new ScimError(409, 'uniqueness', `externalId ${JSON.stringify(resource.externalId)} is already taken`);
    }
  }

  /** Members must be live Users Tether knows (nested groups are not served). */
  #checkMembers(resource: JsonObject): void {
    for (const member of (resource.members as Json[] | undefined) ?? []) {
      const m = member as JsonObject;
      if (typeof m.value !== 'string') throw badRequest('invalidValue', 'every member needs a value (the User id)');
      if (typeof m.type === 'string' && m.type.toLowerCase() !== 'user') throw badRequest('invalidValue', `member ${m.value} is a ${m.type}: only Users can be members`);
      if (!this.directory.liveUser(m.value)) throw badRequest('invalidValue', `member ${m.value} is not a User`);
    }
  }

  /**
   * Builds the versions a staged change states, sends them, and commits the
   * change once they are acknowledged. Users whose group set changes get a
   * version of their own (the membership is kept on the person).
   */
  async #commit(req: ScimRequest, change: { users: UserEntry[]; groups: GroupEntry[] }): Promise<number> {
    const observedAt = this.#now();
    const sourceTime = req.sourceTime ?? iso(req.at);
    const records: OutRecord[] = [];
    const groupsAfter = new Map(change.groups.map((g) => [g.id, g]));
    const users = new Map(change.users.map((u) => [u.id, u]));
    for (const g of change.groups) {
      const before = this.directory.groups.get(g.id);
      const was = new Set(before && !before.deleted ? memberIds(before.resource) : []);
      const now = new Set(g.deleted ? [] : memberIds(g.resource));
      const renamed = before !== undefined && before.resource.displayName !== g.resource.displayName;
      for (const uid of new Set([...was, ...now])) {
        if (!(renamed || g.deleted || was.has(uid) !== now.has(uid)) || users.has(uid)) continue;
        // The User's groups changed: a new version of it (and its ETag), from the group change's time.
        const u = this.directory.liveUser(uid);
        if (u) users.set(uid, { ...u, version: u.version + 1, changedAt: Math.max(u.changedAt, g.changedAt) });
      }
      g.resource.meta = { ...(g.resource.meta as JsonObject), version: etagOf(g.version) };
      records.push({ role: 'identityGroups', key: versionKey(g.id, g.changedAt), value: this.#groupVersion(g, sourceTime, observedAt) });
    }
    const persons: PersonVersion[] = [];
    for (const u of users.values()) {
      u.resource = { ...u.resource, meta: { ...(u.resource.meta as JsonObject), version: etagOf(u.version) } };
      const memberships = u.deleted ? [] : this.#membershipsAfter(u.id, groupsAfter);
      const mid = managerId(u.resource);
      const manager = mid === null ? null : (this.directory.users.get(mid)?.personId ?? null);
      const v = personVersion(u.resource, {
        personId: u.personId, validFrom: u.changedAt, sourceTime, observedAt, platform: this.#platform, deleted: u.deleted,
        groups: memberships, managerPersonId: manager, previous: this.directory.latestPerson(u.personId),
      });
      persons.push(v);
      records.push({ role: 'identityUsers', key: versionKey(v.person_id, v.valid_from), value: v });
    }
    await this.#emit(records);
    for (const g of change.groups) this.directory.putGroup(g);
    for (const u of users.values()) this.directory.putUser(u);
    for (const v of persons) this.directory.notePerson(v);
    return records.length;
  }

  #membershipsAfter(userId: string, groupsAfter: Map<string, GroupEntry>) {
    const ids = new Set(this.directory.groupIdsOf(userId));
    for (const [gid, g] of groupsAfter) {
      if (!g.deleted && memberIds(g.resource).includes(userId)) ids.add(gid);
      else ids.delete(gid);
    }
    return [...ids].flatMap((gid) => {
      const g = groupsAfter.get(gid) ?? this.directory.liveGroup(gid);
      return g && !g.deleted ? [{ group_id: gid, display_name: typeof g.resource.displayName === 'string' ? g.resource.displayName : null }] : [];
    });
  }

  #groupVersion(g: GroupEntry, sourceTime: string, observedAt: number): GroupVersion {
    const users = memberIds(g.resource).map((uid) => this.directory.users.get(uid)?.personId ?? uid);
    const record: DirectoryRecord = { resource: g.resource, deleted: g.deleted };
    return {
      group_id: g.id,
      valid_from: g.changedAt,
      source: { platform: this.#platform, feed: FEED, source_time: sourceTime, observed_at: observedAt },
      active: !g.deleted,
      display_name: String(g.resource.displayName),
      external_id: typeof g.resource.externalId === 'string' ? g.resource.externalId : null,
      member_person_ids: [...new Set(users)].sort(),
      directory_record: JSON.stringify(record),
    };
  }

  // ---- for the imports -----------------------------------------------------

  /**
   * The resource a replayed POST made earlier: same type, created at that
   * time. Several created in the same millisecond: the one with the body's
   * externalId, else its userName (User) or displayName (Group), as the
   * resource may have been renamed since.
   */
  createdAt(type: 'User' | 'Group', at: number, body: unknown): string | undefined {
    const created = iso(at);
    const entries = [...(type === 'User' ? this.directory.users.values() : this.directory.groups.values())].filter((e) => (e.resource.meta as JsonObject).created === created);
    if (entries.length <= 1) return entries[0]?.id;
    if (!isObject(body)) return undefined;
    const field = (name: string) => Object.entries(body).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    const externalId = field('externalId');
    const byExternal = entries.find((e) => typeof externalId === 'string' && e.resource.externalId === externalId);
    if (byExternal) return byExternal.id;
    const key = type === 'User' ? 'userName' : 'displayName';
    const name = field(key);
    return entries.find((e) => typeof name === 'string' && String(e.resource[key]).toLowerCase() === name.toLowerCase())?.id;
  }

  /** When a resource last changed (epoch ms), deleted ones included. */
  changedAt(type: 'User' | 'Group', id: string): number | undefined {
    return (type === 'User' ? this.directory.users.get(id) : this.directory.groups.get(id))?.changedAt;
  }
}

function ok(body: Record<string, unknown>): ScimResponse {
  return { status: 200, body, headers: {} };
}

function listOf(resources: Record<string, unknown>[]): Record<string, unknown> {
  return { schemas: [LIST_SCHEMA], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
}

function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw notFound(`${what} not found`);
  return value;
}

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** If-Match / If-None-Match: a list of tags or `*`; weak comparison (RFC 7232 §2.3.2). */
function etagMatches(header: string, etag: string): boolean {
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

function withoutMeta(resource: JsonObject): JsonObject {
  const { meta: _meta, ...rest } = resource;
  return rest;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function intParam(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw badRequest('invalidValue', `${JSON.stringify(value)} is not an integer`);
  return n;
}

/** attributes / excludedAttributes (RFC 7644 §3.9), at attribute level; id and schemas are always returned. */
function project(resource: JsonObject, schema: ResourceSchema, query: ScimRequest['query']): JsonObject {
  const names = (text: string | undefined) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => s.slice(s.lastIndexOf(':') + 1).split('.')[0]!.toLowerCase());
  const only = names(query?.attributes);
  const except = names(query?.excludedAttributes);
  if (only.length === 0 && except.length === 0) return resource;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(resource)) {
    const def = findAttr(schema.attrs, key);
    const always = key === 'schemas' || def?.returned === 'always';
    const lower = key.toLowerCase();
    if (always || ((only.length === 0 || only.includes(lower)) && !except.includes(lower))) out[key] = value;
  }
  return out;
}
