// Identity records are held for as long as the process runs, 100k+ of them:
// values that repeat across records (kinds, states, departments, sources,
// managers, parent ids, client ids) are interned so each distinct string is
// stored once; values mostly unique to a record are left alone (interning
// them would only add a pool entry). The source's own change-time text,
// which enrichment never reads, is dropped.
import type { ConnectorVersion, DeviceVersion, IdentitySource, NonHumanIdentityVersion, PersonVersion } from '#schemas';

export class Interner {
  readonly #pool = new Map<string, string>();

  of<T extends string | null>(value: T): T {
    if (value === null) return value;
    const known = this.#pool.get(value);
    if (known !== undefined) return known as T;
    this.#pool.set(value, value);
    return value;
  }

  get size(): number {
    return this.#pool.size;
  }
}

function compactSource(source: IdentitySource, pool: Interner): void {
  source.platform = pool.of(source.platform);
  source.feed = pool.of(source.feed);
  source.source_time = null;
}

export function compactPerson(v: PersonVersion, pool: Interner): PersonVersion {
  compactSource(v.source, pool);
  v.record_kind = pool.of(v.record_kind);
  v.lifecycle_state = pool.of(v.lifecycle_state);
  v.department = pool.of(v.department);
  v.title = pool.of(v.title);
  v.platform_role = pool.of(v.platform_role);
  v.manager_person_id = pool.of(v.manager_person_id);
  for (const alias of v.aliases) alias.kind = pool.of(alias.kind);
  return v;
}

export function compactDevice(v: DeviceVersion, pool: Interner): DeviceVersion {
  compactSource(v.source, pool);
  v.os = pool.of(v.os);
  return v;
}

export function compactNhi(v: NonHumanIdentityVersion, pool: Interner): NonHumanIdentityVersion {
  compactSource(v.source, pool);
  v.kind = pool.of(v.kind);
  v.platform = pool.of(v.platform);
  v.status = pool.of(v.status);
  v.parent_nhi_id = pool.of(v.parent_nhi_id);
  return v;
}

export function compactConnector(v: ConnectorVersion, pool: Interner): ConnectorVersion {
  compactSource(v.source, pool);
  v.provider = pool.of(v.provider);
  v.client_id = pool.of(v.client_id);
  v.app_name = pool.of(v.app_name);
  v.status = pool.of(v.status);
  v.ai_classification = pool.of(v.ai_classification);
  v.scopes = v.scopes.map((s) => pool.of(s));
  return v;
}
