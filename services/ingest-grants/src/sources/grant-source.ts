// What the four connector-grant sources share on the source framework: the
// variables they all read (one schema object each, so the registry lets
// them share it), the adapter from a grant normaliser (many events per
// record) to the framework's, and the connector-inventory fold with the AI
// catalogue loaded once per path.
import { z } from 'zod';
import { DEFAULT_CATALOGUE_PATH, loadCatalogue, type Catalogue } from '#catalogue';
import { env } from '#config';
import type { ManyNormaliser } from '#source';
import { connectorFold, DEFAULT_USE_RESOLUTION_MS, type ConnectorFold } from '../inventory/connector-fold.ts';
import { grantContext, type GrantNormaliser, type GrantProvider } from '../normalise/grant-event.ts';

/** Variables every grant source reads; shared, not repeated (see source-registry.ts). */
export const grantSharedEnv = {
  /** The AI catalogue (classification and the sanctioned list) the connector inventory is classified with. */
  TETHER_AI_CATALOGUE_PATH: z.string().min(1).default(DEFAULT_CATALOGUE_PATH),
  /** A token use moves a connector version's last_used_at on the topic at most once per this. */
  TETHER_CONNECTOR_USE_RESOLUTION_MS: env.int(DEFAULT_USE_RESOLUTION_MS, 1_000),
};

export type GrantSharedConfig = z.output<z.ZodObject<typeof grantSharedEnv>>;

const catalogues = new Map<string, Catalogue>();

/** The catalogue at `path`, read and validated once per process. */
export function catalogueAt(path: string): Catalogue {
  let catalogue = catalogues.get(path);
  if (!catalogue) catalogues.set(path, (catalogue = loadCatalogue(path)));
  return catalogue;
}

/** The connector inventory fold of `source`, classified with the configured catalogue. */
export function grantFold(source: GrantProvider, config: GrantSharedConfig): ConnectorFold {
  return connectorFold({ source, catalogue: catalogueAt(config.TETHER_AI_CATALOGUE_PATH), useResolutionMs: config.TETHER_CONNECTOR_USE_RESOLUTION_MS });
}

/**
 * A grant normaliser on the framework. Event ids are derived under the
 * source's one record feed (`feed`), whichever feed or file read the record,
 * so a record polled, re-read by another feed or imported is one event.
 * `organizationId` is the configured tenant or org, for records whose page
 * does not name one (an imported file).
 */
export function onFramework(provider: GrantProvider, feed: string, normalise: GrantNormaliser, organizationId: string | null = null): ManyNormaliser {
  return (record, ctx) => {
    // The configured tenant / org when the page does not say (an imported file).
    const result = normalise(record, { ...grantContext(provider, feed, ctx.ingestedAt, ctx.rawBytes), organizationId: ctx.organizationId ?? organizationId });
    return result.ok ? { ok: true, events: result.events, skipped: result.skipped } : result;
  };
}

/** Page size asked for, within the API's maximum. */
export function clampLimit(asked: number, max: number): number {
  return Math.min(Math.max(1, asked), max);
}
