// The AI catalogue: one versioned operator data file saying which OAuth
// clients, apps, extensions, hosts and addresses are AI tools, and which the
// organisation has sanctioned, as of any time.
export { loadCatalogue, parseCatalogue, DEFAULT_CATALOGUE_PATH } from './load.ts';
export { compileCatalogue } from './catalogue.ts';
export type {
  Catalogue, Classification, AiClassification, MatchedBy, ToolRef, ClientRef, ProcessRef, ExtensionRef,
} from './catalogue.ts';
export { clientKey, parseCidr } from './keys.ts';
export { PROVIDERS, catalogueSchema } from './schema.ts';
export type { Provider, CatalogueFile, ToolEntry, SanctionEntry } from './schema.ts';
