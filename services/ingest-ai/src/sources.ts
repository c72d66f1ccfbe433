// The sources ingest-ai runs: one line each. A new source is a folder under
// src/platforms/<name>/ (device inventories: services/ingest-devices/src/sources/<name>/)
// exporting its `defineSource(...)` and a line here; its variables,
// credentials, secrets and CLI name come from its definition.
import { createSourceRegistry } from '#source';
import { anthropicSource } from './platforms/anthropic/source.ts';
import { cursorSource } from './platforms/cursor/source.ts';
import { openAiSource } from './platforms/openai/source.ts';
import { fleetSource } from '../../ingest-devices/src/sources/fleet/source.ts';
import { intuneSource } from '../../ingest-devices/src/sources/intune/source.ts';
import { jamfSource } from '../../ingest-devices/src/sources/jamf/source.ts';

export const SOURCES = createSourceRegistry([
  openAiSource,
  anthropicSource,
  cursorSource,
  fleetSource,
  intuneSource,
  jamfSource,
]);
