// GitHub organization audit log (reference section 4): /orgs/{org}/audit-log
// read in windows (`created:` to the second, ascending), then the Link
// header's `rel="next"` until absent; a window is read again a day later
// (GitHub publishes some entries late). Auth: a bearer token (classic PAT
// with read:audit_log, fine-grained or GitHub App token with org
// administration read) plus the API version headers.
import { env } from '#config';
import { defineSource, headerAuth, type SourceDeps, type SourceFeeds } from '#source';
import { fetchGitHubAuditPage, GITHUB_HEADERS, GITHUB_MAX_PER_PAGE } from '../../fetch/fetchers.ts';
import { clampLimit, grantFold, grantSharedEnv, onFramework, type GrantSharedConfig } from '../grant-source.ts';
import { GITHUB_AUDIT_FEED, normaliseGitHubAudit } from './audit-log.ts';

const P = 'github' as const;
const MINUTE = 60_000;

export const githubSource = defineSource({
  name: P,
  description: 'GitHub organization audit log: OAuth app authorisations, app installations, personal access tokens',
  env: {
    TETHER_GITHUB_TOKEN: env.optionalString(),
    /** The organization (login) whose audit log is read. */
    TETHER_GITHUB_ORG: env.optionalString(),
    TETHER_GITHUB_BASE_URL: env.url('https://api.github.com'),
    /** 1,750 audit-log queries an hour per user and IP. */
    TETHER_GITHUB_REQUESTS_PER_MINUTE: env.int(25, 0),
    ...grantSharedEnv,
  },
  endpoint: (config) =>
    config.TETHER_GITHUB_TOKEN === undefined || config.TETHER_GITHUB_ORG === undefined
      ? null
      : {
          baseUrl: config.TETHER_GITHUB_BASE_URL,
          auth: headerAuth({ ...GITHUB_HEADERS, authorization: `Bearer ${config.TETHER_GITHUB_TOKEN}` }, [config.TETHER_GITHUB_TOKEN, `Bearer ${config.TETHER_GITHUB_TOKEN}`]),
          requestsPerMinute: config.TETHER_GITHUB_REQUESTS_PER_MINUTE,
        },
  feeds: githubFeeds,
});

function githubFeeds(deps: SourceDeps, config: GrantSharedConfig & { TETHER_GITHUB_ORG?: string | undefined }): SourceFeeds {
  const perPage = clampLimit(deps.pageLimit, GITHUB_MAX_PER_PAGE);
  const org = config.TETHER_GITHUB_ORG ?? '';
  const normalise = onFramework(P, GITHUB_AUDIT_FEED, normaliseGitHubAudit, org || null);
  return {
    eventFeeds: [
      {
        feed: GITHUB_AUDIT_FEED,
        maxWindowMs: 24 * 60 * MINUTE,
        lagMs: MINUTE,
        rereadMs: 24 * 60 * MINUTE,
        fetchPage: (window, next, signal) => fetchGitHubAuditPage(deps.http, org, window, next as string | null, perPage, signal),
        normalise,
      },
    ],
    inventories: [],
    fold: grantFold(P, config),
    importFeeds: { [GITHUB_AUDIT_FEED]: normalise },
    defaultImportFeed: GITHUB_AUDIT_FEED,
  };
}
