// The `unmapped` JSON of an event: the source fields no column took, kept
// queryable but bounded. `raw` always holds the record whole, so what does
// not fit here is replaced by a marker saying what was left out, rather than
// making the whole event too large for Kafka or too deep for the consumers
// that parse it again.
import { MAX_RECORD_BYTES } from '#schemas';
import { stringifyJson } from '#source';

/** Levels of nesting kept under a field; deeper containers become a marker. */
export const UNMAPPED_MAX_DEPTH = 32;
/** Ceiling of the unmapped text, whatever the raw size. */
export const UNMAPPED_MAX_BYTES = 256 * 1024;
/** Room kept in a record for everything but raw and unmapped (ids, actor, targets). */
const RECORD_MARGIN_BYTES = 64 * 1024;

/** Bytes unmapped may take next to a raw payload of `rawBytes`, so the record stays under the Kafka limit. */
export function unmappedBudget(rawBytes: number): number {
  return Math.max(0, Math.min(UNMAPPED_MAX_BYTES, MAX_RECORD_BYTES - RECORD_MARGIN_BYTES - rawBytes));
}

const omitted = (why: string) => JSON.stringify({ tether_omitted: why });

/**
 * JSON of `fields` without null/undefined values, each nested at most
 * UNMAPPED_MAX_DEPTH levels, within `budget` bytes: the largest values are
 * replaced by markers first; if the field names alone do not fit, one marker
 * stands for all. `flags` (Tether's annotations) are added last, always.
 * Tether's annotations are the only tether_* keys: a source field so named
 * is kept as source.tether_*, so it cannot pose as one.
 */
export function unmappedJson(fields: Record<string, unknown>, budget: number, flags: readonly string[] = []): string {
  const entries = Object.entries(fields);
  const clean = entries.every(([k, v]) => v !== undefined && v !== null && !k.startsWith('tether_'));
  const kept = clean
    ? fields
    : Object.fromEntries(entries.filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => [k.startsWith('tether_') ? `source.${k}` : k, v]));
  // The common case, natively: shallow enough and within budget.
  if (!deeperThan(kept, UNMAPPED_MAX_DEPTH + 1)) {
    const text = JSON.stringify(kept);
    if (Buffer.byteLength(text) <= budget) return flags.length === 0 ? text : withFlags(text, flags);
  }
  return boundedJson(kept, budget, flags);
}

function withFlags(objectText: string, flags: readonly string[]): string {
  return `${objectText.slice(0, -1)}${objectText === '{}' ? '' : ','}"tether_flags":${JSON.stringify(flags)}}`;
}

/** Whether `value` has containers nested more than `levels` deep (the top object is level 1). */
function deeperThan(value: unknown, levels: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, level] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (level > levels) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, level + 1]);
  }
  return false;
}

function boundedJson(fields: Record<string, unknown>, budget: number, flags: readonly string[]): string {
  const entries: { key: string; value: string; bytes: number }[] = [];
  let truncated = false;
  for (const [key, v] of Object.entries(fields)) {
    const value = stringifyJson(v, {
      maxDepth: UNMAPPED_MAX_DEPTH,
      tooDeep: () => {
        truncated = true;
        return omitted(`nested deeper than ${UNMAPPED_MAX_DEPTH} levels`);
      },
    });
    if (value === undefined) continue;
    const name = JSON.stringify(key);
    entries.push({ key: name, value, bytes: Buffer.byteLength(name) + Buffer.byteLength(value) + 2 });
  }
  let total = entries.reduce((sum, e) => sum + e.bytes, 2);
  if (total > budget) {
    truncated = true;
    for (const e of [...entries].sort((a, b) => b.bytes - a.bytes)) {
      if (total <= budget) break;
      const marker = omitted(`${Buffer.byteLength(e.value)} bytes`);
      const saved = Buffer.byteLength(e.value) - Buffer.byteLength(marker);
      if (saved <= 0) break;
      total -= saved;
      e.value = marker;
    }
  }
  const allFlags = truncated ? [...flags, 'unmapped_truncated'] : [...flags];
  const parts =
    total > budget
      ? [`"tether_omitted":${JSON.stringify(`${entries.length} fields`)}`]
      : entries.map((e) => `${e.key}:${e.value}`);
  if (allFlags.length > 0) parts.push(`"tether_flags":${JSON.stringify(allFlags)}`);
  return `{${parts.join(',')}}`;
}
