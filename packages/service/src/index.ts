export { createMetrics } from './metrics.ts';
export type { ComponentMetrics } from './metrics.ts';
export { startOpsServer } from './http.ts';
export type { HealthReport, LifecycleState, OpsServer } from './http.ts';
export { deadLetterWriter, MAX_ORIGINAL_BYTES } from './dead-letter.ts';
export type { DeadLetterInput, DeadLetterStage, DeadLetterWriter } from './dead-letter.ts';
export { onShutdown } from './lifecycle.ts';
export { connectPipeline } from './pipeline.ts';
export type { Pipeline } from './pipeline.ts';
