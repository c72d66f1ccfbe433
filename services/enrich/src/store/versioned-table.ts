// Per-entity version history ordered by valid_from: the versioned state store
// a temporal join reads "as of t" (Kafka Streams KIP-889). Versions may arrive
// in any order; re-emitting a version is idempotent; a tombstone removes one
// version. Indexers keep lookup keys (aliases, serials, IPs) pointing at every
// entity that ever carried them; callers check the version as of t.
import type { IndexWriter } from './id-index.ts';

export interface Versioned {
  valid_from: number;
}

export interface Indexer<V, K = string> {
  index: IndexWriter<K>;
  keys(version: V): Iterable<K>;
  /** A key's identity when the keys of versions are compared (on a replace or removal); string keys are their own. */
  name?(key: K): string;
}

export type PutOutcome = 'added' | 'replaced' | 'unchanged';

export class VersionedTable<V extends Versioned> {
  readonly #byId = new Map<string, V[]>();
  readonly #indexers: readonly Indexer<V, unknown>[];
  readonly #same: (a: V, b: V) => boolean;
  #versions = 0;

  constructor(options: { indexers?: readonly Indexer<V, unknown>[]; same?: (a: V, b: V) => boolean } = {}) {
    this.#indexers = options.indexers ?? [];
    this.#same = options.same ?? ((a, b) => JSON.stringify(a) === JSON.stringify(b));
  }

  /** Inserts the version of `id` at `version.valid_from`, replacing one with the same valid_from. */
  put(id: string, version: V): PutOutcome {
    let versions = this.#byId.get(id);
    if (!versions) {
      this.#byId.set(id, [version]);
      this.#versions++;
      this.#index(id, version);
      return 'added';
    }
    const at = upperBound(versions, version.valid_from);
    const previous = at > 0 ? versions[at - 1]! : undefined;
    if (previous && previous.valid_from === version.valid_from) {
      if (this.#same(previous, version)) return 'unchanged';
      versions[at - 1] = version;
      this.#reindex(id, versions, previous);
      return 'replaced';
    }
    // Appending is the common case (versions mostly arrive in order).
    if (at === versions.length) versions.push(version);
    else versions.splice(at, 0, version);
    this.#versions++;
    this.#index(id, version);
    return 'added';
  }

  /** Removes the version of `id` at `validFrom` (a tombstone); returns it when there was one. */
  remove(id: string, validFrom: number): V | undefined {
    const versions = this.#byId.get(id);
    if (!versions) return undefined;
    const at = upperBound(versions, validFrom) - 1;
    const removed = at >= 0 ? versions[at] : undefined;
    if (!removed || removed.valid_from !== validFrom) return undefined;
    versions.splice(at, 1);
    this.#versions--;
    if (versions.length === 0) this.#byId.delete(id);
    this.#reindex(id, versions, removed);
    return removed;
  }

  /** The version that held at `t`: the latest with valid_from <= t; undefined before the first. */
  asOf(id: string, t: number): V | undefined {
    const versions = this.#byId.get(id);
    if (!versions) return undefined;
    const at = upperBound(versions, t);
    return at > 0 ? versions[at - 1] : undefined;
  }

  /** Every version of `id`, oldest first. */
  history(id: string): readonly V[] {
    return this.#byId.get(id) ?? [];
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Number of entities. */
  get size(): number {
    return this.#byId.size;
  }

  get versionCount(): number {
    return this.#versions;
  }

  #index(id: string, version: V): void {
    for (const { index, keys } of this.#indexers) for (const key of keys(version)) index.add(key, id);
  }

  /** After a replace or removal: drop the keys no remaining version carries. */
  #reindex(id: string, remaining: readonly V[], gone: V): void {
    for (const { index, keys, name = (key: unknown) => key as string } of this.#indexers) {
      const kept = new Map<string, unknown>();
      for (const version of remaining) for (const key of keys(version)) kept.set(name(key), key);
      for (const key of keys(gone)) if (!kept.has(name(key))) index.delete(key, id);
      for (const key of kept.values()) index.add(key, id);
    }
  }
}

/** Index of the first version whose valid_from is greater than t. */
function upperBound(versions: readonly Versioned[], t: number): number {
  let lo = 0;
  let hi = versions.length;
  if (hi > 0 && versions[hi - 1]!.valid_from <= t) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (versions[mid]!.valid_from <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
