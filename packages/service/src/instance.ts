// A service instance's stable name: its static consumer-group membership
// (group.instance.id) must survive a restart, so a process killed and started
// again on the same host, under the same name, takes its partitions back at
// once instead of waiting for its old session to time out.
import { hostname } from 'node:os';

/** The configured name, or `<hostname>-<service>`: stable across restarts, distinct per host. */
export function instanceName(configured: string | undefined, service: string): string {
  return configured ?? `${hostname()}-${service}`;
}

/**
 * Session timeout of a static member. A restart under the same name does not
 * wait for it (the broker hands the returning member its partitions); it is
 * how long the partitions of an instance that died and does not come back
 * stay unread, and how long a restart may take without a rebalance.
 */
export const STATIC_MEMBER_SESSION_TIMEOUT_MS = 45_000;
