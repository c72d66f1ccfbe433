// Reads and validates the AI catalogue once, at start-up. A problem is
// reported with the entry it is in (`tools[3] (id "cursor")`, line 42) and
// every problem of the file at once, so an operator fixes the file in one go.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { tetherError } from '#errors';
import { catalogueSchema, type CatalogueFile } from './schema.ts';
import { compileCatalogue, type Catalogue } from './catalogue.ts';
import { clientKey, parseCidr } from './keys.ts';

/** The catalogue shipped with Tether, which operators copy and edit. */
export const DEFAULT_CATALOGUE_PATH = new URL('../../../catalogue/ai-catalogue.yaml', import.meta.url).pathname;

export function loadCatalogue(path: string = DEFAULT_CATALOGUE_PATH): Catalogue {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw tetherError('TETHER_CONFIG_INVALID', `AI catalogue ${path}: cannot be read: ${(err as Error).message}`, { cause: err });
  }
  return parseCatalogue(text, path);
}

/** Parses YAML (JSON is YAML too) into a compiled catalogue, or throws one error listing every problem. */
export function parseCatalogue(text: string, name: string): Catalogue {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `line ${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`);
    throw invalid(name, problems);
  }
  const data: unknown = doc.toJS();
  const parsed = catalogueSchema.safeParse(data);
  if (!parsed.success) throw invalid(name, parsed.error.issues.map((issue) => describeIssue(issue, data, doc, lines)));
  const problems = crossCheck(parsed.data);
  if (problems.length > 0) throw invalid(name, problems);
  return compileCatalogue(parsed.data);
}

function invalid(name: string, problems: string[]) {
  return tetherError('TETHER_CONFIG_INVALID', `AI catalogue ${name} is invalid:\n  ${problems.join('\n  ')}`, { context: { catalogue: name, problems } });
}

/** `tools[3] (id "cursor").oauth_clients[0].provider (line 42): message`. */
function describeIssue(issue: z.core.$ZodIssue, data: unknown, doc: ReturnType<typeof parseDocument>, lines: LineCounter): string {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  let text = '';
  let node: unknown = data;
  for (const [i, step] of path.entries()) {
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[step] : undefined;
    text += typeof step === 'number' ? `[${step}]` : `${i === 0 ? '' : '.'}${step}`;
    const label = entryLabel(node);
    if (typeof step === 'number' && label) text += ` (${label})`;
  }
  const at = lineOf(doc, path, lines);
  return `${text || '(file)'}${at ? ` (line ${at})` : ''}: ${issue.message}`;
}

/** What names an entry for a person: its id, name, client id or tool. */
function entryLabel(node: unknown): string | null {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return null;
  const o = node as Record<string, unknown>;
  for (const key of ['id', 'client_id', 'tool', 'name', 'host', 'cidr']) if (typeof o[key] === 'string') return `${key} ${JSON.stringify(o[key])}`;
  return null;
}

/** The line of the deepest node of `path` that exists in the document. */
function lineOf(doc: ReturnType<typeof parseDocument>, path: (string | number)[], lines: LineCounter): number | null {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}

/** What the schema cannot see: references between entries, duplicates, CIDR syntax. */
function crossCheck(file: CatalogueFile): string[] {
  const problems: string[] = [];
  const toolIds = new Set<string>();
  const clientOwner = new Map<string, string>();
  for (const [i, tool] of file.tools.entries()) {
    const where = `tools[${i}] (id ${JSON.stringify(tool.id)})`;
    if (toolIds.has(tool.id)) problems.push(`${where}: the id is used by an earlier tool`);
    toolIds.add(tool.id);
    if (tool.valid_from !== undefined && tool.valid_until !== undefined && tool.valid_until <= tool.valid_from) {
      problems.push(`${where}: valid_until is not after valid_from`);
    }
    for (const [j, c] of tool.oauth_clients.entries()) {
      const key = `${c.provider}:${clientKey(c.provider, c.client_id)}`;
      const other = clientOwner.get(key);
      if (other !== undefined && other !== tool.id) problems.push(`${where}.oauth_clients[${j}] (client_id ${JSON.stringify(c.client_id)}): already listed under tool "${other}"`);
      clientOwner.set(key, tool.id);
    }
    for (const [j, a] of tool.addresses.entries()) {
      if (parseCidr(a.cidr) === null) problems.push(`${where}.addresses[${j}] (cidr ${JSON.stringify(a.cidr)}): not an IPv4/IPv6 address or CIDR`);
    }
    for (const [j, h] of tool.api_hosts.entries()) {
      if (!/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(h.host)) {
        problems.push(`${where}.api_hosts[${j}] (host ${JSON.stringify(h.host)}): not a host name (a leading "*." is the only wildcard)`);
      }
    }
    for (const [j, p] of tool.name_patterns.entries()) {
      try {
        new RegExp(p, 'iu');
      } catch (err) {
        problems.push(`${where}.name_patterns[${j}]: not a regular expression: ${(err as Error).message}`);
      }
    }
  }
  for (const [i, s] of file.sanctioned.entries()) {
    const where = `sanctioned[${i}] (${s.tool !== undefined ? `tool ${JSON.stringify(s.tool)}` : `client_id ${JSON.stringify(s.client_id)}`})`;
    if (s.tool !== undefined && !toolIds.has(s.tool)) problems.push(`${where}: no tool has this id`);
    if (s.valid_until !== undefined && s.valid_until <= s.valid_from) problems.push(`${where}: valid_until is not after valid_from`);
  }
  return problems;
}
