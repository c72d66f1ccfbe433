// The ops side of every service: metrics, /health /ready /metrics, dead
// letters, shutdown, entry points, dependency probes. No Kafka client is
// loaded from here: pipeline wiring is #service/pipeline.
export { createMetrics } from './metrics.ts';
export type { ComponentMetrics } from './metrics.ts';
export { startOpsServer, isLive, isReady } from './http.ts';
export type { HealthReport, LifecycleState, OpsServer } from './http.ts';
export { deadLetterWriter, MAX_ORIGINAL_BYTES } from './dead-letter.ts';
export type { DeadLetterInput, DeadLetterStage, DeadLetterWriter } from './dead-letter.ts';
export { onShutdown } from './lifecycle.ts';
export { instanceName, STATIC_MEMBER_SESSION_TIMEOUT_MS } from './instance.ts';
export { EXIT, errorLine, exitCodeOf, exit, runMain, runUntilStopped } from './main.ts';
export type { Main } from './main.ts';
export {
  checkDependencies, clickhouseDependency, httpDependency, kafkaDependency, registryDependency, unreachable, waitForDependencies,
} from './dependencies.ts';
export type { Dependency, DependencyCheck, WaitOptions } from './dependencies.ts';
export { examples, runProgram, setExitCode, tetherCommand } from './command.ts';
