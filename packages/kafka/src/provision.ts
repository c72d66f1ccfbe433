import { COMPACTED_ROLES, topicNames, type TopicRole } from '#config';
import type { Admin } from './types.ts';

/** Creates every Tether topic under a prefix that does not exist yet; compacted where the design says so. */
export async function ensureTetherTopics(admin: Admin, prefix = '', partitions = 3): Promise<Record<TopicRole, string>> {
  const names = topicNames(prefix);
  await admin.createTopics(
    (Object.entries(names) as [TopicRole, string][]).map(([role, name]) => ({
      name,
      partitions,
      compacted: COMPACTED_ROLES.includes(role),
    })),
  );
  return names;
}
