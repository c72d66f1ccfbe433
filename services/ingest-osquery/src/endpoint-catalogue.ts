// The AI catalogue seen from an endpoint: osquery evidence asks only about
// apps, extensions and API addresses, and counts only what the catalogue
// calls an AI tool.
import type { Catalogue, Classification } from '#catalogue';
import type { CatalogueMatch, EndpointCatalogue } from './ai-tool-events.ts';

export function endpointCatalogue(catalogue: Catalogue): EndpointCatalogue {
  const match = (c: Classification): CatalogueMatch | null =>
    c.classification === 'ai_tool' && c.tool ? { id: c.tool.id, name: c.tool.name, vendor: c.tool.vendor, sanctioned: c.sanctioned === true } : null;
  return {
    app: (candidate, at) => {
      // A process row names the binary; its path's last part is the same name when `name` is truncated (Linux's 15 characters).
      const fromPath = candidate.path ? candidate.path.slice(candidate.path.replace(/\\/g, '/').lastIndexOf('/') + 1) : null;
      const byName = match(catalogue.classifyProcess({ name: candidate.name, bundleId: candidate.bundleId }, at));
      return byName ?? (fromPath && fromPath !== candidate.name ? match(catalogue.classifyProcess({ name: fromPath }, at)) : null);
    },
    extension: (browser, id, at) => match(catalogue.classifyExtension({ id, browser }, at)),
    apiAddress: (address, at) => match(catalogue.classifyAddress(address, at)),
  };
}
