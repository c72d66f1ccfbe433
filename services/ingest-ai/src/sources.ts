// The sources ingest-ai runs: one line each. A new source is a folder under
// src/platforms/<name>/ exporting its `defineSource(...)` and a line here;
// its variables, credentials, secrets and CLI name come from its definition.
import { createSourceRegistry } from '#source';
import { anthropicSource } from './platforms/anthropic/source.ts';
import { cursorSource } from './platforms/cursor/source.ts';
import { entraUsersSource } from './platforms/entra-users/source.ts';
import { oktaUsersSource } from './platforms/okta-users/source.ts';
import { openAiSource } from './platforms/openai/source.ts';

export const SOURCES = createSourceRegistry([
  openAiSource,
  anthropicSource,
  cursorSource,
  oktaUsersSource,
  entraUsersSource,
]);
