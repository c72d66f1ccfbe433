// Cursor audit event types and how each maps: the one table to edit when the
// API adds types (reference 3.2). `event_data` has no published schema, so a
// sub-action (`event_data.action`) refines the verb when present.
import { own } from '../../normalise/common.ts';
import { ACCESS_ACTIVITY, AUTH_ACTIVITY, OCSF_CLASS, apiActivityForVerb } from '../../normalise/ocsf.ts';

/** Documented in Cursor's Admin API reference. */
export const CURSOR_AUDIT_EVENT_TYPES: readonly string[] = [
  'login', 'logout', 'add_user', 'remove_user', 'update_user_role', 'team_settings', 'mcp_server_config', 'team_api_key',
  'user_api_key', 'privacy_mode', 'user_spend_limit', 'team_rule', 'team_repo', 'team_hook', 'team_command',
  'create_directory_group', 'delete_directory_group', 'update_directory_group', 'update_directory_group_permissions',
  'add_user_to_directory_group', 'remove_user_from_directory_group', 'bugbot_installation', 'bugbot_installation_settings',
  'bugbot_repo_settings', 'bugbot_team_rule', 'bugbot_team_settings', 'bugbot_bulk_repo_update',
];

/** Seen only in third-party integrations [secondary]; mapped all the same. */
export const CURSOR_SECONDARY_EVENT_TYPES: readonly string[] = [
  'cloud_agent_user_settings', 'organization_api_key', 'service_account', 'cloud_agent_secret', 'protected_git_scope',
  'protected_git_scope_access_check', 'invite_link', 'invite_email_sent',
];

interface Rule {
  object: string;
  /** Fixed verb; absent: the sub-action decides, else `updated`. */
  verb?: string;
  classUid?: number;
  activityId?: number;
}

const RULES: Record<string, Rule> = {
  login: { object: 'login', classUid: OCSF_CLASS.authentication, activityId: AUTH_ACTIVITY.logon },
  logout: { object: 'logout', verb: 'succeeded', classUid: OCSF_CLASS.authentication, activityId: AUTH_ACTIVITY.logoff },
  add_user: { object: 'user', verb: 'added' },
  remove_user: { object: 'user', verb: 'removed' },
  update_user_role: { object: 'user', verb: 'role_updated', classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.assign },
  team_settings: { object: 'team_settings' },
  mcp_server_config: { object: 'mcp_server_config' },
  team_api_key: { object: 'team_api_key' },
  user_api_key: { object: 'user_api_key' },
  privacy_mode: { object: 'privacy_mode' },
  user_spend_limit: { object: 'user_spend_limit' },
  team_rule: { object: 'team_rule' },
  team_repo: { object: 'team_repo' },
  team_hook: { object: 'team_hook' },
  team_command: { object: 'team_command' },
  create_directory_group: { object: 'directory_group', verb: 'created' },
  delete_directory_group: { object: 'directory_group', verb: 'deleted' },
  update_directory_group: { object: 'directory_group', verb: 'updated' },
  update_directory_group_permissions: { object: 'directory_group', verb: 'permissions_updated', activityId: 3 },
  add_user_to_directory_group: { object: 'directory_group', verb: 'member_added', classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.assign },
  remove_user_from_directory_group: { object: 'directory_group', verb: 'member_removed', classUid: OCSF_CLASS.userAccessManagement, activityId: ACCESS_ACTIVITY.revoke },
  bugbot_installation: { object: 'bugbot_installation' },
  bugbot_installation_settings: { object: 'bugbot_installation_settings' },
  bugbot_repo_settings: { object: 'bugbot_repo_settings' },
  bugbot_team_rule: { object: 'bugbot_team_rule' },
  bugbot_team_settings: { object: 'bugbot_team_settings' },
  bugbot_bulk_repo_update: { object: 'bugbot_repo_settings', verb: 'bulk_updated', activityId: 3 },
  cloud_agent_user_settings: { object: 'cloud_agent_user_settings' },
  organization_api_key: { object: 'organization_api_key' },
  service_account: { object: 'service_account' },
  cloud_agent_secret: { object: 'cloud_agent_secret' },
  protected_git_scope: { object: 'protected_git_scope' },
  protected_git_scope_access_check: { object: 'protected_git_scope', verb: 'access_checked', activityId: 2 },
  invite_link: { object: 'invite_link' },
  invite_email_sent: { object: 'invite', verb: 'sent' },
};

/** Sub-action words as written (create, Delete, "revoke") to the past tense the actions use. */
const SUB_ACTION: Record<string, string> = {
  create: 'created', created: 'created', add: 'created', added: 'created',
  delete: 'deleted', deleted: 'deleted', remove: 'deleted', removed: 'deleted', revoke: 'revoked', revoked: 'revoked',
  update: 'updated', updated: 'updated', edit: 'updated', edited: 'updated', change: 'updated', changed: 'updated',
  enable: 'enabled', enabled: 'enabled', disable: 'disabled', disabled: 'disabled', rotate: 'rotated', rotated: 'rotated',
};

export interface CursorMapping {
  action: string;
  classUid: number;
  activityId: number;
}

/** `login` takes its verb from the outcome; unknown types keep their own name. */
export function mappingFor(type: string, subAction: string | null, failed: boolean): CursorMapping {
  const rule = own(RULES, type);
  if (!rule) return { action: type, classUid: OCSF_CLASS.apiActivity, activityId: apiActivityForVerb('') };
  const sub = subAction === null ? null : (own(SUB_ACTION, subAction.toLowerCase()) ?? subAction.toLowerCase().replace(/\W+/g, '_'));
  const verb = type === 'login' ? (failed ? 'failed' : 'succeeded') : (rule.verb ?? sub ?? 'updated');
  return {
    action: `${rule.object}.${verb}`,
    classUid: rule.classUid ?? OCSF_CLASS.apiActivity,
    activityId: rule.activityId ?? apiActivityForVerb(verb),
  };
}
