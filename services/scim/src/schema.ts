// The SCIM schemas Tether serves (RFC 7643 §4, §8.7.1): User with the
// enterprise extension, and Group, as data. One definition drives
// /Schemas, input canonicalisation (attribute names are case-insensitive),
// type checks and coercion, mutability, what is never returned (password),
// and how filters compare (caseExact, dateTime).
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex';

export interface AttrDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned: 'always' | 'never' | 'default' | 'request';
  uniqueness: 'none' | 'server' | 'global';
  description: string;
  subAttributes?: AttrDef[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

type AttrSpec = Partial<AttrDef> & { name: string; description: string };

function attr(spec: AttrSpec): AttrDef {
  return {
    type: spec.subAttributes ? 'complex' : 'string', multiValued: false, required: false, caseExact: false,
    mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...spec,
  };
}

/** The sub-attributes RFC 7643 gives every multi-valued "value" attribute (emails, phoneNumbers, …). */
function multi(name: string, description: string, types: string[], valueType: AttrType = 'string'): AttrDef {
  return attr({
    name, description, multiValued: true,
    subAttributes: [
      attr({ name: 'value', type: valueType, description: `The ${name} value.` }),
      attr({ name: 'display', description: 'A name for display.' }),
      attr({ name: 'type', description: 'A label for its function.', canonicalValues: types }),
      attr({ name: 'primary', type: 'boolean', description: 'The primary value; at most one is.' }),
    ],
  });
}

const id = attr({ name: 'id', description: 'Tether-assigned, immutable.', caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' });
const externalId = attr({ name: 'externalId', description: "The provisioning client's id.", caseExact: true });
const meta = attr({
  name: 'meta', description: 'Resource metadata.', mutability: 'readOnly',
  subAttributes: [
    attr({ name: 'resourceType', description: 'User or Group.', mutability: 'readOnly', caseExact: true }),
    attr({ name: 'created', type: 'dateTime', description: 'When the resource was created.', mutability: 'readOnly' }),
    attr({ name: 'lastModified', type: 'dateTime', description: 'When it last changed.', mutability: 'readOnly' }),
    attr({ name: 'location', type: 'reference', referenceTypes: ['uri'], description: 'Its URI.', mutability: 'readOnly', caseExact: true }),
    attr({ name: 'version', description: 'Weak ETag.', mutability: 'readOnly', caseExact: true }),
  ],
});

export const USER_ATTRS: AttrDef[] = [
  id, externalId,
  attr({ name: 'userName', description: 'Unique sign-in name (case-insensitive).', required: true, uniqueness: 'server' }),
  attr({
    name: 'name', description: "The person's name.",
    subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((n) => attr({ name: n, description: `name.${n}` })),
  }),
  ...['displayName', 'nickName', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone'].map((n) => attr({ name: n, description: n })),
  attr({ name: 'profileUrl', type: 'reference', referenceTypes: ['external'], description: 'Profile page.' }),
  attr({ name: 'active', type: 'boolean', description: 'false: deactivated (a leaver).' }),
  attr({ name: 'password', description: 'Write-only: never stored, logged or returned.', mutability: 'writeOnly', returned: 'never' }),
  multi('emails', 'Email addresses.', ['work', 'home', 'other']),
  multi('phoneNumbers', 'Phone numbers.', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  multi('ims', 'Instant messaging addresses.', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
  multi('photos', 'Photo URLs.', ['photo', 'thumbnail'], 'reference'),
  attr({
    name: 'addresses', description: 'Physical addresses.', multiValued: true,
    subAttributes: ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type']
      .map((n) => attr({ name: n, description: `address ${n}` }))
      .concat([attr({ name: 'primary', type: 'boolean', description: 'The primary address.' })]),
  }),
  attr({
    name: 'groups', description: 'Groups the user is in (read-only: change Group members).', multiValued: true, mutability: 'readOnly',
    subAttributes: [
      attr({ name: 'value', description: 'Group id.', mutability: 'readOnly', caseExact: true }),
      attr({ name: '$ref', type: 'reference', referenceTypes: ['Group'], description: 'Group URI.', mutability: 'readOnly' }),
      attr({ name: 'display', description: 'Group name.', mutability: 'readOnly' }),
      attr({ name: 'type', description: 'direct.', mutability: 'readOnly' }),
    ],
  }),
  multi('entitlements', 'Entitlements.', []),
  multi('roles', 'Roles.', []),
  multi('x509Certificates', 'Certificates (base64 DER).', []),
  meta,
];

export const ENTERPRISE_ATTRS: AttrDef[] = [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n) => attr({ name: n, description: n })),
  attr({
    name: 'manager', description: "The user's manager: the SCIM id of another User.",
    subAttributes: [
      attr({ name: 'value', description: "The manager's id.", caseExact: true }),
      attr({ name: '$ref', type: 'reference', referenceTypes: ['User'], description: "The manager's URI." }),
      attr({ name: 'displayName', description: "The manager's name.", mutability: 'readOnly' }),
    ],
  }),
];

export const GROUP_ATTRS: AttrDef[] = [
  id, externalId,
  attr({ name: 'displayName', description: 'The group name.', required: true }),
  attr({
    name: 'members', description: 'Members (Users).', multiValued: true,
    subAttributes: [
      attr({ name: 'value', description: "The member's id.", caseExact: true, mutability: 'immutable' }),
      attr({ name: '$ref', type: 'reference', referenceTypes: ['User', 'Group'], description: "The member's URI.", mutability: 'immutable' }),
      attr({ name: 'display', description: "The member's name.", mutability: 'readOnly' }),
      attr({ name: 'type', description: 'User.', mutability: 'immutable', canonicalValues: ['User'] }),
    ],
  }),
  meta,
];

export type ResourceType = 'User' | 'Group';

export interface ResourceSchema {
  type: ResourceType;
  core: string;
  attrs: AttrDef[];
  /** Extension URN -> its attributes. */
  extensions: Map<string, AttrDef[]>;
  endpoint: string;
}

export const USER: ResourceSchema = { type: 'User', core: USER_SCHEMA, attrs: USER_ATTRS, extensions: new Map([[ENTERPRISE_SCHEMA, ENTERPRISE_ATTRS]]), endpoint: '/Users' };
export const GROUP: ResourceSchema = { type: 'Group', core: GROUP_SCHEMA, attrs: GROUP_ATTRS, extensions: new Map(), endpoint: '/Groups' };

/** The definition of a name among defs, case-insensitively. */
export function findAttr(defs: readonly AttrDef[] | undefined, name: string): AttrDef | undefined {
  const lower = name.toLowerCase();
  return defs?.find((d) => d.name.toLowerCase() === lower);
}

/** The extension URN as the schema spells it, for a URN in any case. */
export function canonicalUrn(schema: ResourceSchema, urn: string): string | undefined {
  const lower = urn.toLowerCase();
  if (lower === schema.core.toLowerCase()) return schema.core;
  return [...schema.extensions.keys()].find((u) => u.toLowerCase() === lower);
}

/** /Schemas entries: RFC 7643 §7 form. */
export function schemaResources(baseUrl: string): Record<string, unknown>[] {
  const render = (defs: AttrDef[]): unknown[] => defs.map(({ subAttributes, ...d }) => ({ ...d, ...(subAttributes ? { subAttributes: render(subAttributes) } : {}) }));
  const one = (id: string, name: string, description: string, attributes: AttrDef[]) => ({
    schemas: [SCHEMA_SCHEMA], id, name, description, attributes: render(attributes),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${id}` },
  });
  return [
    one(USER_SCHEMA, 'User', 'User Account', USER_ATTRS),
    one(ENTERPRISE_SCHEMA, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_ATTRS),
    one(GROUP_SCHEMA, 'Group', 'Group', GROUP_ATTRS),
  ];
}

export function resourceTypes(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA], id: 'User', name: 'User', endpoint: '/Users', description: 'User Account', schema: USER_SCHEMA,
      schemaExtensions: [{ schema: ENTERPRISE_SCHEMA, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA], id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Group', schema: GROUP_SCHEMA, schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

export function serviceProviderConfig(baseUrl: string, maxResults: number): Record<string, unknown> {
  return {
    schemas: [SPC_SCHEMA],
    documentationUri: 'https://datatracker.ietf.org/doc/html/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      { type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'Authentication with a bearer token (TETHER_SCIM_TOKEN).', primary: true },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}
