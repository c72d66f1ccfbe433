// ingest-ai configuration: the common endpoints, the source runner's knobs,
// and every registered source's own variables. Parsed once in index.ts.
import { z } from 'zod';
import { pipelineEnvShape } from '#config';
import { sourceRunnerEnvShape } from '#source';
import { SOURCES } from './sources.ts';

export const ingestAiEnvSchema = z.object({
  ...pipelineEnvShape,
  ...sourceRunnerEnvShape,
  ...SOURCES.envShape,
});

export type IngestAiConfig = z.output<typeof ingestAiEnvSchema>;
