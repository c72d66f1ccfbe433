// The identity tables every enrich instance holds in full (GlobalKTable-style):
// people and platform accounts, devices, non-human identities and connector
// grants, each with its version history and the alias indexes lookups need.
// Records come from the compacted identity topics keyed '<id>@<valid_from>'.
import { tetherError } from '#errors';
import {
  aliasMatchKey, hostnameKeys, normaliseExternalId, normaliseIp, normaliseSerial,
  type ConnectorVersion, type DeviceVersion, type NonHumanIdentityVersion, type PersonVersion,
} from '#schemas';
import { AliasIndex, IdIndex, type AliasKey } from './id-index.ts';
import { Interner, compactConnector, compactDevice, compactNhi, compactPerson, shared } from './compact.ts';
import { VersionedTable, type PutOutcome } from './versioned-table.ts';

export type IdentityRole = 'identityUsers' | 'identityDevices' | 'identityNhi' | 'identityConnectors';

export const IDENTITY_ROLES: readonly IdentityRole[] = ['identityUsers', 'identityDevices', 'identityNhi', 'identityConnectors'];

export interface IdentityRecords {
  identityUsers: PersonVersion;
  identityDevices: DeviceVersion;
  identityNhi: NonHumanIdentityVersion;
  identityConnectors: ConnectorVersion;
}

type AnyIdentity = IdentityRecords[IdentityRole];

export type ApplyOutcome = PutOutcome | 'removed' | 'absent';

/** What resolution reads: versions as of a time, and ids that ever carried a key. */
export interface IdentityView {
  person(id: string, t: number): PersonVersion | undefined;
  personHistory(id: string): readonly PersonVersion[];
  /** Directory people and platform accounts that ever carried the alias by its match key (#schemas aliasMatchKey; kind email also covers the email field); none for a value that names nothing. */
  personIdsByAlias(kind: string, value: string): readonly string[];
  nhi(id: string, t: number): NonHumanIdentityVersion | undefined;
  nhiHistory(id: string): readonly NonHumanIdentityVersion[];
  nhiIdsByPlatformId(platform: string, platformId: string): readonly string[];
  connector(id: string, t: number): ConnectorVersion | undefined;
  connectorHistory(id: string): readonly ConnectorVersion[];
  connectorIdsByClient(provider: string, clientId: string): readonly string[];
  device(id: string, t: number): DeviceVersion | undefined;
  /** Every version of a device, by valid_from, whichever source wrote it. */
  deviceHistory(id: string): readonly DeviceVersion[];
  deviceIdsBySerial(serial: string): readonly string[];
  deviceIdsByHostname(hostname: string): readonly string[];
  deviceIdsByIp(ip: string): readonly string[];
}

export interface IdentityCounts {
  people: number;
  devices: number;
  nhi: number;
  connectors: number;
  versions: number;
}

const SEP = '\u0000';
const NONE: readonly string[] = Object.freeze([]);

/**
 * valid_from must be epoch milliseconds between 1970 and 2200. Identity
 * versions date from the sources' change times, so anything outside is a unit
 * or sign error (microseconds land in the year 55,000; -1 is a missing date)
 * that would either never hold or hold for ever: refused to the DLQ, where it
 * is visible, rather than kept where it silently changes nothing or everything.
 * Future dates inside the range are real (a pre-hire, a scheduled change).
 */
export const VALID_FROM_MAX = Date.UTC(2200, 0, 1);

/** The alias keys a person version is found by; a key equal to the value it came from is that same string. */
export function personAliasKeys(v: PersonVersion): AliasKey[] {
  const keys: AliasKey[] = [];
  const add = (kind: string, value: string | null) => {
    const key = value === null ? null : aliasMatchKey(kind, value);
    if (key !== null) keys.push({ kind, value: shared(key, value) });
  };
  add('email', v.email);
  for (const alias of v.aliases) add(alias.kind, alias.value);
  return keys;
}

/** '<platform>\0<id>' for the NHI and connector indexes; null for a blank id. */
function platformKey(platform: string, id: string): string | null {
  const key = normaliseExternalId(id);
  return key === null ? null : `${platform.toLowerCase()}${SEP}${key}`;
}

const asKeys = (key: string | null): string[] => (key === null ? [] : [key]);

export class IdentityStore implements IdentityView {
  readonly #personAliases = new AliasIndex();
  readonly #pool = new Interner();
  readonly #nhiByPlatformId = new IdIndex();
  readonly #connectorsByClient = new IdIndex();
  readonly #devicesBySerial = new IdIndex();
  readonly #devicesByHostname = new IdIndex();
  readonly #devicesByIp = new IdIndex();

  readonly #people = new VersionedTable<PersonVersion>({
    indexers: [{ index: this.#personAliases, keys: personAliasKeys, name: AliasIndex.name }],
  });
  readonly #nhi = new VersionedTable<NonHumanIdentityVersion>({
    indexers: [{ index: this.#nhiByPlatformId, keys: (v) => asKeys(platformKey(v.platform, v.platform_id)) }],
  });
  readonly #connectors = new VersionedTable<ConnectorVersion>({
    indexers: [{ index: this.#connectorsByClient, keys: (v) => asKeys(platformKey(v.provider, v.client_id)) }],
  });
  readonly #devices = new VersionedTable<DeviceVersion>({
    indexers: [
      { index: this.#devicesBySerial, keys: (v) => asKeys(shared(normaliseSerial(v.serial), v.serial)) },
      { index: this.#devicesByHostname, keys: (v) => hostnameKeys(v.hostname).map((key) => shared(key, v.hostname)) },
      { index: this.#devicesByIp, keys: (v) => v.ip_addresses.flatMap((ip) => asKeys(shared(normaliseIp(ip), ip))) },
    ],
  });

  #generation = 0;

  /** Bumps on every change that can alter a resolution; the late buffer re-tries on it. */
  get generation(): number {
    return this.#generation;
  }

  counts(): IdentityCounts {
    return {
      people: this.#people.size,
      devices: this.#devices.size,
      nhi: this.#nhi.size,
      connectors: this.#connectors.size,
      versions: this.#people.versionCount + this.#devices.versionCount + this.#nhi.versionCount + this.#connectors.versionCount,
    };
  }

  /**
   * Applies one record from an identity topic: a version (value) or a
   * tombstone (null value) removing the version its key names. The store
   * takes ownership of `value` (it is compacted in place). The key must
   * be versionKey(id, valid_from) of the value: a record whose key and value
   * disagree could never be removed by its tombstone, so it is refused.
   */
  apply<R extends IdentityRole>(role: R, key: string | null, value: IdentityRecords[R] | null): ApplyOutcome {
    if (value === null) {
      if (key === null) throw invalid(role, 'a tombstone without a key names no version');
      const { id, validFrom } = parseVersionKey(role, key);
      const removed = this.#table(role).remove(id, validFrom);
      if (!removed) return 'absent';
      this.#generation++;
      return 'removed';
    }
    const id = entityId(role, value);
    if (id.trim() === '') throw invalid(role, 'the entity id is empty');
    if (!Number.isSafeInteger(value.valid_from)) throw invalid(role, `valid_from ${value.valid_from} is not an epoch-ms integer`);
    if (value.valid_from < 0 || value.valid_from > VALID_FROM_MAX) {
      throw invalid(role, `valid_from ${value.valid_from} is outside 1970..2200 in epoch ms (a unit or sign error?)`);
    }
    if (key !== null && key !== `${id}@${value.valid_from}`) {
      throw invalid(role, `key ${JSON.stringify(key)} is not '${id}@${value.valid_from}'`);
    }
    const outcome = this.#table(role).put(id, this.#compact(role, id, value));
    if (outcome !== 'unchanged') this.#generation++;
    return outcome;
  }

  /** Compacts a version in place, sharing what did not change with the entity's latest version. */
  #compact(role: IdentityRole, id: string, value: AnyIdentity): AnyIdentity {
    const previous = this.#table(role).history(id).at(-1);
    switch (role) {
      case 'identityUsers': return compactPerson(value as PersonVersion, this.#pool, previous as PersonVersion | undefined);
      case 'identityDevices': return compactDevice(value as DeviceVersion, this.#pool, previous as DeviceVersion | undefined);
      case 'identityNhi': return compactNhi(value as NonHumanIdentityVersion, this.#pool, previous as NonHumanIdentityVersion | undefined);
      case 'identityConnectors': return compactConnector(value as ConnectorVersion, this.#pool, previous as ConnectorVersion | undefined);
    }
  }

  #table(role: IdentityRole): VersionedTable<AnyIdentity> {
    // Each role's table only ever receives that role's records (apply is generic over the role).
    switch (role) {
      case 'identityUsers': return this.#people as unknown as VersionedTable<AnyIdentity>;
      case 'identityDevices': return this.#devices as unknown as VersionedTable<AnyIdentity>;
      case 'identityNhi': return this.#nhi as unknown as VersionedTable<AnyIdentity>;
      case 'identityConnectors': return this.#connectors as unknown as VersionedTable<AnyIdentity>;
    }
  }

  person(id: string, t: number) { return this.#people.asOf(id, t); }
  personHistory(id: string) { return this.#people.history(id); }
  personIdsByAlias(kind: string, value: string) {
    const key = aliasMatchKey(kind, value);
    return key === null ? NONE : this.#personAliases.get(kind, key);
  }
  nhi(id: string, t: number) { return this.#nhi.asOf(id, t); }
  nhiHistory(id: string) { return this.#nhi.history(id); }
  nhiIdsByPlatformId(platform: string, platformId: string) { const key = platformKey(platform, platformId); return key === null ? NONE : this.#nhiByPlatformId.get(key); }
  connector(id: string, t: number) { return this.#connectors.asOf(id, t); }
  connectorHistory(id: string) { return this.#connectors.history(id); }
  connectorIdsByClient(provider: string, clientId: string) { const key = platformKey(provider, clientId); return key === null ? NONE : this.#connectorsByClient.get(key); }
  device(id: string, t: number) { return this.#devices.asOf(id, t); }
  deviceHistory(id: string) { return this.#devices.history(id); }
  deviceIdsBySerial(serial: string) { const s = normaliseSerial(serial); return s === null ? NONE : this.#devicesBySerial.get(s); }
  /** Devices that carried the hostname, else (for a fully qualified hint) its short form. */
  deviceIdsByHostname(hostname: string) {
    for (const key of hostnameKeys(hostname)) {
      const ids = this.#devicesByHostname.get(key);
      if (ids.length > 0) return ids;
    }
    return NONE;
  }
  deviceIdsByIp(ip: string) { const key = normaliseIp(ip); return key === null ? NONE : this.#devicesByIp.get(key); }
}

function entityId(role: IdentityRole, value: IdentityRecords[IdentityRole]): string {
  switch (role) {
    case 'identityUsers': return (value as PersonVersion).person_id;
    case 'identityDevices': return (value as DeviceVersion).device_id;
    case 'identityNhi': return (value as NonHumanIdentityVersion).nhi_id;
    case 'identityConnectors': return (value as ConnectorVersion).connector_id;
  }
}

/** '<id>@<valid_from>': ids may themselves hold '@' (connector ids end in an email), so split at the last one. */
export function parseVersionKey(role: IdentityRole, key: string): { id: string; validFrom: number } {
  const at = key.lastIndexOf('@');
  const validFrom = at > 0 ? Number(key.slice(at + 1)) : Number.NaN;
  if (!/^-?\d+$/.test(key.slice(at + 1)) || !Number.isSafeInteger(validFrom)) {
    throw invalid(role, `key ${JSON.stringify(key)} is not '<id>@<valid_from>'`);
  }
  return { id: key.slice(0, at), validFrom };
}

function invalid(role: IdentityRole, message: string) {
  return tetherError('TETHER_IDENTITY_INVALID', `${role} record refused: ${message}`, { context: { role } });
}
