// The fields a rule may name: every field of EnrichedAccessEvent by its
// dotted path (walked from the Avro schema, so the catalogue follows the
// contract), plus a few derived fields that rules would otherwise spell out
// again and again. A path through an array of records is a list field:
// `nhi_chain.kind` is the kinds of every link, in order.
//
// Accessors are compiled once per path; they never evaluate rule text.
import { loadSchemas, normaliseIp, type EnrichedAccessEvent } from '#schemas';

export type ScalarType = 'string' | 'number' | 'boolean' | 'time';
export type FieldType = ScalarType | 'record';

export interface FieldSpec {
  path: string;
  type: FieldType;
  /** The value is a list (an array, or a field under an array of records). */
  list: boolean;
  nullable: boolean;
  doc: string;
}

export type FieldValue = string | number | boolean | null | readonly (string | number | boolean | null)[] | object;
export type Accessor = (event: EnrichedAccessEvent) => FieldValue;

interface AvroField {
  name: string;
  type: unknown;
  doc?: string;
}

/** Fields rules do not read: the original bytes (use the mapped fields). */
const EXCLUDED = new Set(['event.raw']);

function walk(type: unknown, path: string, list: boolean, nullable: boolean, doc: string, out: Map<string, FieldSpec>): void {
  if (Array.isArray(type)) {
    const inner = type.filter((t) => t !== 'null');
    walk(inner.length === 1 ? inner[0] : inner, path, list, nullable || type.includes('null'), doc, out);
    return;
  }
  if (typeof type === 'string') {
    const scalar: Record<string, ScalarType> = { string: 'string', boolean: 'boolean', int: 'number', long: 'number', float: 'number', double: 'number' };
    const t = scalar[type];
    if (t && !EXCLUDED.has(path)) out.set(path, { path, type: t, list, nullable, doc });
    return;
  }
  const t = type as { type: string; logicalType?: string; fields?: AvroField[]; items?: unknown };
  if (t.type === 'long' && t.logicalType === 'timestamp-millis') {
    out.set(path, { path, type: 'time', list, nullable, doc });
  } else if (t.type === 'record') {
    if (path) out.set(path, { path, type: 'record', list, nullable, doc });
    // A field of a nullable record is null when the record is.
    for (const f of t.fields ?? []) walk(f.type, path ? `${path}.${f.name}` : f.name, list, nullable, f.doc ?? '', out);
  } else if (t.type === 'array') {
    walk(t.items, path, true, false, doc, out);
  } else {
    walk(t.type, path, list, nullable, doc, out);
  }
}

interface Derived {
  spec: Omit<FieldSpec, 'path'>;
  get: Accessor;
}

/** `a.b.c.0/24` for IPv4, the first four groups `/64` for IPv6: "a network" for first-seen rules. */
export function ipNetwork(value: string | null): string | null {
  const ip = value === null ? null : normaliseIp(value);
  if (ip === null) return null;
  if (!ip.includes(':')) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function ownerLink(e: EnrichedAccessEvent) {
  return e.nhi_chain.find((l) => l.kind === 'person');
}

export const DERIVED: Readonly<Record<string, Derived>> = {
  'derived.nhi_id': {
    spec: { type: 'string', list: false, nullable: true, doc: 'Id of the first link of the owner chain: the key, service account or connector that acted.' },
    get: (e) => e.nhi_chain[0]?.id ?? null,
  },
  'derived.nhi_kind': {
    spec: { type: 'string', list: false, nullable: true, doc: 'Kind of that first link (api_key, service_account, connector, ...).' },
    get: (e) => e.nhi_chain[0]?.kind ?? null,
  },
  'derived.nhi_status': {
    spec: { type: 'string', list: false, nullable: true, doc: 'Status of that first link as of the event (active, revoked, granted, ...).' },
    get: (e) => e.nhi_chain[0]?.status ?? null,
  },
  'derived.owner_person_id': {
    spec: { type: 'string', list: false, nullable: true, doc: 'The person the owner chain ends in, when it does.' },
    get: (e) => ownerLink(e)?.id ?? null,
  },
  'derived.owner_status': {
    spec: { type: 'string', list: false, nullable: true, doc: "That owner's lifecycle state as of the event (active, inactive, suspended, ...)." },
    get: (e) => ownerLink(e)?.status ?? null,
  },
  'derived.reason_codes': {
    spec: { type: 'string', list: true, nullable: false, doc: "attribution.reasons without their ': detail' part." },
    get: (e) => e.attribution.reasons.map((r) => {
      const colon = r.indexOf(': ');
      return colon === -1 ? r : r.slice(0, colon);
    }),
  },
  'derived.ip_network': {
    spec: { type: 'string', list: false, nullable: true, doc: 'The /24 (IPv4) or /64 (IPv6) network of event.src.ip; null when it is not an IP.' },
    get: (e) => ipNetwork(e.event.src.ip),
  },
  'derived.actor_ref': {
    spec: { type: 'string', list: false, nullable: true, doc: "The actor's first identifier: email, platform user id, API key, service account or OAuth client id." },
    get: (e) => {
      const a = e.event.actor;
      return a.email ?? a.platform_user_id ?? a.api_key_id ?? a.service_account_id ?? a.oauth_client_id ?? null;
    },
  },
};

function buildCatalogue(): ReadonlyMap<string, FieldSpec> {
  const out = new Map<string, FieldSpec>();
  walk(loadSchemas().schemas.get('EnrichedAccessEvent'), '', false, false, '', out);
  for (const [path, d] of Object.entries(DERIVED)) out.set(path, { path, ...d.spec });
  return out;
}

export const FIELDS: ReadonlyMap<string, FieldSpec> = buildCatalogue();

/** A getter for a catalogued path; arrays along the way flatten into one list. */
export function accessor(path: string): Accessor {
  const derived = DERIVED[path];
  if (derived) return derived.get;
  const spec = FIELDS.get(path);
  if (!spec) throw new Error(`unknown field ${path}`);
  const segments = path.split('.');
  if (!spec.list) {
    return (event) => {
      let v: unknown = event;
      for (const s of segments) {
        if (v === null || v === undefined) return null;
        v = (v as Record<string, unknown>)[s];
      }
      return (v ?? null) as FieldValue;
    };
  }
  return (event) => {
    let values: unknown[] = [event];
    for (const s of segments) {
      const next: unknown[] = [];
      for (const v of values) {
        if (v === null || v === undefined) continue;
        const inner = (v as Record<string, unknown>)[s];
        if (Array.isArray(inner)) next.push(...(inner as unknown[]));
        else next.push(inner ?? null);
      }
      values = next;
    }
    return values as FieldValue;
  };
}

/** Catalogued paths within two edits of an unknown one (or ending in the same name), for the error message. */
export function suggestFields(path: string, max = 3): string[] {
  const last = path.split('.').at(-1) ?? path;
  const scored = [...FIELDS.keys()]
    .map((p) => ({ p, d: editDistance(p, path) }))
    .filter(({ p, d }) => d <= 2 || p.endsWith(`.${last}`))
    .sort((a, b) => a.d - b.d);
  return scored.slice(0, max).map(({ p }) => p);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
