// Runs a rule pack over enriched events, one at a time in input order: match
// rules fire per event; threshold, first-seen and sequence rules update their
// group's state (state.ts) and fire when it says so. Windows run on event
// time, so a replay, a backtest and the live stream agree. Pure apart from the
// state store it is given: no I/O.
import { createHash } from 'node:crypto';
import type { DetectState, DetectStateEntry, EnrichedAccessEvent, Finding, FindingKind } from '#schemas';
import type { CompiledRule, KeyFn } from '../rules/load.ts';
import { StateStore, type InputPosition } from './state.ts';

export const DETECTOR_VERSION = 'detect-1';

/** Partial sequences kept per group; the oldest is dropped beyond it. */
export const MAX_PARTIAL_SEQUENCES = 32;

export interface EngineOptions {
  /** Values remembered per first-seen group; the earliest seen are forgotten beyond it. */
  firstSeenMaxValues: number;
  now?: () => number;
}

export interface EngineCounts {
  /** Events older than their group's window when they arrived: not counted. */
  late: number;
  /** Events recognised as already applied (a replay after a restart). */
  replayed: number;
  /** Events a stateful rule matched but could not group (a group_by field was null). */
  ungrouped: number;
}

interface Fire {
  rule: CompiledRule;
  kind: FindingKind;
  event: EnrichedAccessEvent;
  eventIds: string[];
  firstTime: number;
  lastTime: number;
  group: readonly string[];
  value: string | null;
}

export class DetectEngine {
  readonly rules: readonly CompiledRule[];
  readonly store: StateStore;
  readonly counts: EngineCounts = { late: 0, replayed: 0, ungrouped: 0 };
  readonly #options: EngineOptions;
  readonly #now: () => number;

  constructor(rules: readonly CompiledRule[], store: StateStore, options: EngineOptions) {
    this.rules = rules.filter((r) => r.enabled);
    this.store = store;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The findings this event completes; `at` (its input position) makes replays idempotent. */
  process(event: EnrichedAccessEvent, at?: InputPosition): Finding[] {
    const out: Finding[] = [];
    for (const rule of this.rules) {
      if (!rule.match(event)) continue;
      let fires: Fire[];
      if (rule.threshold) fires = this.#threshold(rule, event, at);
      else if (rule.firstSeen) fires = this.#firstSeen(rule, event, at);
      else if (rule.sequence) fires = this.#sequence(rule, event, at);
      else fires = [{ rule, kind: 'match', event, eventIds: [event.event.event_id], firstTime: event.event.time, lastTime: event.event.time, group: [], value: null }];
      for (const fire of fires) out.push(this.#finding(fire));
    }
    return out;
  }

  #group(rule: CompiledRule, kind: FindingKind, keys: readonly KeyFn[], event: EnrichedAccessEvent, at: InputPosition | undefined): { state: DetectState; group: string[] } | null {
    const group: string[] = [];
    for (const k of keys) {
      const v = k(event);
      if (v === null) {
        this.counts.ungrouped += 1;
        return null;
      }
      group.push(v);
    }
    const groupKey = JSON.stringify(group);
    const key = `${rule.id}|${kind}|${hash(groupKey).slice(0, 32)}`;
    const state = this.store.group(key, () => ({ rule_id: rule.id, rule_version: rule.version, kind, group_key: groupKey }));
    if (StateStore.applied(state, at)) {
      this.counts.replayed += 1;
      return null;
    }
    return { state, group };
  }

  #threshold(rule: CompiledRule, event: EnrichedAccessEvent, at: InputPosition | undefined): Fire[] {
    const spec = rule.threshold!;
    const g = this.#group(rule, 'threshold', spec.groupBy, event, at);
    if (!g) return [];
    const { state } = g;
    const before = state.entries.length;
    const id = event.event.event_id;
    const time = event.event.time;
    const fires: Fire[] = [];
    if (!state.entries.some((e) => e.event_ids[0] === id)) {
      const newest = state.entries.reduce((m, e) => Math.max(m, e.time), time);
      if (time < newest - spec.windowMs) {
        this.counts.late += 1;
      } else {
        state.entries.push({ event_ids: [id], time, last_time: time, step: 0, value: null });
        // Everything left is within one window of the newest event.
        state.entries = state.entries.filter((e) => e.time >= newest - spec.windowMs).sort(byTimeThenId);
        if (state.entries.length >= spec.count) {
          fires.push(fireOf(rule, 'threshold', event, state.entries, g.group, null));
          // The window starts again after it fired: a burst of 2n fires twice, not n+1 times.
          state.entries = [];
        }
      }
    }
    this.store.changed(state, before, at);
    return fires;
  }

  #firstSeen(rule: CompiledRule, event: EnrichedAccessEvent, at: InputPosition | undefined): Fire[] {
    const spec = rule.firstSeen!;
    const values: string[] = [];
    for (const k of spec.value) {
      const v = k(event);
      if (v === null) return [];
      values.push(v);
    }
    const value = values.length === 1 ? values[0]! : JSON.stringify(values);
    const g = this.#group(rule, 'first_seen', spec.groupBy, event, at);
    if (!g) return [];
    const { state } = g;
    const id = event.event.event_id;
    const time = event.event.time;
    const seen = state.entries.find((e) => e.value === value);
    if (seen) {
      // Seen later before, earlier now (out-of-order delivery): the sighting moves back, nothing fires.
      if (time < seen.time) {
        seen.time = time;
        seen.event_ids = [id];
        this.store.changed(state, state.entries.length, at);
      }
      return [];
    }
    const before = state.entries.length;
    const hadHistory = before > 0;
    state.entries.push({ event_ids: [id], time, last_time: time, step: 0, value });
    if (state.entries.length > this.#options.firstSeenMaxValues) {
      state.entries.sort(byTimeThenId);
      state.entries.splice(0, state.entries.length - this.#options.firstSeenMaxValues);
    }
    this.store.changed(state, before, at);
    if (spec.requireHistory && !hadHistory) return [];
    return [fireOf(rule, 'first_seen', event, [state.entries.find((e) => e.value === value) ?? { event_ids: [id], time, last_time: time, step: 0, value }], g.group, value)];
  }

  #sequence(rule: CompiledRule, event: EnrichedAccessEvent, at: InputPosition | undefined): Fire[] {
    const spec = rule.sequence!;
    const matched = spec.steps.map((s) => s(event));
    if (!matched.some(Boolean)) return [];
    const g = this.#group(rule, 'sequence', spec.groupBy, event, at);
    if (!g) return [];
    const { state } = g;
    const before = state.entries.length;
    const id = event.event.event_id;
    const time = event.event.time;
    const last = spec.steps.length - 1;
    const fires: Fire[] = [];
    // Partials that can no longer complete in time are dropped.
    state.entries = state.entries.filter((p) => time - p.time <= spec.withinMs || p.last_time > time);
    // The furthest step this event advances, on the oldest partial waiting for it.
    for (let k = last; k >= 1; k--) {
      if (!matched[k]) continue;
      const partial = state.entries
        .filter((p) => p.step === k - 1 && p.last_time <= time && time - p.time <= spec.withinMs && !p.event_ids.includes(id))
        .sort(byTimeThenId)[0];
      if (!partial) continue;
      if (k === last) {
        state.entries = state.entries.filter((p) => p !== partial);
        const events = [...partial.event_ids, id];
        fires.push({ rule, kind: 'sequence', event, eventIds: events, firstTime: partial.time, lastTime: time, group: g.group, value: null });
      } else {
        partial.step = k;
        partial.event_ids = [...partial.event_ids, id];
        partial.last_time = time;
      }
      break;
    }
    if (matched[0] && !state.entries.some((p) => p.event_ids[0] === id)) {
      state.entries.push({ event_ids: [id], time, last_time: time, step: 0, value: null });
      if (state.entries.length > MAX_PARTIAL_SEQUENCES) {
        state.entries.sort(byTimeThenId);
        state.entries.splice(0, state.entries.length - MAX_PARTIAL_SEQUENCES);
      }
    }
    this.store.changed(state, before, at);
    return fires;
  }

  #finding(fire: Fire): Finding {
    const { rule, event: e } = fire;
    const groupKey = fire.group.length === 0 ? '' : JSON.stringify(fire.group);
    const dedupKey = fire.kind === 'match'
      ? `${rule.id}|${e.event.event_id}`
      : fire.kind === 'first_seen' ? `${rule.id}|${groupKey}|${fire.value}` : `${rule.id}|${groupKey}`;
    const first = e.nhi_chain[0];
    return {
      finding_id: findingId(rule.id, rule.version, dedupKey, fire.eventIds),
      rule_id: rule.id,
      rule_version: rule.version,
      rule_title: rule.title,
      severity: rule.severity,
      tags: [...rule.tags],
      kind: fire.kind,
      event_ids: fire.eventIds,
      platform: e.event.source.platform,
      person_id: e.person?.person_id ?? null,
      person_email: e.person?.email ?? null,
      nhi_id: first?.id ?? null,
      nhi_kind: first?.kind ?? null,
      device_id: e.device?.device_id ?? null,
      connector_client_id: e.event.connector?.client_id ?? null,
      connector_app_name: e.event.connector?.app_name ?? null,
      summary: rule.summary(e, { count: fire.eventIds.length, group: fire.group, value: fire.value }),
      group_key: groupKey,
      dedup_key: dedupKey,
      first_event_time: fire.firstTime,
      last_event_time: fire.lastTime,
      emitted_at: this.#now(),
      detector_version: DETECTOR_VERSION,
    };
  }
}

function fireOf(rule: CompiledRule, kind: FindingKind, event: EnrichedAccessEvent, entries: readonly DetectStateEntry[], group: readonly string[], value: string | null): Fire {
  return {
    rule, kind, event, group, value,
    eventIds: entries.flatMap((e) => e.event_ids),
    firstTime: Math.min(...entries.map((e) => e.time)),
    lastTime: Math.max(...entries.map((e) => e.last_time)),
  };
}

function byTimeThenId(a: DetectStateEntry, b: DetectStateEntry): number {
  return a.time - b.time || (a.event_ids[0]! < b.event_ids[0]! ? -1 : a.event_ids[0]! > b.event_ids[0]! ? 1 : 0);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The same rule version, dedup key and evidence always give the same id. */
export function findingId(ruleId: string, version: number, dedupKey: string, eventIds: readonly string[]): string {
  return hash([ruleId, String(version), dedupKey, [...eventIds].sort().join(',')].join('\u0000')).slice(0, 32);
}

/** A Kafka key for a finding: its person, else its NHI, else its dedup key (one alert's findings stay in order). */
export function findingKey(f: Finding): string {
  return f.person_id ?? f.nhi_id ?? f.dedup_key;
}
