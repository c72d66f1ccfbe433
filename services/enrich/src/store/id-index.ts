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
export interface IndexWriter {
  add(key: string, id: string): void;
  delete(key: string, id: string): void;
}

/**
 * Aliases by kind: written with '<kind>\0<value>' keys (rare), read by
 * (kind, value) without building a composite string per lookup (hot).
 */
export class AliasIndex implements IndexWriter {
  readonly #byKind = new Map<string, IdIndex>();

  static key(kind: string, value: string): string {
    return `${kind}\u0000${value}`;
  }

  add(key: string, id: string): void {
    const [kind, value] = split(key);
    let index = this.#byKind.get(kind);
    if (!index) this.#byKind.set(kind, (index = new IdIndex()));
    index.add(value, id);
  }

  delete(key: string, id: string): void {
    const [kind, value] = split(key);
    this.#byKind.get(kind)?.delete(value, id);
  }

  get(kind: string, value: string): readonly string[] {
    return this.#byKind.get(kind)?.get(value) ?? NONE;
  }
}

function split(key: string): [string, string] {
  const at = key.indexOf('\u0000');
  return [key.slice(0, at), key.slice(at + 1)];
}
