// OpenAI audit log types and how each maps: the one table to edit when the
// API adds types. The list is the spec's `AuditLogEventType` enum (145 types,
// 86 of them tenant.*) as shipped in the official SDKs (openai-go
// AdminOrganizationAuditLogListResponse.Type, openai-python
// audit_log_list_params.py); refresh it from the spec, not by hand.
import type { Target } from '#schemas';
import { ACCESS_ACTIVITY, AUTH_ACTIVITY, OCSF_CLASS, apiActivityForVerb } from '../../normalise/ocsf.ts';
import { asObject, own, str, target, type Json } from '../../normalise/common.ts';

export const OPENAI_AUDIT_EVENT_TYPES: readonly string[] = [
  'api_key.created', 'api_key.updated', 'api_key.deleted', 'certificate.created', 'certificate.updated',
  'certificate.deleted', 'certificates.activated', 'certificates.deactivated', 'checkpoint.permission.created',
  'checkpoint.permission.deleted', 'external_key.registered', 'external_key.removed', 'group.created',
  'group.updated', 'group.deleted', 'invite.sent', 'invite.accepted', 'invite.deleted', 'ip_allowlist.created',
  'ip_allowlist.updated', 'ip_allowlist.deleted', 'ip_allowlist.config.activated', 'ip_allowlist.config.deactivated',
  'login.succeeded', 'login.failed', 'logout.succeeded', 'logout.failed', 'organization.updated', 'project.created',
  'project.updated', 'project.archived', 'project.deleted', 'rate_limit.updated', 'rate_limit.deleted',
  'resource.deleted', 'tunnel.created', 'tunnel.updated', 'tunnel.deleted', 'workload_identity_provider.created',
  'workload_identity_provider.updated', 'workload_identity_provider.deleted',
  'workload_identity_provider_mapping.created', 'workload_identity_provider_mapping.updated',
  'workload_identity_provider_mapping.deleted', 'role.created', 'role.updated', 'role.deleted',
  'role.assignment.created', 'role.assignment.deleted', 'role.bound_to_resource', 'role.unbound_from_resource',
  'scim.enabled', 'scim.disabled', 'service_account.created', 'service_account.updated', 'service_account.deleted',
  'user.added', 'user.updated', 'user.deleted', 'tenant.metadata.updated', 'tenant.microsoft_entra_mapping.upserted',
  'tenant.microsoft_entra_mapping.deleted', 'tenant.workload_identity.provider.created',
  'tenant.workload_identity.provider.updated', 'tenant.workload_identity.provider.archived',
  'tenant.workload_identity.mapping.created', 'tenant.workload_identity.mapping.updated',
  'tenant.workload_identity.mapping.archived', 'tenant.workload_identity.binding.created',
  'tenant.workload_identity.principal.provisioned', 'tenant.workload_identity.access_token.issued',
  'tenant.admin_api_key.created', 'tenant.admin_api_key.updated', 'tenant.admin_api_key.deleted',
  'tenant.project_api_key.created', 'tenant.chatgpt_access_token.revoked', 'tenant.migration.completed',
  'tenant.sso.migrated', 'tenant.domains.migrated', 'tenant.sso_connection.created', 'tenant.sso_connection.updated',
  'tenant.sso_connection.deleted', 'tenant.sso_connection.setup.started', 'tenant.policy.created',
  'tenant.policy.updated', 'tenant.policy.deleted', 'tenant.policy.attached', 'tenant.policy.detached',
  'tenant.principal_authentication_policy.resolved', 'tenant.scim.setup.started', 'tenant.scim.deletion.requested',
  'tenant.scim.directory.created', 'tenant.product_access_policy.updated', 'tenant.resource_share_grant.created',
  'tenant.resource_share_grant.updated', 'tenant.resource_share_grant.accepted',
  'tenant.resource_share_grant.declined', 'tenant.resource_share_grant.revoked',
  'tenant.resource_share_grant.deleted', 'tenant.service_account.updated', 'tenant.service_account.deleted',
  'tenant.service_account.token.revoked', 'tenant.billing.overage_limit.updated', 'tenant.billing.alerts.updated',
  'tenant.billing.info.updated', 'tenant.usage_limit.workspace.updated', 'tenant.usage_limit.group.updated',
  'tenant.usage_limit.user.updated', 'tenant.usage_limit.increase_request.updated',
  'tenant.usage_limit.increase_request.resolved', 'tenant.group.created', 'tenant.group.updated',
  'tenant.group.deleted', 'tenant.group.member.added', 'tenant.group.member.removed',
  'tenant.migration_rollout.status.updated', 'tenant.migration_rollout.tier.updated', 'tenant.role.metadata.updated',
  'tenant.custom_role.created', 'tenant.custom_role.updated', 'tenant.custom_role.deleted',
  'tenant.role_assignment.created', 'tenant.role_assignment.deleted', 'tenant.resource_role_assignment.created',
  'tenant.resource_role_assignment.deleted', 'tenant.resource_access.updated', 'tenant.resource_access.deleted',
  'tenant.ads_account.onboarding.redemption', 'tenant.session_policy.created', 'tenant.session_policy.updated',
  'tenant.session_policy.deleted', 'tenant.session_revocation.started', 'tenant.third_party_app_policy.updated',
  'tenant.user.added', 'tenant.user.updated', 'tenant.user.removed', 'tenant.user.looked_up', 'tenant.user.invited',
  'tenant.membership.revoked', 'tenant.api_organization_invite.upserted', 'tenant.api_organization_invite.deleted',
  'tenant.chatgpt_workspace_invite.upserted', 'tenant.membership.accepted', 'tenant.membership.declined',
  'tenant.workspace_invite_email_settings.updated',
];

const KNOWN = new Set(OPENAI_AUDIT_EVENT_TYPES);

export function isDocumentedType(type: string): boolean {
  return KNOWN.has(type);
}

/**
 * `api_key.created` -> object `api_key`, verb `created`; the tenant prefix
 * and inner dots fold into the object (`tenant.admin_api_key.created` ->
 * `admin_api_key`, `ip_allowlist.config.activated` -> `ip_allowlist_config`).
 */
export function splitType(type: string): { object: string; verb: string } {
  const bare = type.startsWith('tenant.') ? type.slice('tenant.'.length) : type;
  const dot = bare.lastIndexOf('.');
  if (dot < 0) return { object: bare, verb: '' };
  return { object: bare.slice(0, dot).replaceAll('.', '_'), verb: bare.slice(dot + 1) };
}

export interface TypeMapping {
  classUid: number;
  activityId: number;
  /** What the event acted on, read from the detail object under `rec[rec.type]`. */
  targets(detail: Json): Target[];
}

const byId = (type: string) => (detail: Json) => target(type, detail.id, detail.name ?? asObject(detail.data)?.name);
const listOf = (type: string, key: string) => (detail: Json) =>
  (Array.isArray(detail[key]) ? (detail[key] as unknown[]) : []).flatMap((e) => target(type, asObject(e)?.id, asObject(e)?.name));

/** Role grants to a principal on a resource (User Access Management). */
const assignment = (detail: Json) => [
  ...target('role', detail.id ?? detail.role_id),
  ...target(str(detail.principal_type) ?? 'principal', detail.principal_id),
  ...target(str(detail.resource_type) ?? 'resource', detail.resource_id),
];

const binding = (detail: Json) => [
  ...target('role', detail.role_id),
  ...target(str(detail.resource_type) ?? 'resource', detail.resource_id ?? detail.id),
  ...target('connector', detail.connector_id, detail.connector_name),
  ...target('workspace', detail.workspace_id),
];

/** Per-type exceptions to the rule "API Activity, verb decides, target = detail.id". */
const OVERRIDES: Record<string, Partial<TypeMapping>> = {
  'login.succeeded': { classUid: OCSF_CLASS.authentication, activityId: AUTH_ACTIVITY.logon, targets: () => [] },
  'login.failed': { classUid: OCSF_CLASS.authentication, activityId: AUTH_ACTIVITY.logon, targets: () => [] },
  'logout.succeeded': { classUid: OCSF_CLASS.authentication, activityId: AUTH_ACTIVITY.logoff, targets: () => [] },
  'logout.failed': { classUid: OCSF_CLASS.authentication, activityId: AUTH_ACTIVITY.logoff, targets: () => [] },
  'role.assignment.created': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.assign, targets: assignment },
  'role.assignment.deleted': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.revoke, targets: assignment },
  'tenant.role_assignment.created': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.assign },
  'tenant.role_assignment.deleted': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.revoke },
  'tenant.resource_role_assignment.created': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.assign },
  'tenant.resource_role_assignment.deleted': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.revoke },
  'role.bound_to_resource': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.assign, targets: binding },
  'role.unbound_from_resource': { classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.revoke, targets: binding },
  'role.created': { targets: (d) => target('role', d.id, d.role_name) },
  'role.updated': { targets: (d) => target('role', d.id, asObject(d.changes_requested)?.role_name) },
  'group.created': { targets: (d) => target('group', d.id, asObject(d.data)?.group_name) },
  'group.updated': { targets: (d) => target('group', d.id, asObject(d.changes_requested)?.group_name) },
  'invite.sent': { targets: (d) => target('invite', d.id, asObject(d.data)?.email) },
  'project.created': { targets: (d) => target('project', d.id, asObject(d.data)?.name ?? asObject(d.data)?.title) },
  'project.updated': { targets: (d) => target('project', d.id, asObject(d.changes_requested)?.title) },
  'ip_allowlist.config.activated': { targets: listOf('ip_allowlist', 'configs') },
  'ip_allowlist.config.deactivated': { targets: listOf('ip_allowlist', 'configs') },
  'certificates.activated': { targets: listOf('certificate', 'certificates') },
  'certificates.deactivated': { targets: listOf('certificate', 'certificates') },
  'checkpoint.permission.created': {
    targets: (d) => [...target('checkpoint_permission', d.id), ...target('project', asObject(d.data)?.project_id)],
  },
  'workload_identity_provider_mapping.deleted': {
    targets: (d) => [
      ...target('workload_identity_provider_mapping', d.id),
      ...target('workload_identity_provider', d.identity_provider_id),
      ...target('project', d.project_id),
      ...target('service_account', d.service_account_id),
    ],
  },
};

/** Object names whose target type reads better singular or as the inventory kind. */
const TARGET_TYPE: Record<string, string> = {
  certificates: 'certificate',
  checkpoint_permission: 'checkpoint_permission',
  project_api_key: 'api_key',
};

export function mappingFor(type: string): TypeMapping {
  const { object, verb } = splitType(type);
  const override = own(OVERRIDES, type) ?? {};
  return {
    classUid: override.classUid ?? OCSF_CLASS.apiActivity,
    activityId: override.activityId ?? apiActivityForVerb(verb),
    targets: override.targets ?? byId(own(TARGET_TYPE, object) ?? object),
  };
}
