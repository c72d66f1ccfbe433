// Rebuilds the SCIM state at start from what the service itself wrote: the
// latest SCIM version of every User on tether.identity.users and of every
// Group on tether.identity.groups (each carries the resource it served in
// directory_record). Other writers' directory versions on the same topic (a
// CSV import, an IdP history import) are indexed by their external ids and
// employee numbers, so a User provisioned now joins the person they named.
// Tombstones are not followed: the service never writes them, and one that
// removed a User's latest version would leave the state one version ahead.
import { isRetriable } from '#errors';
import { readToEnd, type KafkaClient } from '#kafka';
import type { Logger } from '#log';
import { KnownPeopleIndex, type Codec, type GroupVersion, type PersonVersion } from '#schemas';
import { isObject, type JsonObject } from './canonical.ts';
import { Directory, type GroupEntry, type UserEntry } from './directory.ts';
import { FEED, type DirectoryRecord } from './person.ts';

interface Latest<T> {
  value: T;
  record: DirectoryRecord;
}

/** Collects the latest SCIM version per resource, then builds the Directory. */
export class DirectoryRestorer {
  readonly #users = new Map<string, Latest<PersonVersion>>();
  readonly #groups = new Map<string, Latest<GroupVersion>>();
  readonly #persons = new Map<string, PersonVersion>();
  readonly #others = new KnownPeopleIndex();
  skipped = 0;

  person(v: PersonVersion): void {
    const record = scimRecord(v.source.feed, v.directory_record);
    if (!record) {
      // Another writer's person (a CSV import, an IdP history import): a User provisioned now may be them,
      // and their latest version is the history the User's first version continues.
      if (v.record_kind !== 'directory') return;
      this.#others.note(v);
      const p = this.#persons.get(v.person_id);
      if (!p || p.valid_from <= v.valid_from) this.#persons.set(v.person_id, v);
      return;
    }
    const id = String(record.resource.id);
    // Equal times share a key, hence a partition: the later offset (read later) is the later write.
    const had = this.#users.get(id);
    if (!had || had.value.valid_from <= v.valid_from) this.#users.set(id, { value: v, record });
    const p = this.#persons.get(v.person_id);
    if (!p || p.valid_from <= v.valid_from) this.#persons.set(v.person_id, v);
  }

  group(v: GroupVersion): void {
    const record = scimRecord(v.source.feed, v.directory_record);
    if (!record) return;
    const had = this.#groups.get(v.group_id);
    if (!had || had.value.valid_from <= v.valid_from) this.#groups.set(v.group_id, { value: v, record });
  }

  build(): Directory {
    const directory = new Directory(this.#others);
    const byCreated = <T extends { record: DirectoryRecord }>(entries: Iterable<T>) =>
      [...entries].sort((a, b) => created(a.record).localeCompare(created(b.record)) || String(a.record.resource.id).localeCompare(String(b.record.resource.id)));
    for (const { value, record } of byCreated(this.#users.values())) {
      const entry: UserEntry = {
        id: String(record.resource.id), resource: record.resource, personId: value.person_id, deleted: record.deleted,
        version: versionOf(record.resource), changedAt: value.valid_from,
      };
      directory.putUser(entry);
    }
    for (const { value, record } of byCreated(this.#groups.values())) {
      const entry: GroupEntry = { id: value.group_id, resource: record.resource, deleted: record.deleted, version: versionOf(record.resource), changedAt: value.valid_from };
      directory.putGroup(entry);
    }
    for (const v of this.#persons.values()) directory.notePerson(v);
    return directory;
  }
}

function scimRecord(feed: string, text: string | null): DirectoryRecord | undefined {
  if (feed !== FEED || text === null) return undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!isObject(parsed) || !isObject(parsed.resource) || typeof parsed.resource.id !== 'string') return undefined;
    return { resource: parsed.resource as JsonObject, deleted: parsed.deleted === true };
  } catch {
    return undefined;
  }
}

function created(record: DirectoryRecord): string {
  const meta = record.resource.meta;
  return isObject(meta) && typeof meta.created === 'string' ? meta.created : '';
}

function versionOf(resource: JsonObject): number {
  const meta = resource.meta;
  const match = isObject(meta) && typeof meta.version === 'string' ? /^W\/"(\d+)"$/.exec(meta.version) : null;
  return match ? Number(match[1]) : 1;
}

/** Decodes and collects the identity topics' SCIM versions into a Directory; a record that does not decode is skipped (and counted). */
export async function restoreDirectory(options: {
  client: KafkaClient; codec: Codec; usersTopic: string; groupsTopic: string; groupId: string; log: Logger;
}): Promise<{ directory: Directory; records: number; undecodable: number }> {
  const restorer = new DirectoryRestorer();
  let undecodable = 0;
  const { records } = await readToEnd(options.client, {
    topics: [options.usersTopic, options.groupsTopic],
    groupId: options.groupId,
    onBatch: async (batch) => {
      for (const m of batch.messages) {
        if (m.value === null) continue;
        try {
          if (m.topic === options.usersTopic) restorer.person(await options.codec.decode('identityUsers', m.value));
          else restorer.group(await options.codec.decode('identityGroups', m.value));
        } catch (err) {
          // Registry outages are retried by failing the start; a record no schema reads is another writer's problem (enrich dead-letters it).
          if (isRetriable(err)) throw err;
          undecodable++;
        }
      }
    },
  });
  if (undecodable > 0) options.log.warn({ undecodable }, 'identity records that do not decode were skipped while restoring SCIM state');
  return { directory: restorer.build(), records, undecodable };
}
