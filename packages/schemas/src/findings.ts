// Values of the Finding record's closed fields (schemas/Finding.avsc), shared
// by the detect service that writes them and the query layer that filters them.

/** Severities, least to most severe: a "minimum severity" filter takes a suffix of this list. */
export const FINDING_SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** What fired: one event, a count in a window, a value new for its group, steps in order. */
export const FINDING_KINDS = ['match', 'threshold', 'first_seen', 'sequence'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** The severities at or above `min`. */
export function severitiesFrom(min: FindingSeverity): FindingSeverity[] {
  return FINDING_SEVERITIES.slice(FINDING_SEVERITIES.indexOf(min));
}
