// The connector inventory as a source's fold (`EventFold` of #source): every
// grant event the source emits goes through the ledger
// (connector-versions.ts) and the ConnectorVersions it makes go out with the
// event, in the same page.
//
// Where the ledger lives: in checkpoints of its own, split into
// LEDGER_SHARDS by connector id (`<source>/connectors/<shard>`), saved with
// every page that changed them, before the page's own checkpoint. Chosen over
// rebuilding it from tether.identity.connectors at start because the ledger
// holds what the versions do not (each transition's event id, the uses per
// hour that recompute last_used_at when history is re-cut, the keys already
// out); the connectors topic is also shared with every other writer and
// compacted. Only changed shards are written, so a page costs the connectors
// it touched, not the whole inventory. A shard saved ahead of its page's
// records is harmless: a record applied again re-emits its versions.
import { createHash } from 'node:crypto';
import type { Catalogue } from '#catalogue';
import type { EventFold, OutRecord } from '#source';
import { connectorId, connectorRecord, applyGrantEvent, emptyLedger, type ConnectorLedger, type ConnectorState, type Transition } from './connector-versions.ts';
import { subjectKey, subjectOf } from '../normalise/grant-event.ts';

export const LEDGER_SHARDS = 16;

/** A use moves last_used_at on the topic at most once per this (the version is re-emitted then). */
export const DEFAULT_USE_RESOLUTION_MS = 3_600_000;

export interface ConnectorFoldOptions {
  /** The source's name: the checkpoints are `<source>/connectors/<n>`. */
  source: string;
  catalogue: Catalogue;
  useResolutionMs?: number;
}

interface Shard {
  connectors: Record<string, ConnectorState>;
  clientRevokes: Record<string, Transition[]>;
}

export function shardOf(key: string): number {
  return createHash('sha1').update(key).digest().readUInt16BE(0) % LEDGER_SHARDS;
}

export function ledgerCheckpointId(source: string, shard: number): string {
  return `${source}/connectors/${String(shard).padStart(2, '0')}`;
}

export interface ConnectorFold extends EventFold {
  /** The ledger (tests, bench). */
  readonly ledger: ConnectorLedger;
}

export function connectorFold(options: ConnectorFoldOptions): ConnectorFold {
  const ledger = emptyLedger();
  const dirty = new Set<number>();
  const ledgerOptions = { catalogue: options.catalogue, useResolutionMs: options.useResolutionMs ?? DEFAULT_USE_RESOLUTION_MS };

  // Which shard each id is in, computed once per id.
  const shards = new Map<string, number>();
  const shardOfId = (id: string) => {
    let n = shards.get(id);
    if (n === undefined) shards.set(id, (n = shardOf(id)));
    return n;
  };

  /** The dirty shards' contents, in one pass over the ledger. */
  function dirtyContents(): Map<number, Shard> {
    const out = new Map<number, Shard>([...dirty].map((n) => [n, { connectors: {}, clientRevokes: {} }]));
    for (const [id, state] of Object.entries(ledger.connectors)) {
      const shard = out.get(shardOfId(id));
      if (shard) shard.connectors[id] = state;
    }
    for (const [key, list] of Object.entries(ledger.clientRevokes)) {
      const shard = out.get(shardOfId(key));
      if (shard) shard.clientRevokes[key] = list;
    }
    return out;
  }

  return {
    ledger,
    restore(get) {
      for (let shard = 0; shard < LEDGER_SHARDS; shard++) {
        const text = get(ledgerCheckpointId(options.source, shard));
        if (text === undefined) continue;
        let saved: Partial<Shard>;
        try {
          saved = JSON.parse(text) as Partial<Shard>;
        } catch {
          // A shard that does not parse starts empty: later events rebuild what they touch.
          continue;
        }
        Object.assign(ledger.connectors, saved.connectors ?? {});
        Object.assign(ledger.clientRevokes, saved.clientRevokes ?? {});
      }
    },
    apply(event) {
      const versions = applyGrantEvent(ledger, event, ledgerOptions);
      // What the step may have changed: the event's own connector (a use moves its last use without
      // emitting), every connector it emitted, and an app-wide revoke's list.
      const subject = subjectOf(event);
      const key = subject === null ? null : subjectKey(subject);
      if (event.connector && key !== null && subject?.kind !== 'every') dirty.add(shardOfId(connectorId(event.connector.provider, event.connector.client_id, key)));
      if (event.connector && subject?.kind === 'every') dirty.add(shardOfId(`${event.connector.provider}\u0000${event.connector.client_id}`));
      for (const v of versions) dirty.add(shardOfId(v.connector_id));
      return versions.map((v): OutRecord => connectorRecord(v));
    },
    changed() {
      if (dirty.size === 0) return [];
      const out = [...dirtyContents()].map(([shard, content]) => ({ id: ledgerCheckpointId(options.source, shard), cursor: JSON.stringify(content) }));
      dirty.clear();
      return out;
    },
  };
}
