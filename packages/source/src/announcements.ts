// Audit events that announce a change to an inventoried entity (a key
// disabled, a project archived) give that change its time: the inventory poll
// that observes it later dates the new version from the event, not from when
// it happened to look. Best effort and in memory: without an announcement the
// observation time is used.
import type { AccessEvent } from '#schemas';

export interface Announcements {
  note(event: AccessEvent): void;
  /** The latest announcement of `entityId` after `after`, if any. */
  at(entityId: string, after: number): number | undefined;
}

/** Entity ids as the inventories build them: people '<platform>:<id>', the rest '<platform>:<kind>:<id>'. */
function entityIdsOf(event: AccessEvent): string[] {
  const platform = event.source.platform;
  return event.targets.map((t) => (t.type === 'user' ? `${platform}:${t.id}` : `${platform}:${t.type}:${t.id}`));
}

export function createAnnouncements(capacity = 10_000): Announcements {
  const latest = new Map<string, number>();
  return {
    note(event) {
      if (event.outcome === 'failure') return;
      for (const id of entityIdsOf(event)) {
        const time = Math.max(event.time, latest.get(id) ?? 0);
        latest.delete(id);
        latest.set(id, time);
        // Oldest first in a Map: drop from the front to stay bounded.
        if (latest.size > capacity) latest.delete(latest.keys().next().value!);
      }
    },
    at(entityId, after) {
      const time = latest.get(entityId);
      return time !== undefined && time > after ? time : undefined;
    },
  };
}
