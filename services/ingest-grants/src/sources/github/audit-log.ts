// GitHub organization audit log entry (reference section 4) -> AccessEvents
// for OAuth app authorisations, GitHub App installations and personal access
// token events (4.2); other actions are skipped and counted.
//
// Whose grant: an OAuth authorisation is the authorising user's; an app
// installation, an org-level OAuth app approval or block is the
// organisation's (every member's data it reaches); a fine-grained PAT is its
// owner's (`user`), even when an owner approves it. GitHub names people by
// login and numeric id only: the email is resolved later (SCIM, aliases).
import type { Actor, Target } from '#schemas';
import { asObject, emptyScope, emptySrc, idOf, invalid, known, rest, str, type Json } from '../../../../ingest-ai/src/normalise/common.ts';
import { requireTime, timeText } from '../../../../ingest-ai/src/normalise/time.ts';
import { grantEvent, humanActor, safelyMany, scopeList, type GrantKind, type GrantSubject, type Outcome } from '../../normalise/grant-event.ts';

export const GITHUB_AUDIT_FEED = 'audit_log';

type Whose = 'user' | 'org' | 'token_owner';

interface ActionMapping {
  kind: GrantKind;
  outcome: Outcome;
  whose: Whose;
  /** Revokes every grant of the app, whoever's (an org blocks an app, revokes all its tokens). */
  allGrants?: boolean;
}

const m = (kind: GrantKind, whose: Whose, outcome: Outcome = 'success', allGrants = false): ActionMapping => ({ kind, outcome, whose, allGrants });

const ACTIONS: Readonly<Record<string, ActionMapping>> = {
  'oauth_authorization.create': m('grant', 'user'),
  'oauth_authorization.update': m('grant', 'user'),
  'oauth_authorization.destroy': m('revoke', 'user'),
  'org.oauth_app_access_requested': m('grant', 'org', 'unknown'),
  'org.oauth_app_access_approved': m('grant', 'org'),
  'org.oauth_app_access_denied': m('revoke', 'org'),
  'org.oauth_app_access_blocked': m('revoke', 'org', 'success', true),
  'org.oauth_app_access_unblocked': m('grant', 'org'),
  'integration_installation.create': m('grant', 'org'),
  'integration_installation.destroy': m('revoke', 'org', 'success', true),
  'integration_installation.repositories_added': m('grant', 'org'),
  'integration_installation.repositories_removed': m('revoke', 'org'),
  'integration_installation.suspend': m('revoke', 'org', 'success', true),
  'integration_installation.unsuspend': m('grant', 'org'),
  'integration_installation.version_updated': m('grant', 'org'),
  'integration_installation_request.create': m('grant', 'org', 'unknown'),
  'personal_access_token.request_created': m('grant', 'token_owner', 'unknown'),
  'personal_access_token.request_denied': m('grant', 'token_owner', 'failure'),
  'personal_access_token.access_granted': m('grant', 'token_owner'),
  'personal_access_token.access_revoked': m('revoke', 'token_owner'),
  'org_credential_authorization.grant': m('grant', 'token_owner'),
  'org_credential_authorization.revoke': m('revoke', 'token_owner'),
  'org_credential_authorization.deauthorize': m('revoke', 'token_owner'),
  'oauth_application.revoke_tokens': m('revoke', 'org', 'success', true),
  'oauth_application.revoke_all_tokens': m('revoke', 'org', 'success', true),
  'oauth_application.create': m('appRecord', 'org'),
  'integration.create': m('appRecord', 'org'),
};

/** `org`/`org_id` sometimes arrive as arrays (reference 4.1): the first. */
function first(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** The app: client id when written, else the OAuth application id, else the GitHub App slug; PATs by token id. */
function appOf(rec: Json, action: string): { clientId: string | null; appName: string | null } {
  if (action.startsWith('personal_access_token.') || action.startsWith('org_credential_authorization.')) {
    const token = idOf(rec.token_id) ?? str(rec.hashed_token) ?? idOf(rec.credential_id);
    return { clientId: token === null ? null : `pat:${token}`, appName: str(rec.token_name) ?? str(rec.programmatic_access_type) ?? str(rec.credential_type) };
  }
  const name = str(rec.oauth_application) ?? str(rec.oauth_application_name) ?? str(rec.integration) ?? str(rec.application) ?? str(rec.name);
  const clientId = str(rec.client_id) ?? str(rec.oauth_application_client_id) ?? idOf(rec.oauth_application_id) ?? idOf(rec.integration_id) ?? str(rec.integration);
  return { clientId, appName: name };
}

export const normaliseGitHubAudit = safelyMany((rec, ctx) => {
  const what = `github audit entry ${str(rec._document_id) ?? '(no _document_id)'}`;
  const documentId = str(rec._document_id);
  if (documentId === null) throw invalid(`${what}: "_document_id" is missing`);
  const action = str(rec.action);
  if (action === null) throw invalid(`${what}: "action" is missing`);
  const timeValue = rec['@timestamp'] ?? rec.created_at;
  const time = requireTime('epoch_ms', timeValue, what);
  const mapping = Object.hasOwn(ACTIONS, action) ? ACTIONS[action]! : undefined;
  if (!mapping) return { events: [], skipped: [action] };

  const { clientId, appName } = appOf(rec, action);
  if (clientId === null) throw invalid(`${what}: ${action} names no app (client_id, oauth_application_id, integration) or token`);
  const org = str(first(rec.org));
  const orgId = idOf(first(rec.org_id));
  const actorLogin = str(rec.actor);
  const actorId = idOf(rec.actor_id);
  const actor: Actor = humanActor({ platform_user_id: actorId, name: actorLogin });

  const ownerId = idOf(rec.user_id);
  const ownerLogin = str(rec.user);
  let subject: GrantSubject | null;
  if (mapping.allGrants) subject = { kind: 'every', scopeId: orgId ?? org ?? 'org' };
  else if (mapping.whose === 'org') subject = { kind: 'all', scopeId: orgId ?? org ?? 'org' };
  else if (mapping.whose === 'token_owner' && (ownerId || ownerLogin)) subject = { kind: 'user', userId: ownerId ?? `login:${ownerLogin}`, email: null };
  else subject = actorId || actorLogin ? { kind: 'user', userId: actorId ?? `login:${actorLogin}`, email: null } : null;

  const extraTargets: Target[] = [];
  if (mapping.whose === 'token_owner' && (ownerId || ownerLogin)) extraTargets.push({ type: 'user', id: ownerId ?? ownerLogin!, name: ownerLogin });
  const repo = str(rec.repo);
  if (repo) extraTargets.push({ type: 'repository', id: repo, name: repo });
  const installationId = idOf(rec.installation_id);
  if (installationId) extraTargets.push({ type: 'installation', id: installationId, name: null });

  const event = grantEvent(
    {
      kind: mapping.kind,
      sourceEventId: documentId,
      time,
      timeRaw: timeText(timeValue)!,
      sourceType: action,
      outcome: mapping.outcome,
      actor,
      subject,
      connector: { provider: 'github', client_id: clientId, app_name: appName, scopes: scopeList(rec.token_scopes, /,/) },
      targets: extraTargets,
      scope: { ...emptyScope(), organization_id: orgId ?? org },
      src: { ...emptySrc(), ip: known(rec.actor_ip), user_agent: str(rec.user_agent), country: str(asObject(rec.actor_location)?.country_code) },
      unmapped: {
        ...rest(rec, ['_document_id', 'action', '@timestamp', 'actor_id', 'actor_ip', 'user_agent', 'token_scopes', 'actor_location']),
      },
    },
    ctx,
  );
  return { events: [event], skipped: [] };
});
