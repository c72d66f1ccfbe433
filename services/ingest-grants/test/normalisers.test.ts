import { describe, expect, it } from 'vitest';
import { deriveEventId, type AccessEvent } from '#schemas';
import { subjectOf, type GrantNormaliser } from '../src/normalise/grant-event.ts';
import { decodeValue, normaliseEntraAudit, normaliseEntraAuditWith, parseConsentPermissions } from '../src/sources/entra/directory-audit.ts';
import { GITHUB_AUDIT_FEED, normaliseGitHubAudit } from '../src/sources/github/audit-log.ts';
import { GOOGLE_TOKEN_FEED, normaliseGoogleToken } from '../src/sources/google/token-activity.ts';
import { OKTA_LOG_FEED, normaliseOktaLog } from '../src/sources/okta/system-log.ts';
import { ctxFor, fixture } from './fixtures.ts';

type Provider = 'google' | 'entra' | 'okta' | 'github';

function run(normalise: GrantNormaliser, provider: Provider, feed: string, records: unknown[], org: string | null = null) {
  const events: AccessEvent[] = [];
  const skipped: string[] = [];
  for (const record of records) {
    const result = normalise(record, ctxFor(provider, feed, record, org));
    if (!result.ok) throw result.error;
    events.push(...result.events);
    skipped.push(...result.skipped);
  }
  return { events, skipped };
}

describe('Google token activities', () => {
  const page = fixture<{ items: unknown[] }>('google', 'token-activities-page.json');
  const { events, skipped } = run(normaliseGoogleToken, 'google', GOOGLE_TOKEN_FEED, page.items);

  it('maps authorize, revoke and activity to grant, revoke and use, one event per events[] element', () => {
    expect(events.map((e) => [e.time_raw, e.source_type, e.action])).toEqual([
      ['2025-03-10T16:02:11.120Z', 'authorize', 'oauth.grant'],
      ['2025-03-08T10:00:00.000Z', 'revoke', 'oauth.revoke'],
      ['2025-03-05T12:30:00.250Z', 'activity', 'oauth.use'],
      ['2025-03-04T09:12:41.337Z', 'authorize', 'oauth.grant'],
      ['2025-03-04T08:00:00Z', 'authorize', 'oauth.grant'],
    ]);
    expect(skipped).toEqual(['token_refresh_audit']);
  });

  it('reads the multi-valued scope, else scope_data scope names', () => {
    expect(events[0]!.connector).toEqual({
      provider: 'google',
      client_id: '123456789012-abc123.apps.googleusercontent.com',
      app_name: 'ChatGPT',
      scopes: ['https://www.googleapis.com/auth/drive.readonly', 'https://www.googleapis.com/auth/gmail.readonly', 'openid'],
    });
    expect(events[4]!.connector?.scopes).toEqual(['https://www.googleapis.com/auth/calendar.readonly']);
  });

  it('names the granting person by profile id and email, never the placeholder profile id', () => {
    expect(events[0]!.actor).toMatchObject({ kind: 'human', platform_user_id: '114477889900112233445', email: 'dana.ruiz@example.com' });
    expect(subjectOf(events[0]!)).toEqual({ kind: 'user', userId: '114477889900112233445', email: 'dana.ruiz@example.com' });
    expect(events[4]!.actor).toMatchObject({ platform_user_id: null, email: 'lee.wong@example.com' });
    expect(subjectOf(events[4]!)).toEqual({ kind: 'user', userId: null, email: 'lee.wong@example.com' });
  });

  it("makes a token use the app's act for the user, from the vendor's address, with no device and the API call as operation", () => {
    const use = events[2]!;
    expect(use.actor).toMatchObject({ kind: 'oauth_client', oauth_client_id: '123456789012-abc123.apps.googleusercontent.com', email: 'dana.ruiz@example.com' });
    expect(use.src).toEqual({ ip: '20.171.206.9', user_agent: null, hostname: null, device_serial: null, device_id: null, country: 'US' });
    expect(use.connector?.scopes).toEqual([]);
    expect(JSON.parse(use.unmapped)).toMatchObject({ operation: 'drive.drive.files.list', num_response_bytes: 48213, product_bucket: 'DRIVE' });
  });

  it('derives the event id from the reference dedup key, so equal time and qualifier with another index differ', () => {
    const key = 'google:C01ab2cd3:token:2025-03-04T09:12:41.337Z:-4412098765501234567:0:authorize';
    expect(events[3]!.source.source_event_id).toBe(key);
    expect(events[3]!.event_id).toBe(deriveEventId('google', GOOGLE_TOKEN_FEED, key));
    expect(events[3]!.source.ingest_version).toBe('ingest-grants/1');
    // Same uniqueQualifier, other time: another event.
    expect(events[1]!.event_id).not.toBe(events[3]!.event_id);
    expect(events[0]!.scope.organization_id).toBe('C01ab2cd3');
  });

  it('refuses records without id time, qualifier or client id, with the reason', () => {
    const bad = [
      [{ id: { uniqueQualifier: '1' }, events: [] }, /"time" is missing/],
      [{ id: { time: '2025-03-04T09:12:41Z' }, events: [] }, /"uniqueQualifier" is missing/],
      [{ id: { time: 'yesterday', uniqueQualifier: '1' }, events: [] }, /time "yesterday"/],
      [{ id: { time: '2025-03-04T09:12:41Z', uniqueQualifier: '1' }, events: [{ name: 'authorize', parameters: [{ name: 'app_name', value: 'X' }] }] }, /names no client_id/],
      [{ id: { time: '2025-03-04T09:12:41Z', uniqueQualifier: '1' }, events: {} }, /events is not an array/],
      ['not an object', /not a JSON object/],
    ] as const;
    for (const [record, reason] of bad) {
      const result = normaliseGoogleToken(record, ctxFor('google', GOOGLE_TOKEN_FEED, record));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('TETHER_NORMALISE_INVALID');
        expect(result.error.message).toMatch(reason);
      }
    }
  });
});

describe('Entra directory audits', () => {
  const page = fixture<{ value: unknown[] }>('entra', 'directory-audits-page.json');
  const TENANT = 'tttttttt-0000-4000-8000-000000000001';
  const { events, skipped } = run(normaliseEntraAudit, 'entra', 'directory_audits', page.value, TENANT);
  const byId = (id: string) => events.find((e) => e.source.source_event_id === id)!;

  it('maps the consent activities and skips the rest', () => {
    expect(events.map((e) => [e.source_type, e.action, e.outcome])).toEqual([
      ['Add service principal', 'oauth.app_record', 'success'],
      ['Add delegated permission grant', 'oauth.grant', 'success'],
      ['Consent to application', 'oauth.grant', 'success'],
      ['Consent to application', 'oauth.grant', 'success'],
      ['Remove delegated permission grant', 'oauth.revoke', 'success'],
      ['Add app role assignment to service principal', 'oauth.grant', 'success'],
      ['Consent to application', 'oauth.grant', 'failure'],
    ]);
    expect(skipped).toEqual(['Update application']);
  });

  it('user consent: the app id from TargetId.ServicePrincipalNames, scopes from ConsentAction.Permissions, the user as subject', () => {
    const e = byId('Directory_5f1c2a7e_ABC12_1234');
    expect(e.connector).toEqual({ provider: 'entra', client_id: 'e0476654-c1d5-430b-ab80-70cbd947616a', app_name: 'ChatGPT', scopes: ['Files.Read', 'Mail.Read', 'offline_access', 'User.Read'] });
    expect(e.actor).toMatchObject({ kind: 'human', platform_user_id: '0a1b2c3d-0000-4000-8000-00000000dana', email: 'dana.ruiz@example.com' });
    expect(subjectOf(e)).toEqual({ kind: 'user', userId: '0a1b2c3d-0000-4000-8000-00000000dana', email: 'dana.ruiz@example.com' });
    expect(e.src).toMatchObject({ ip: '203.0.113.24', user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15' });
    expect(JSON.parse(e.unmapped)).toMatchObject({ admin_consent: false, consent_type: 'Principal', correlationId: 'c0ffee00-1111-4222-8333-444455556666' });
    expect(e.targets).toContainEqual({ type: 'service_principal', id: '9f8e7d6c-0000-4000-8000-0000000000sp', name: 'ChatGPT' });
  });

  it('admin consent on behalf of all: tenant-wide subject, every group scope, the admin as actor, AppId from additionalDetails', () => {
    const e = byId('Directory_77aa_ADM_2001');
    expect(e.connector).toMatchObject({ client_id: '4c1d9b0e-5f11-4a8e-9c41-0c1a0de00365', app_name: 'M365 MCP for Claude', scopes: ['Sites.Read.All', 'Files.Read.All', 'AllSites.Read'] });
    expect(e.actor.email).toBe('it.admin@example.com');
    expect(subjectOf(e)).toEqual({ kind: 'all', scopeId: TENANT });
    expect(JSON.parse(e.unmapped)).toMatchObject({ admin_consent: true, consent_type: 'AllPrincipals' });
  });

  it('delegated permission grant: client is the second ServicePrincipal target (keys read case-insensitively); scope from the JSON-encoded newValue', () => {
    const e = byId('Directory_5f1c2a7e_ABC12_1002');
    // No app id anywhere in the record: the object id is kept, flagged.
    expect(e.connector).toMatchObject({ client_id: '9f8e7d6c-0000-4000-8000-0000000000sp', scopes: ['Files.Read', 'Mail.Read', 'offline_access', 'User.Read'] });
    expect(JSON.parse(e.unmapped).tether_flags).toContain('client_id_is_object_id');
    // With an inventory lookup, the app id.
    const withLookup = normaliseEntraAuditWith((id) => (id === '9f8e7d6c-0000-4000-8000-0000000000sp' ? 'e0476654-c1d5-430b-ab80-70cbd947616a' : null));
    const record = page.value[1];
    const result = withLookup(record, ctxFor('entra', 'directory_audits', record, TENANT));
    expect(result.ok && result.events[0]!.connector?.client_id).toBe('e0476654-c1d5-430b-ab80-70cbd947616a');
  });

  it('revoke reads the old values; an app role assignment is an app-only tenant-wide grant of the role', () => {
    const revoke = byId('Directory_5f1c2a7e_REM_3001');
    expect(revoke.connector).toMatchObject({ client_id: 'e0476654-c1d5-430b-ab80-70cbd947616a', scopes: ['Files.Read', 'Mail.Read', 'offline_access', 'User.Read'] });
    expect(subjectOf(revoke)).toMatchObject({ kind: 'user', userId: '0a1b2c3d-0000-4000-8000-00000000dana' });
    const role = byId('Directory_99_ROLE_4001');
    expect(role.connector).toEqual({ provider: 'entra', client_id: '7d1e9a3f-2b88-4c10-9f55-c0aa41e2b6d1', app_name: 'Zapier Mail Sync', scopes: ['Mail.Read'] });
    expect(subjectOf(role)?.kind).toBe('all');
  });

  it('a failed consent with unreadable permissions text: failure, no scopes, flagged, kept', () => {
    const e = byId('Directory_fail_6001');
    expect(e.outcome).toBe('failure');
    expect(e.connector?.scopes).toEqual([]);
    expect(JSON.parse(e.unmapped).tether_flags).toEqual(expect.arrayContaining(['consent_permissions_unparsed', 'client_id_is_object_id']));
  });

  it('decodes JSON-encoded values once and parses the permissions text', () => {
    expect(decodeValue('"\\"True\\""')).toBe('"True"');
    expect(decodeValue('"True"')).toBe('True');
    expect(decodeValue('not json')).toBe('not json');
    expect(parseConsentPermissions('[] => [[Id: a, ClientId: c, PrincipalId: , ResourceId: r, ConsentType: AllPrincipals, Scope: A B, CreatedDateTime: ]]')).toEqual({
      scopes: ['A', 'B'], allPrincipals: true, principalId: null, parsed: true,
    });
  });

  it('Remove service principal ends every grant of the app', () => {
    const record = { id: 'Directory_rm', activityDisplayName: 'Remove service principal', activityDateTime: '2025-03-09T00:00:00Z', result: 'success',
      initiatedBy: { user: { id: 'admin', userPrincipalName: 'it.admin@example.com' } },
      targetResources: [{ id: 'sp-1', displayName: 'ChatGPT', type: 'ServicePrincipal', modifiedProperties: [{ displayName: 'TargetId.ServicePrincipalNames', oldValue: '"e0476654-c1d5-430b-ab80-70cbd947616a;https://chatgpt.example"', newValue: null }] }] };
    const result = normaliseEntraAudit(record, ctxFor('entra', 'directory_audits', record, TENANT));
    expect(result.ok && subjectOf(result.events[0]!)).toEqual({ kind: 'every', scopeId: TENANT });
    expect(result.ok && result.events[0]!.connector?.client_id).toBe('e0476654-c1d5-430b-ab80-70cbd947616a');
  });
});

describe('Okta System Log', () => {
  const page = fixture<unknown[]>('okta', 'logs-page.json');
  const { events, skipped } = run(normaliseOktaLog, 'okta', OKTA_LOG_FEED, page, 'example.okta.com');

  it('maps consent, token and revoke types by eventType and skips the rest', () => {
    expect(events.map((e) => [e.source_type, e.action, e.outcome])).toEqual([
      ['app.oauth2.as.consent.grant', 'oauth.grant', 'success'],
      ['app.oauth2.as.token.grant.access_token', 'oauth.use', 'success'],
      ['app.oauth2.as.token.grant', 'oauth.use', 'failure'],
      ['app.oauth2.as.consent.revoke.user.client', 'oauth.revoke', 'success'],
    ]);
    expect(skipped).toEqual(['user.session.start']);
  });

  it('consent: the user acts, the client is the PublicClientApp target, granted scopes split', () => {
    const e = events[0]!;
    expect(e.actor).toMatchObject({ kind: 'human', platform_user_id: '00u1ab2CdExAmPlE3f4', email: 'dana.ruiz@example.com', session_id: '102abcSeSsIoN' });
    expect(e.connector).toEqual({ provider: 'okta', client_id: '0oa8x2k1ExAmPlE5d7', app_name: 'Claude', scopes: ['openid', 'profile', 'email', 'offline_access'] });
    expect(e.src).toMatchObject({ ip: '203.0.113.24', user_agent: 'Mozilla/5.0 (Macintosh)', country: 'Portugal' });
    expect(e.event_id).toBe(deriveEventId('okta', OKTA_LOG_FEED, '11110000-1f4e-11f0-9b1a-0bd1c1e0a001'));
  });

  it('token grant: the client acts for the User target, requested scopes when none granted', () => {
    const e = events[1]!;
    expect(e.actor).toMatchObject({ kind: 'oauth_client', oauth_client_id: '0oa8x2k1ExAmPlE5d7', platform_user_id: '00u1ab2CdExAmPlE3f4', email: 'dana.ruiz@example.com' });
    expect(e.connector?.scopes).toEqual(['openid', 'offline_access']);
    expect(e.src.user_agent).toBe('ClaudeConnector/2.3');
  });

  it("an admin's revoke closes the user's grant: the subject is the User target, the admin the actor", () => {
    const e = events[3]!;
    expect(e.actor.email).toBe('it.admin@example.com');
    expect(subjectOf(e)).toEqual({ kind: 'user', userId: '00u1ab2CdExAmPlE3f4', email: 'dana.ruiz@example.com' });
  });

  it('refuses an OAuth event naming no client', () => {
    const record = { uuid: 'u1', published: '2025-03-04T09:20:11.402Z', eventType: 'app.oauth2.as.consent.grant', actor: { id: '00u1', type: 'User' }, target: [] };
    const result = normaliseOktaLog(record, ctxFor('okta', OKTA_LOG_FEED, record));
    expect(!result.ok && result.error.message).toMatch(/names no OAuth client/);
  });
});

describe('GitHub organization audit log', () => {
  const page = fixture<unknown[]>('github', 'audit-log-page.json');
  const { events, skipped } = run(normaliseGitHubAudit, 'github', GITHUB_AUDIT_FEED, page);

  it('maps installations, OAuth authorisations and PAT events, skips the rest', () => {
    expect(events.map((e) => [e.source_type, e.action, e.time])).toEqual([
      ['integration_installation.create', 'oauth.grant', 1741080011000],
      ['oauth_authorization.create', 'oauth.grant', 1741080100000],
      ['personal_access_token.access_granted', 'oauth.grant', 1741166400000],
      ['oauth_authorization.destroy', 'oauth.revoke', 1741428000000],
    ]);
    expect(skipped).toEqual(['git.clone']);
  });

  it('an installation is the organisation\'s grant, installed by its actor', () => {
    const e = events[0]!;
    expect(e.connector).toEqual({ provider: 'github', client_id: 'example-ai-reviewer', app_name: 'example-ai-reviewer', scopes: [] });
    expect(subjectOf(e)).toEqual({ kind: 'all', scopeId: '8812345' });
    expect(e.actor).toMatchObject({ platform_user_id: '5512345', name: 'dana-ruiz', email: null });
    expect(e.src).toMatchObject({ ip: '203.0.113.51', user_agent: 'Mozilla/5.0 (Macintosh)', country: 'PT' });
  });

  it('an OAuth authorisation: client id, comma-separated scopes, org given as arrays', () => {
    const e = events[1]!;
    expect(e.connector).toEqual({ provider: 'github', client_id: '01ab8ac9400c4e429b23', app_name: 'Cursor', scopes: ['repo', 'read:org', 'workflow'] });
    expect(subjectOf(e)).toEqual({ kind: 'user', userId: '5512345', email: null });
    expect(e.scope.organization_id).toBe('8812345');
  });

  it("a PAT approved by an owner is the token owner's grant", () => {
    const e = events[2]!;
    expect(e.connector).toMatchObject({ client_id: 'pat:4455667', app_name: 'mcp-github-server' });
    expect(subjectOf(e)).toEqual({ kind: 'user', userId: '7700007', email: null });
    expect(e.actor.name).toBe('org-owner');
  });

  it('refuses an entry without a document id or with a time in the wrong unit', () => {
    for (const [record, reason] of [
      [{ action: 'oauth_authorization.create', '@timestamp': 1741080100000 }, /_document_id/],
      [{ _document_id: 'x', action: 'oauth_authorization.create', '@timestamp': 1741080100, client_id: 'c' }, /before 1973/],
      [{ _document_id: 'x', action: 'oauth_authorization.create', '@timestamp': 1741080100000 }, /names no app/],
    ] as const) {
      const result = normaliseGitHubAudit(record, ctxFor('github', GITHUB_AUDIT_FEED, record));
      expect(!result.ok && result.error.message).toMatch(reason);
    }
  });
});
