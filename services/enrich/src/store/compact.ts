// Identity records are held for as long as the process runs, a million of
// them. What enrichment never reads is dropped: the source's change-time text
// and observation time (so every version of a feed shares one source object),
// a directory's own record of the person (SCIM writes ~1 KB there), group
// memberships, a key's redacted value and last use. Values that repeat across
// records (kinds, states, departments, managers, parent ids, client ids) are
// interned so each distinct string is stored once. A new version shares with
// the entity's previous one every string and alias list that did not change
// (most versions change one field), and an alias whose value is the version's
// email or id is that same string. Stored versions are read, never written:
// sharing is safe.
import type { ConnectorVersion, DeviceVersion, IdentityAlias, IdentitySource, NonHumanIdentityVersion, PersonVersion } from '#schemas';

/**
 * Top-level fields of the identity records enrichment never reads, all
 * nullable: the restore does not even decode them (codec.skipping), and
 * compaction nulls them in versions that reach the store otherwise.
 */
export const UNREAD_FIELDS = {
  identityUsers: ['directory_record', 'groups'],
  identityDevices: [],
  identityNhi: ['redacted_value', 'last_used_at'],
  identityConnectors: [],
} as const satisfies {
  identityUsers: readonly (keyof PersonVersion)[];
  identityDevices: readonly (keyof DeviceVersion)[];
  identityNhi: readonly (keyof NonHumanIdentityVersion)[];
  identityConnectors: readonly (keyof ConnectorVersion)[];
};

export class Interner {
  readonly #pool = new Map<string, string>();
  readonly #sources = new Map<string, IdentitySource>();

  /** One source object per platform and feed: compacted, every version's source of a feed is the same. */
  source(platform: string, feed: string): IdentitySource {
    const key = `${platform}\u0000${feed}`;
    let known = this.#sources.get(key);
    if (!known) this.#sources.set(key, (known = { platform: this.of(platform), feed: this.of(feed), source_time: null, observed_at: 0 }));
    return known;
  }

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

/** `value`, or the first of `known` equal to it (so one string is kept, not two copies). */
export function shared<T extends string | null>(value: T, ...known: ReadonlyArray<string | null | undefined>): T {
  if (value === null) return value;
  for (const k of known) if (k === value) return k as T;
  return value;
}


function sameAliases(a: readonly IdentityAlias[], b: readonly IdentityAlias[]): boolean {
  return a.length === b.length && a.every((x, i) => x.kind === b[i]!.kind && x.value === b[i]!.value);
}

export function compactPerson(v: PersonVersion, pool: Interner, previous?: PersonVersion): PersonVersion {
  v.source = pool.source(v.source.platform, v.source.feed);
  v.directory_record = null;
  v.groups = null;
  v.person_id = shared(v.person_id, previous?.person_id);
  v.record_kind = pool.of(v.record_kind);
  v.lifecycle_state = pool.of(v.lifecycle_state);
  v.email = shared(v.email, previous?.email);
  v.display_name = shared(v.display_name, previous?.display_name);
  v.department = pool.of(v.department);
  v.title = pool.of(v.title);
  v.platform_role = pool.of(v.platform_role);
  v.manager_person_id = pool.of(v.manager_person_id);
  if (previous && sameAliases(v.aliases, previous.aliases)) {
    v.aliases = previous.aliases;
    return v;
  }
  v.aliases = v.aliases.map((alias) => {
    const kept = previous?.aliases.find((a) => a.kind === alias.kind && a.value === alias.value);
    if (kept) return kept;
    alias.kind = pool.of(alias.kind);
    alias.value = shared(alias.value, v.email, v.person_id);
    return alias;
  });
  return v;
}

export function compactDevice(v: DeviceVersion, pool: Interner, previous?: DeviceVersion): DeviceVersion {
  v.source = pool.source(v.source.platform, v.source.feed);
  v.device_id = shared(v.device_id, previous?.device_id);
  v.os = pool.of(v.os);
  v.serial = shared(v.serial, previous?.serial);
  v.hostname = shared(v.hostname, previous?.hostname);
  v.assigned_person_id = shared(v.assigned_person_id, previous?.assigned_person_id);
  v.assigned_email = shared(v.assigned_email, previous?.assigned_email);
  if (previous && v.ip_addresses.length === previous.ip_addresses.length && v.ip_addresses.every((ip, i) => ip === previous.ip_addresses[i])) {
    v.ip_addresses = previous.ip_addresses;
  }
  return v;
}

export function compactNhi(v: NonHumanIdentityVersion, pool: Interner, previous?: NonHumanIdentityVersion): NonHumanIdentityVersion {
  v.source = pool.source(v.source.platform, v.source.feed);
  v.nhi_id = shared(v.nhi_id, previous?.nhi_id);
  v.kind = pool.of(v.kind);
  v.platform = pool.of(v.platform);
  v.platform_id = shared(v.platform_id, previous?.platform_id);
  v.status = pool.of(v.status);
  v.name = shared(v.name, previous?.name);
  v.parent_nhi_id = pool.of(v.parent_nhi_id);
  v.owner_email = shared(v.owner_email, previous?.owner_email);
  v.owner_platform_user_id = shared(v.owner_platform_user_id, previous?.owner_platform_user_id);
  v.redacted_value = null;
  v.last_used_at = null;
  return v;
}

export function compactConnector(v: ConnectorVersion, pool: Interner, previous?: ConnectorVersion): ConnectorVersion {
  v.source = pool.source(v.source.platform, v.source.feed);
  v.connector_id = shared(v.connector_id, previous?.connector_id);
  v.provider = pool.of(v.provider);
  v.client_id = pool.of(v.client_id);
  v.app_name = pool.of(v.app_name);
  v.status = pool.of(v.status);
  v.ai_classification = pool.of(v.ai_classification);
  v.granted_by_email = shared(v.granted_by_email, previous?.granted_by_email);
  v.scopes = v.scopes.map((s) => pool.of(s));
  return v;
}
