export { TOPICS, COMPACTED_ROLES, CONSUMER_GROUPS, topicNames } from './topics.ts';
export type { TopicRole } from './topics.ts';
export {
  loadConfig, refuseUnknownVariables, env, commonEnvShape, commonEnvSchema, pipelineEnvShape, pipelineEnvSchema,
  kafkaEnvShape, registryEnvShape, clickhouseEnvShape, clickhouseEnvSchema, logEnvShape, startupEnvShape, opsEnvShape,
} from './load.ts';
export type { EnvSchema, CommonConfig, PipelineConfig, ClickHouseConfig, LoadOptions } from './load.ts';
export { KNOWN_VARIABLES, isKnownVariable, suggestVariable } from './known-variables.ts';
