// The shape of the AI catalogue file (catalogue/ai-catalogue.yaml): what the
// operator may write, validated once at start-up. Every identifier and every
// sanction decision may carry its own validity (`valid_from`, `valid_until`)
// because classification changes over time: an app gains AI features, a
// tool is approved in March and withdrawn in June, a vendor adds a client id.
import { z } from 'zod';

export const PROVIDERS = ['google', 'entra', 'okta', 'github'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const BROWSERS = ['chrome', 'edge', 'firefox', 'safari', 'brave', 'arc', 'opera', 'chromium', 'vivaldi'] as const;

/** RFC 3339 with a zone, or a plain date (taken as 00:00 UTC); to epoch ms. */
const instant = z
  .union([z.string(), z.date()])
  .transform((value, ctx) => {
    if (value instanceof Date) return value.getTime();
    const text = value.trim();
    const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : /(Z|[+-]\d{2}:\d{2})$/i.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone` });
      return z.NEVER;
    }
    return ms;
  });

const validity = {
  valid_from: instant.optional(),
  valid_until: instant.optional(),
  note: z.string().optional(),
};

const nonBlank = z.string().trim().min(1, 'must not be blank');

/** A plain string is shorthand for `{value}` with no validity of its own. */
function identifier<K extends string>(key: K) {
  const full = z.strictObject({ [key]: nonBlank, ...validity } as { [P in K]: typeof nonBlank } & typeof validity);
  return z.union([nonBlank.transform((v) => ({ [key]: v }) as { [P in K]: string }), full]);
}

export const oauthClientSchema = z.strictObject({
  provider: z.enum(PROVIDERS),
  client_id: nonBlank,
  /** What the id is (GitHub OAuth app, GitHub App, Entra app id...), for people reading the file. */
  kind: z.string().optional(),
  ...validity,
});

export const processSchema = z
  .strictObject({
    /** Executable name as `processes.name` reports it (Cursor, Cursor.exe, ChatGPT). */
    name: nonBlank.optional(),
    /** macOS bundle identifier (com.openai.chat). */
    bundle_id: nonBlank.optional(),
    os: z.enum(['darwin', 'windows', 'linux']).optional(),
    ...validity,
  })
  .refine((p) => p.name !== undefined || p.bundle_id !== undefined, 'a process needs a name or a bundle_id');

export const extensionSchema = z.strictObject({
  browser: z.enum(BROWSERS).optional(),
  id: nonBlank,
  ...validity,
});

export const toolSchema = z.strictObject({
  /** Stable id the sanctioned list and query results name (lower case, a-z 0-9 - _). */
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower case letters, digits, - or _'),
  name: nonBlank,
  vendor: z.string().optional(),
  /** ai_tool by default; `other` names an app the operator has checked and found not to be AI. */
  kind: z.enum(['ai_tool', 'other']).default('ai_tool'),
  /** From when (and until when) the whole entry holds. */
  ...validity,
  /** Whole words matched case-insensitively against an app's name when no client id matched. */
  name_patterns: z.array(nonBlank).default([]),
  oauth_clients: z.array(oauthClientSchema).default([]),
  processes: z.array(processSchema).default([]),
  extensions: z.array(extensionSchema).default([]),
  /** Host names; `*.example.com` matches every sub-domain (not the apex). */
  api_hosts: z.array(identifier('host')).default([]),
  /** CIDRs (or single addresses) of the tool's API endpoints. */
  addresses: z.array(identifier('cidr')).default([]),
});

export const sanctionSchema = z
  .strictObject({
    /** A whole tool by its id... */
    tool: z.string().optional(),
    /** ...or one OAuth client, whatever tool (if any) it belongs to. */
    provider: z.enum(PROVIDERS).optional(),
    client_id: nonBlank.optional(),
    sanctioned: z.boolean(),
    valid_from: instant,
    valid_until: instant.optional(),
    note: z.string().optional(),
    /** Who decided (a ticket, a person): kept for the audit trail of the list itself. */
    decided_by: z.string().optional(),
  })
  .refine((s) => (s.tool !== undefined) !== (s.client_id !== undefined), 'a decision names either a tool or a client_id, not both')
  .refine((s) => s.client_id === undefined || s.provider !== undefined, 'a client_id needs its provider');

export const catalogueSchema = z.strictObject({
  /** Bumped by the operator on every edit; stamped on what is classified with it. */
  version: z.number().int().positive(),
  description: z.string().optional(),
  tools: z.array(toolSchema),
  sanctioned: z.array(sanctionSchema).default([]),
  /** Scopes that reach a lot of data, per provider, flagged on any app. */
  broad_scopes: z.partialRecord(z.enum(PROVIDERS), z.array(nonBlank)).default({}),
});

export type CatalogueFile = z.output<typeof catalogueSchema>;
export type ToolEntry = z.output<typeof toolSchema>;
export type SanctionEntry = z.output<typeof sanctionSchema>;
