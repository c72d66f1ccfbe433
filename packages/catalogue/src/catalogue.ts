// The compiled AI catalogue: answers, as of a time, whether an OAuth client,
// a process, a browser extension, a host or an address belongs to an AI tool,
// which one, and whether the organisation has sanctioned it. Pure and
// in-memory; built once from a validated file (load.ts).
//
// Order of evidence for an OAuth client (reference section 8): the exact
// (provider, client id), then the app name against each tool's whole-word
// patterns, else unknown. Sanction: the latest decision in force at t for the
// client itself, else for its tool; an AI tool with no decision is not
// sanctioned (the list is an allow list); anything else is unknown.
import { BlockList, isIP } from 'node:net';
import { clientKey, parseCidr } from './keys.ts';
import type { CatalogueFile, SanctionEntry, ToolEntry } from './schema.ts';

export type AiClassification = 'ai_tool' | 'other' | 'unknown';
export type MatchedBy = 'client_id' | 'name_pattern' | 'process_name' | 'bundle_id' | 'extension' | 'host' | 'address';

export interface ToolRef {
  id: string;
  name: string;
  vendor: string | null;
}

export interface Classification {
  classification: AiClassification;
  tool: ToolRef | null;
  matchedBy: MatchedBy | null;
  /** true / false from the sanctioned list; null when nothing says (an app not known to be AI). */
  sanctioned: boolean | null;
  /** The catalogue version that decided, for the record. */
  catalogueVersion: number;
}

export interface ClientRef {
  provider: string;
  clientId: string;
  appName?: string | null;
}

export interface ProcessRef {
  name?: string | null;
  bundleId?: string | null;
  os?: 'darwin' | 'windows' | 'linux' | null;
}

export interface ExtensionRef {
  id: string;
  browser?: string | null;
}

export interface Catalogue {
  readonly version: number;
  readonly tools: readonly ToolEntry[];
  classifyClient(ref: ClientRef, t: number): Classification;
  classifyProcess(ref: ProcessRef, t: number): Classification;
  classifyExtension(ref: ExtensionRef, t: number): Classification;
  classifyHost(host: string, t: number): Classification;
  classifyAddress(ip: string, t: number): Classification;
  /** The scopes of `scopes` the catalogue calls broad for `provider` (exact, or a `prefix*` entry). */
  broadScopes(provider: string, scopes: readonly string[]): string[];
}

interface Validity {
  valid_from?: number | undefined;
  valid_until?: number | undefined;
}

interface Indexed extends Validity {
  tool: ToolEntry;
}

const holds = (v: Validity, t: number) => (v.valid_from === undefined || v.valid_from <= t) && (v.valid_until === undefined || t < v.valid_until);

class MultiMap<V> {
  readonly #map = new Map<string, V[]>();
  add(key: string, value: V) {
    const list = this.#map.get(key);
    if (list) list.push(value);
    else this.#map.set(key, [value]);
  }
  get(key: string): readonly V[] {
    return this.#map.get(key) ?? [];
  }
}

export function compileCatalogue(file: CatalogueFile): Catalogue {
  const clients = new MultiMap<Indexed>();
  const processNames = new MultiMap<Indexed & { os?: string | undefined }>();
  const bundleIds = new MultiMap<Indexed & { os?: string | undefined }>();
  const extensions = new MultiMap<Indexed & { browser?: string | undefined }>();
  const hosts = new MultiMap<Indexed>();
  const wildcardHosts = new MultiMap<Indexed>();
  const addresses: (Indexed & { list: BlockList })[] = [];
  const patterns: { tool: ToolEntry; re: RegExp }[] = [];

  for (const tool of file.tools) {
    for (const c of tool.oauth_clients) clients.add(`${c.provider}\u0000${clientKey(c.provider, c.client_id)}`, { tool, ...c });
    for (const p of tool.processes) {
      if (p.name) processNames.add(p.name.toLowerCase(), { tool, ...p });
      if (p.bundle_id) bundleIds.add(p.bundle_id.toLowerCase(), { tool, ...p });
    }
    for (const e of tool.extensions) extensions.add(e.id.trim(), { tool, ...e });
    for (const h of tool.api_hosts) {
      const host = hostKey(h.host);
      if (host.startsWith('*.')) wildcardHosts.add(host.slice(2), { tool, ...h });
      else hosts.add(host, { tool, ...h });
    }
    for (const a of tool.addresses) {
      const cidr = parseCidr(a.cidr)!;
      const list = new BlockList();
      list.addSubnet(cidr.address, cidr.prefix, cidr.family);
      addresses.push({ tool, ...a, list });
    }
    if (tool.name_patterns.length > 0) {
      patterns.push({ tool, re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${tool.name_patterns.map((p) => `(?:${p})`).join('|')})(?![\\p{L}\\p{N}])`, 'iu') });
    }
  }

  const clientDecisions = new MultiMap<SanctionEntry>();
  const toolDecisions = new MultiMap<SanctionEntry>();
  for (const s of file.sanctioned) {
    if (s.client_id !== undefined) clientDecisions.add(`${s.provider}\u0000${clientKey(s.provider!, s.client_id)}`, s);
    else toolDecisions.add(s.tool!, s);
  }

  /** The first listed entry in force at t, its tool in force too. */
  const first = <T extends Indexed>(list: readonly T[], t: number, accept: (e: T) => boolean = () => true) =>
    list.find((e) => holds(e, t) && holds(e.tool, t) && accept(e));

  function latestDecision(list: readonly SanctionEntry[], t: number): boolean | undefined {
    let best: SanctionEntry | undefined;
    for (const d of list) if (holds(d, t) && (!best || d.valid_from >= best.valid_from)) best = d;
    return best?.sanctioned;
  }

  function result(tool: ToolEntry | undefined, matchedBy: MatchedBy | null, t: number, clientDecisionKey?: string): Classification {
    const byClient = clientDecisionKey === undefined ? undefined : latestDecision(clientDecisions.get(clientDecisionKey), t);
    const byTool = tool ? latestDecision(toolDecisions.get(tool.id), t) : undefined;
    const sanctioned = byClient ?? byTool ?? (tool?.kind === 'ai_tool' ? false : null);
    return {
      classification: tool ? tool.kind : 'unknown',
      tool: tool ? { id: tool.id, name: tool.name, vendor: tool.vendor ?? null } : null,
      matchedBy: tool ? matchedBy : null,
      sanctioned,
      catalogueVersion: file.version,
    };
  }

  return {
    version: file.version,
    tools: file.tools,

    classifyClient(ref, t) {
      const provider = ref.provider.trim().toLowerCase();
      const key = `${provider}\u0000${clientKey(provider, ref.clientId)}`;
      const exact = first(clients.get(key), t);
      if (exact) return result(exact.tool, 'client_id', t, key);
      const name = ref.appName?.trim();
      const named = name ? patterns.find((p) => holds(p.tool, t) && p.re.test(name)) : undefined;
      return result(named?.tool, 'name_pattern', t, key);
    },

    classifyProcess(ref, t) {
      const osOk = (e: { os?: string | undefined }) => !e.os || !ref.os || e.os === ref.os;
      const bundle = ref.bundleId?.trim() ? first(bundleIds.get(ref.bundleId.trim().toLowerCase()), t, osOk) : undefined;
      if (bundle) return result(bundle.tool, 'bundle_id', t);
      const named = ref.name?.trim() ? first(processNames.get(ref.name.trim().toLowerCase()), t, osOk) : undefined;
      return result(named?.tool, 'process_name', t);
    },

    classifyExtension(ref, t) {
      const browser = ref.browser?.trim().toLowerCase();
      const hit = first(extensions.get(ref.id.trim()), t, (e) => !e.browser || !browser || e.browser === browser);
      return result(hit?.tool, 'extension', t);
    },

    classifyHost(host, t) {
      const key = hostKey(host);
      let hit = first(hosts.get(key), t);
      // Parents only: "*.openai.com" covers api.openai.com, not openai.com.
      for (let dot = key.indexOf('.'); !hit && dot !== -1; dot = key.indexOf('.', dot + 1)) hit = first(wildcardHosts.get(key.slice(dot + 1)), t);
      return result(hit?.tool, 'host', t);
    },

    classifyAddress(ip, t) {
      const address = ip.trim().replace(/^\[|\]$/g, '');
      const family = isIP(address);
      if (family === 0) return result(undefined, null, t);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      const hit = addresses.find((a) => holds(a, t) && holds(a.tool, t) && a.list.check(address, type));
      return result(hit?.tool, 'address', t);
    },

    broadScopes(provider, scopes) {
      const listed = file.broad_scopes[provider.trim().toLowerCase() as keyof typeof file.broad_scopes] ?? [];
      return scopes.filter((s) => listed.some((b) => (b.endsWith('*') ? s.startsWith(b.slice(0, -1)) : s === b)));
    },
  };
}

function hostKey(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}
