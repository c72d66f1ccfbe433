// A multimap from a lookup key (an alias, a serial, an IP) to the entity ids
// that ever carried it. Most keys name one entity, so a lone id is stored as a
// string and only shared keys pay for an array: this is most of the store's
// memory at 100k+ identities.

const NONE: readonly string[] = Object.freeze([]);

export class IdIndex {
  readonly #ids = new Map<string, string | string[]>();

  add(key: string, id: string): void {
    const current = this.#ids.get(key);
    if (current === undefined) this.#ids.set(key, id);
    else if (typeof current === 'string') {
      if (current !== id) this.#ids.set(key, [current, id]);
    } else if (!current.includes(id)) current.push(id);
  }

  delete(key: string, id: string): void {
    const current = this.#ids.get(key);
    if (current === undefined) return;
    if (typeof current === 'string') {
      if (current === id) this.#ids.delete(key);
      return;
    }
    const at = current.indexOf(id);
    if (at < 0) return;
    current.splice(at, 1);
    if (current.length === 1) this.#ids.set(key, current[0]!);
  }

  get(key: string): readonly string[] {
    const current = this.#ids.get(key);
    if (current === undefined) return NONE;
    return typeof current === 'string' ? [current] : current;
  }

  get size(): number {
    return this.#ids.size;
  }
}

/** Writes of an index: the versioned table maintains it through these. */
export interface IndexWriter<K = string> {
  add(key: K, id: string): void;
  delete(key: K, id: string): void;
}

/** A person alias as indexed: its kind and its match key (#schemas aliasMatchKey). */
export interface AliasKey {
  kind: string;
  value: string;
}

/**
 * Aliases by kind, written and read by (kind, value): no composite
 * '<kind>\0<value>' string is built per lookup (hot) nor kept per key (a
 * slice of one would hold the whole composite for as long as the key lives).
 */
export class AliasIndex implements IndexWriter<AliasKey> {
  readonly #byKind = new Map<string, IdIndex>();

  /** The key's identity when a table compares versions' keys (on a replace or removal only). */
  static name(key: AliasKey): string {
    return `${key.kind}\u0000${key.value}`;
  }

  add(key: AliasKey, id: string): void {
    let index = this.#byKind.get(key.kind);
    if (!index) this.#byKind.set(key.kind, (index = new IdIndex()));
    index.add(key.value, id);
  }

  delete(key: AliasKey, id: string): void {
    this.#byKind.get(key.kind)?.delete(key.value, id);
  }

  get(kind: string, value: string): readonly string[] {
    return this.#byKind.get(kind)?.get(value) ?? NONE;
  }
}
