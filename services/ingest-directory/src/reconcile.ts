// The checks a directory file needs as a whole, after each row was read on
// its own. Every answer depends on the set of rows, never on their order, so
// a re-sorted or re-exported file gives the same versions. Pure.
//
// - One person, one valid_from, two different versions (a duplicate row,
//   two jobs, a correction in the same second): one row wins and the other
//   goes to the DLQ. The more restrictive status wins (terminated, then
//   suspended, then active): a stale duplicate must not resurrect a leaver.
//   Between equal statuses nothing says which is right, so the row whose
//   bytes sort first wins: arbitrary, but the same for every order and every
//   re-export. Identical versions are one version listed twice: both kept.
//   One person at different times is history: every row is kept.
// - Managers are references resolved as of each version's time. By id: the
//   person id is built from it (kept even when the file does not list that
//   person: a directory exported in parts still links across parts). By
//   employee number or email: whoever in the file held it then, an active
//   holder before a leaver (a reused address names the joiner, not the
//   leaver); none or several: null, with a note. A person named as their own
//   manager is the top of the tree: null.
// - Reported, not refused (the rows are valid; the enricher reports the
//   ambiguity on the events it affects): manager cycles, and one address held
//   by two active people at once.
import { tetherError, type TetherError } from '#errors';
import { aliasMatchKey, stablePersonId, type PersonVersion } from '#schemas';
import type { Candidate, Lifecycle, ManagerRef } from './directory-row.ts';

export type NoteKind = 'manager_not_in_file' | 'manager_unknown' | 'manager_ambiguous' | 'manager_cycle' | 'email_shared';

/** Something worth an operator's look that did not refuse a row. */
export interface DirectoryNote {
  kind: NoteKind;
  line: number;
  message: string;
}

export interface Reconciled {
  /** Accepted rows' versions, managers resolved. */
  versions: Map<Candidate, PersonVersion[]>;
  /** Rows that lost to another version of the same person at the same time. */
  conflicts: Map<Candidate, TetherError>;
  notes: DirectoryNote[];
}

const RESTRICTIVENESS: Record<Lifecycle, number> = { inactive: 2, suspended: 1, active: 0 };

export function reconcile(candidates: readonly Candidate[]): Reconciled {
  const { accepted, conflicts } = settleDuplicates(candidates);
  const notes: DirectoryNote[] = [];
  const history = new History(accepted);
  const versions = new Map<Candidate, PersonVersion[]>();
  for (const c of accepted) {
    versions.set(c, c.versions.map((v) => ({ ...v, manager_person_id: resolveManager(c, v.valid_from, history, notes) })));
  }
  notes.push(...managerCycles(versions), ...sharedAddresses(versions));
  return { versions, conflicts, notes };
}

function settleDuplicates(candidates: readonly Candidate[]): { accepted: Candidate[]; conflicts: Map<Candidate, TetherError> } {
  const ranked = [...candidates].sort((a, b) => RESTRICTIVENESS[b.lifecycle] - RESTRICTIVENESS[a.lifecycle] || Buffer.compare(a.raw, b.raw));
  const held = new Map<string, { by: Candidate; version: PersonVersion }>();
  const accepted = new Set<Candidate>();
  const conflicts = new Map<Candidate, TetherError>();
  for (const c of ranked) {
    // Content is compared only where keys meet (rarely): most rows hold keys no other row has.
    const clash = c.versions
      .map((version) => ({ version, holder: held.get(`${c.personId}@${version.valid_from}`) }))
      .find(({ version, holder }) => holder !== undefined && comparable(holder.by, holder.version) !== comparable(c, version));
    if (clash) {
      const winner = clash.holder!.by;
      conflicts.set(c, tetherError(
        'TETHER_DUPLICATE_CONFLICT',
        `line ${c.line} gives ${c.personId} a different version at ${new Date(clash.version.valid_from).toISOString()} than line ${winner.line}, which was kept ` +
          (winner.lifecycle !== c.lifecycle ? `(${winner.lifecycle} outranks ${c.lifecycle})` : '(same status: the row whose bytes sort first is kept)'),
        { context: { line: c.line, keptLine: winner.line, personId: c.personId } },
      ));
      continue;
    }
    accepted.add(c);
    for (const version of c.versions) {
      const key = `${c.personId}@${version.valid_from}`;
      if (!held.has(key)) held.set(key, { by: c, version });
    }
  }
  return { accepted: candidates.filter((c) => accepted.has(c)), conflicts };
}

/**
 * A version's content for comparison, with the manager references it will
 * resolve (managers are not resolved yet). How a row spelled its time does
 * not make it a different version.
 */
function comparable(c: Candidate, v: PersonVersion): string {
  return JSON.stringify([{ ...v, source: { ...v.source, source_time: null } }, c.managerRefs]);
}

/** Each accepted person's versions in time order, and who carried an employee number or address. */
class History {
  readonly #byPerson = new Map<string, { v: PersonVersion; c: Candidate }[]>();
  readonly #carriers = new Map<string, Set<string>>();
  readonly #sorted = new Map<string, string[]>();

  constructor(accepted: readonly Candidate[]) {
    for (const c of accepted) {
      for (const v of c.versions) {
        push(this.#byPerson, c.personId, { v, c });
        for (const key of refKeys(v)) {
          const set = this.#carriers.get(key) ?? new Set();
          set.add(c.personId);
          this.#carriers.set(key, set);
        }
      }
    }
    for (const list of this.#byPerson.values()) list.sort((a, b) => a.v.valid_from - b.v.valid_from);
  }

  has(personId: string): boolean {
    return this.#byPerson.has(personId);
  }

  carriers(key: string): readonly string[] {
    const set = this.#carriers.get(key);
    if (!set) return [];
    let sorted = this.#sorted.get(key);
    if (!sorted) this.#sorted.set(key, (sorted = [...set].sort()));
    return sorted;
  }

  asOf(personId: string, t: number): PersonVersion | undefined {
    const list = this.#byPerson.get(personId) ?? [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.v.valid_from <= t) lo = mid + 1;
      else hi = mid;
    }
    return list[lo - 1]?.v;
  }
}

/** '<kind>:<match key>' (#schemas aliasMatchKey, as the enricher joins them), so a tagged manager_email finds its mailbox. */
function refKey(kind: 'email' | 'employee_number', value: string | null): string | null {
  const key = value === null ? null : aliasMatchKey(kind, value);
  return key === null ? null : `${kind}:${key}`;
}

function refKeys(v: PersonVersion): string[] {
  const keys = [refKey('email', v.email)];
  for (const a of v.aliases) if (a.kind === 'email' || a.kind === 'employee_number') keys.push(refKey(a.kind, a.value));
  return keys.filter((k) => k !== null);
}

function resolveManager(c: Candidate, t: number, history: History, notes: DirectoryNote[]): string | null {
  const unresolved: string[] = [];
  let ambiguous = false;
  for (const ref of c.managerRefs) {
    if (ref.kind === 'external_id') {
      const id = stablePersonId(c.source, { externalId: ref.value, employeeNumber: null })!;
      if (id === c.personId) return null;
      if (!history.has(id)) note(notes, 'manager_not_in_file', c, `manager ${id} (manager_external_id) is not in this file; the reference is kept`);
      return id;
    }
    const key = refKey(ref.kind, ref.value);
    const holders = key === null ? [] : history.carriers(key);
    const chosen = holders.length === 1 ? holders[0] : key === null ? undefined : holderAt(holders, key, t, history);
    if (chosen === c.personId) return null;
    if (chosen !== undefined) return chosen;
    ambiguous ||= holders.length > 0;
    unresolved.push(`${describe(ref)} ${holders.length === 0 ? 'is held by nobody in this file' : `is held by ${holders.slice(0, 5).join(', ')}${holders.length > 5 ? ` and ${holders.length - 5} more` : ''}`}`);
  }
  if (unresolved.length > 0) {
    note(notes, ambiguous ? 'manager_ambiguous' : 'manager_unknown', c, `manager of ${c.personId} not resolved: ${unresolved.join('; ')}`);
  }
  return null;
}

/** A reference carried by more people than this names nobody: it is not looked into further (a hostile file can share one address 100k times). */
const MAX_HOLDERS = 32;

/** Among several people who carried a reference: the one holding it at t, an active holder first. */
function holderAt(holders: readonly string[], key: string, t: number, history: History): string | undefined {
  if (holders.length > MAX_HOLDERS) return undefined;
  const then = holders.flatMap((id) => {
    const v = history.asOf(id, t);
    return v && refKeys(v).includes(key) ? [{ id, active: v.active }] : [];
  });
  const active = then.filter((h) => h.active);
  if (active.length === 1) return active[0]!.id;
  return active.length === 0 && then.length === 1 ? then[0]!.id : undefined;
}

function describe(ref: ManagerRef): string {
  return ref.kind === 'email' ? `manager_email ${JSON.stringify(ref.value)}` : `manager_employee_number ${JSON.stringify(ref.value)}`;
}

/** Cycles in each person's latest manager link; walked without recursion (a hostile file can chain 100k people). */
function managerCycles(versions: Map<Candidate, PersonVersion[]>): DirectoryNote[] {
  const latest = new Map<string, { v: PersonVersion; line: number }>();
  for (const [c, vs] of versions) {
    for (const v of vs) {
      const had = latest.get(v.person_id);
      if (!had || v.valid_from > had.v.valid_from) latest.set(v.person_id, { v, line: c.line });
    }
  }
  const state = new Map<string, 'walking' | 'done'>();
  const notes: DirectoryNote[] = [];
  for (const start of [...latest.keys()].sort()) {
    const path: string[] = [];
    let id: string | null = start;
    while (id !== null && latest.has(id) && !state.has(id)) {
      state.set(id, 'walking');
      path.push(id);
      id = latest.get(id)!.v.manager_person_id;
    }
    if (id !== null && state.get(id) === 'walking') {
      const cycle = path.slice(path.indexOf(id));
      const first = [...cycle].sort()[0]!;
      notes.push({ kind: 'manager_cycle', line: latest.get(first)!.line, message: `managers form a cycle: ${rotate(cycle, first).join(' -> ')} -> ${first}` });
    }
    for (const p of path) state.set(p, 'done');
  }
  return notes;
}

function rotate(cycle: string[], first: string): string[] {
  const at = cycle.indexOf(first);
  return [...cycle.slice(at), ...cycle.slice(0, at)];
}

/** Addresses two people held while both active, found by one sweep per address over their active spans. */
function sharedAddresses(versions: Map<Candidate, PersonVersion[]>): DirectoryNote[] {
  const byPerson = new Map<string, { v: PersonVersion; line: number }[]>();
  for (const [c, vs] of versions) for (const v of vs) push(byPerson, v.person_id, { v, line: c.line });
  const spans = new Map<string, { id: string; from: number; to: number; line: number }[]>();
  for (const [id, list] of byPerson) {
    list.sort((a, b) => a.v.valid_from - b.v.valid_from);
    list.forEach(({ v, line }, i) => {
      if (!v.active) return;
      const to = list[i + 1]?.v.valid_from ?? Number.POSITIVE_INFINITY;
      for (const key of new Set(refKeys(v).filter((k) => k.startsWith('email:')))) {
        push(spans, key, { id, from: v.valid_from, to, line });
      }
    });
  }
  const notes: DirectoryNote[] = [];
  for (const [key, list] of [...spans].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => a.from - b.from || (a.id < b.id ? -1 : 1));
    let reach: (typeof list)[number] | undefined;
    for (const span of list) {
      if (reach && span.from < reach.to && span.id !== reach.id) {
        const [x, y] = [reach.id, span.id].sort();
        notes.push({
          kind: 'email_shared', line: span.line,
          message: `${key.slice('email:'.length)} is held by ${x} and ${y}, both active, from ${new Date(span.from).toISOString()}: events with it are ambiguous`,
        });
        break;
      }
      if (!reach || span.to > reach.to) reach = span;
    }
  }
  return notes;
}

function note(notes: DirectoryNote[], kind: NoteKind, c: Candidate, message: string): void {
  // A leaver row states two versions: one note for the row, not one per version.
  const last = notes.at(-1);
  if (last?.line !== c.line || last.message !== message) notes.push({ kind, line: c.line, message });
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
