export { TOPICS, COMPACTED_ROLES, CONSUMER_GROUPS, topicNames } from './topics.ts';
export type { TopicRole } from './topics.ts';
export { loadConfig, env, commonEnvShape, commonEnvSchema } from './load.ts';
export type { EnvSchema, CommonConfig } from './load.ts';
