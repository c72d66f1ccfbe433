// Backfills through the same handlers as pushes, each change valid from
// when it happened (a push is valid from when it was received):
//
// - replay: recorded IdP calls, one JSON object a line: {at, method, path,
//   body} (optionally `response: {body: {id}}` or `id`: the id the recording
//   service gave a POST). Calls run in `at` order, each at its `at`. The ids
//   in recorded paths and bodies are the recording service's; they are
//   mapped to Tether's: by the recorded POST response id when there is one,
//   else the first unknown id named after a POST takes the oldest resource
//   of that type created without a known id. Replaying again changes
//   nothing: a POST finds the resource it made (same type, created at that
//   `at`, same userName/displayName), and a call no later than the
//   resource's last change when this replay began is history already held.
// - bootstrap: a SCIM ListResponse export (Users and Groups): each resource
//   created as of its meta.lastModified (from when its current state holds);
//   one that already exists (same userName, externalId or group name) is
//   mapped, not created twice. Group members and managers are mapped to
//   Tether's ids; members the export does not hold are left out (counted).
//
// Refused records go to the dead-letter topic with their reason and bytes,
// with any password value replaced first.
import { readFile } from 'node:fs/promises';
import { tetherError } from '#errors';
import type { Logger } from '#log';
import { readJsonRecords, parseRfc3339 } from '#source';
import type { DeadLetterInput, DeadLetterWriter } from '#service';
import { isObject, type Json, type JsonObject } from './canonical.ts';
import { ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './schema.ts';
import type { ScimResponse, ScimService } from './service.ts';

/** A recorded change dated this far after the import is a broken clock, not history. */
export const FUTURE_TOLERANCE_MS = 86_400_000;

export interface ImportSummary {
  records: number;
  applied: number;
  /** Already held (a second replay, an existing resource) or a read (GET): nothing to do. */
  skipped: number;
  failed: number;
}

export interface ImportDeps {
  service: ScimService;
  deadLetters: DeadLetterWriter;
  log: Logger;
  baseUrl: string;
  now?: () => number;
}

type ResourceKind = 'User' | 'Group';

interface Call {
  line: number;
  raw: Buffer;
  at: number;
  atText: string;
  method: string;
  kind: ResourceKind;
  recordedId: string | null;
  body: unknown;
  responseId: string | null;
  query: Record<string, string>;
}

/** Replaces the value of every "password" member in JSON text (also in text that no longer parses). */
export function withoutPasswords(raw: Buffer): Buffer {
  const text = raw.toString('utf8');
  const scrubbed = text.replace(/("password"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/gi, '$1"[redacted]"');
  return scrubbed === text ? raw : Buffer.from(scrubbed, 'utf8');
}

/** An import's counts and its refused records, each to be dead-lettered with its reason and bytes (passwords replaced). */
function tally(source: string) {
  const summary: ImportSummary = { records: 0, applied: 0, skipped: 0, failed: 0 };
  const dead: DeadLetterInput[] = [];
  const refuse = (raw: Buffer, detail: string) => {
    summary.failed++;
    dead.push({ stage: 'normalising', source, error: tetherError('TETHER_NORMALISE_INVALID', detail), original: withoutPasswords(raw) });
  };
  return { summary, dead, refuse };
}

export async function replayFile(path: string, deps: ImportDeps): Promise<ImportSummary> {
  const now = deps.now ?? Date.now;
  const { summary, dead, refuse } = tally('scim/replay');
  const calls: Call[] = [];
  let line = 0;
  for await (const batch of readJsonRecords(path, { batchSize: 1_000 })) {
    for (const record of batch) {
      line++;
      summary.records++;
      // The reader's parse message quotes the line (which may hold a password): say only where.
      if (record.error) refuse(record.raw, `record ${line} is not JSON`);
      else {
        const call = readCall(record.value, record.raw, line, now());
        if (typeof call === 'string') refuse(record.raw, call);
        else if (call.method === 'GET' || call.method === 'HEAD') summary.skipped++;
        else calls.push(call);
      }
    }
  }
  calls.sort((a, b) => a.at - b.at);

  const { service } = deps;
  const heldUntil = new Map<string, number>();
  for (const [id, u] of service.directory.users) heldUntil.set(`User/${id}`, u.changedAt);
  for (const [id, g] of service.directory.groups) heldUntil.set(`Group/${id}`, g.changedAt);
  const ids = new Map<string, string>();
  const unnamed: Record<ResourceKind, string[]> = { User: [], Group: [] };
  const tetherId = (kind: ResourceKind, recorded: string): string | undefined => {
    const known = ids.get(`${kind}/${recorded}`);
    if (known !== undefined) return known;
    if (heldUntil.has(`${kind}/${recorded}`)) return recorded; // already a Tether id
    const next = unnamed[kind].shift();
    if (next !== undefined) ids.set(`${kind}/${recorded}`, next);
    return next;
  };

  for (const call of calls) {
    const body = mapIds(call.body, ids);
    if (call.method === 'POST') {
      const existing = service.createdAt(call.kind, call.at, body);
      if (existing !== undefined) {
        remember(call, existing);
        summary.skipped++;
        continue;
      }
      const res = await service.handle({ method: 'POST', path: `/${call.kind}s`, body, at: call.at, sourceTime: call.atText, baseUrl: deps.baseUrl, query: call.query });
      if (res.status === 201) {
        remember(call, String(res.body!.id));
        summary.applied++;
      } else refuse(call.raw, failure(call, res));
      continue;
    }
    const id = call.recordedId === null ? undefined : tetherId(call.kind, call.recordedId);
    if (id === undefined) {
      refuse(call.raw, `record ${call.line}: ${call.kind} ${call.recordedId ?? '(no id)'} was never created in this replay or by Tether`);
      continue;
    }
    const held = heldUntil.get(`${call.kind}/${id}`);
    if (held !== undefined && call.at <= held) {
      summary.skipped++;
      continue;
    }
    const res = await service.handle({ method: call.method, path: `/${call.kind}s/${encodeURIComponent(id)}`, body, at: call.at, sourceTime: call.atText, baseUrl: deps.baseUrl, query: call.query });
    if (res.status < 300) summary.applied++;
    else refuse(call.raw, failure(call, res));
  }
  if (dead.length > 0) await deps.deadLetters.send(dead);
  deps.log.info({ path, ...summary }, 'SCIM replay done');
  return summary;

  function remember(call: Call, id: string): void {
    const recorded = call.responseId;
    if (recorded !== null) ids.set(`${call.kind}/${recorded}`, id);
    else unnamed[call.kind].push(id);
  }
}

function readCall(value: unknown, raw: Buffer, line: number, now: number): Call | string {
  if (!isObject(value)) return `record ${line} is not an object`;
  const method = typeof value.method === 'string' ? value.method.toUpperCase() : '';
  if (!['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) return `record ${line}: method ${JSON.stringify(value.method)} is not a SCIM method`;
  const at = readTime(value.at);
  if (typeof at === 'string') return `record ${line}: at ${at}`;
  if (at.ms > now + FUTURE_TOLERANCE_MS) return `record ${line}: at ${at.text} is after the import: a change cannot be dated in the future`;
  if (typeof value.path !== 'string') return `record ${line}: path must be a string`;
  const url = new URL(value.path, 'http://scim.invalid');
  const parts = url.pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const at2 = parts.findIndex((p) => /^(users|groups)$/i.test(p));
  if (at2 < 0 || parts.length > at2 + 2) return `record ${line}: path ${JSON.stringify(value.path)} is not under /Users or /Groups`;
  const kind: ResourceKind = parts[at2]!.toLowerCase() === 'users' ? 'User' : 'Group';
  const response = isObject(value.response) && isObject(value.response.body) ? value.response.body : null;
  const responseId = typeof value.id === 'string' ? value.id : response && typeof response.id === 'string' ? response.id : null;
  return {
    line, raw, at: at.ms, atText: at.text, method, kind, recordedId: parts[at2 + 1] ?? null, body: value.body, responseId,
    query: Object.fromEntries(url.searchParams),
  };
}

function readTime(value: unknown): { ms: number; text: string } | string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return { ms: value, text: new Date(value).toISOString() };
  if (typeof value !== 'string') return 'must be an RFC 3339 time or epoch milliseconds';
  const parsed = parseRfc3339(value);
  return parsed.ok ? { ms: parsed.ms, text: value } : parsed.reason;
}

/** The body with the recording service's ids replaced by Tether's (member values, manager, value filters in paths). */
function mapIds(body: unknown, ids: Map<string, string>): unknown {
  if (ids.size === 0) return body;
  const byRecorded = new Map<string, string>();
  for (const [key, id] of ids) byRecorded.set(key.slice(key.indexOf('/') + 1), id);
  const walk = (value: unknown, key: string | null): unknown => {
    if (typeof value === 'string') {
      if (byRecorded.has(value)) return byRecorded.get(value);
      if (key?.toLowerCase() === 'path') return value.replace(/"((?:[^"\\]|\\.)*)"/g, (m, inner: string) => (byRecorded.has(inner) ? JSON.stringify(byRecorded.get(inner)) : m));
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => walk(v, null));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return value;
  };
  return walk(body, null);
}

function failure(call: Call, res: ScimResponse): string {
  const detail = res.body && typeof res.body.detail === 'string' ? res.body.detail : '';
  const type = res.body && typeof res.body.scimType === 'string' ? ` ${res.body.scimType}` : '';
  return `record ${call.line}: ${call.method} ${call.kind} answered ${res.status}${type}: ${detail}`;
}

export async function bootstrapFile(path: string, deps: ImportDeps): Promise<ImportSummary> {
  const bytes = await readFile(path);
  const now = deps.now ?? Date.now;
  const { summary, dead, refuse } = tally('scim/bootstrap');
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    refuse(bytes, 'the export is not JSON');
  }
  const resources = isObject(doc) && Array.isArray(doc.Resources) ? doc.Resources : Array.isArray(doc) ? doc : null;
  if (doc !== undefined && resources === null) refuse(bytes, 'the export is not a SCIM ListResponse (no Resources list)');
  const items = (resources ?? []).map((r, i) => ({ r, i, raw: Buffer.from(JSON.stringify(r)) }));
  summary.records = items.length;

  const kindOf = (r: unknown): ResourceKind | null => {
    if (!isObject(r)) return null;
    const schemas = Array.isArray(r.schemas) ? r.schemas.map((s) => String(s).toLowerCase()) : [];
    if (schemas.includes(USER_SCHEMA.toLowerCase())) return 'User';
    if (schemas.includes(GROUP_SCHEMA.toLowerCase())) return 'Group';
    return null;
  };
  const timeOf = (r: JsonObject): number | string => {
    const meta = isObject(r.meta) ? r.meta : {};
    const text = typeof meta.lastModified === 'string' ? meta.lastModified : typeof meta.created === 'string' ? meta.created : null;
    if (text === null) return now();
    const parsed = parseRfc3339(text);
    if (!parsed.ok) return `meta time ${parsed.reason}`;
    return parsed.ms > now() + FUTURE_TOLERANCE_MS ? `meta time ${text} is in the future` : parsed.ms;
  };
  const ids = new Map<string, string>();
  const { service } = deps;
  for (const kind of ['User', 'Group'] as const) {
    const ofKind = items.filter(({ r }) => kindOf(r) === kind).map((item) => ({ ...item, at: timeOf(item.r as JsonObject) }));
    ofKind.sort((a, b) => (typeof a.at === 'number' ? a.at : 0) - (typeof b.at === 'number' ? b.at : 0));
    for (const { r, i, raw, at } of ofKind) {
      const resource = r as JsonObject;
      if (typeof at === 'string') {
        refuse(raw, `resource ${i + 1}: ${at}`);
        continue;
      }
      const existing = kind === 'User' ? existingUser(service, resource) : existingGroup(service, resource);
      if (existing !== undefined) {
        if (typeof resource.id === 'string') ids.set(resource.id, existing);
        summary.skipped++;
        continue;
      }
      const { id: exportId, meta: _meta, groups: _groups, ...body } = resource;
      if (kind === 'Group' && Array.isArray(body.members)) {
        const members = body.members.flatMap((m) => (isObject(m) && typeof m.value === 'string' && ids.has(m.value) ? [{ ...m, value: ids.get(m.value)! }] : []));
        const dropped = body.members.length - members.length;
        if (dropped > 0) deps.log.warn({ group: body.displayName, dropped }, 'group members not in the export were left out');
        body.members = members;
      }
      mapManager(body, ids);
      const res = await service.handle({ method: 'POST', path: `/${kind}s`, body, at, sourceTime: new Date(at).toISOString(), baseUrl: deps.baseUrl });
      if (res.status === 201) {
        if (typeof exportId === 'string') ids.set(exportId, String(res.body!.id));
        summary.applied++;
      } else refuse(raw, `resource ${i + 1}: ${kind} answered ${res.status} ${String(res.body?.scimType ?? '')}: ${String(res.body?.detail ?? '')}`);
    }
  }
  const unknown = items.filter(({ r }) => kindOf(r) === null);
  for (const { raw, i } of unknown) refuse(raw, `resource ${i + 1} is neither a User nor a Group (schemas)`);
  if (dead.length > 0) await deps.deadLetters.send(dead);
  deps.log.info({ path, ...summary }, 'SCIM bootstrap done');
  return summary;
}

function existingUser(service: ScimService, r: JsonObject): string | undefined {
  const byName = typeof r.userName === 'string' ? service.directory.userIdByUserName(r.userName) : undefined;
  return byName ?? (typeof r.externalId === 'string' ? service.directory.userIdByExternalId(r.externalId) : undefined);
}

function existingGroup(service: ScimService, r: JsonObject): string | undefined {
  if (typeof r.displayName !== 'string') return undefined;
  const wanted = r.displayName.toLowerCase();
  for (const g of service.directory.groups.values()) {
    if (!g.deleted && String(g.resource.displayName).toLowerCase() === wanted) return g.id;
  }
  return undefined;
}

function mapManager(body: JsonObject, ids: Map<string, string>): void {
  const ext = Object.entries(body).find(([k]) => k.toLowerCase() === ENTERPRISE_SCHEMA.toLowerCase())?.[1];
  if (!isObject(ext) || !isObject(ext.manager) || typeof ext.manager.value !== 'string') return;
  const mapped = ids.get(ext.manager.value);
  (ext.manager as JsonObject).value = (mapped ?? ext.manager.value) as Json;
}
