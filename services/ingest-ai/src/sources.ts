// The sources ingest-ai runs: one line each. A new source is a folder under
// src/platforms/<name>/ (the connector-grant sources: services/ingest-grants/
// src/sources/<name>/; device inventories: services/ingest-devices/src/sources/<name>/)
// exporting its `defineSource(...)` and a line here; its variables,
// credentials, secrets and CLI name come from its definition.
import { createSourceRegistry } from '#source';
import { anthropicSource } from './platforms/anthropic/source.ts';
import { cursorSource } from './platforms/cursor/source.ts';
import { entraUsersSource } from './platforms/entra-users/source.ts';
import { oktaUsersSource } from './platforms/okta-users/source.ts';
import { openAiSource } from './platforms/openai/source.ts';
import { entraSource } from '../../ingest-grants/src/sources/entra/source.ts';
import { githubSource } from '../../ingest-grants/src/sources/github/source.ts';
import { googleSource } from '../../ingest-grants/src/sources/google/source.ts';
import { oktaSource } from '../../ingest-grants/src/sources/okta/source.ts';
import { fleetSource } from '../../ingest-devices/src/sources/fleet/source.ts';
import { intuneSource } from '../../ingest-devices/src/sources/intune/source.ts';
import { jamfSource } from '../../ingest-devices/src/sources/jamf/source.ts';

export const SOURCES = createSourceRegistry([
  openAiSource,
  anthropicSource,
  cursorSource,
  googleSource,
  entraSource,
  oktaSource,
  githubSource,
  fleetSource,
  intuneSource,
  jamfSource,
  oktaUsersSource,
  entraUsersSource,
]);
