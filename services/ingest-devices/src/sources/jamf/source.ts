// Jamf Pro computers (reference §A4) as a source: `GET /api/v1/computers-inventory`
// with the sections GENERAL, HARDWARE and USER_AND_LOCATION, paged by `page`
// (zero-based) and `page-size`, sorted by id; `{totalCount, results}` read
// with the framework's numbered-page reader, whose guard stops a server
// that pages past its own total. Credentials: an API client, or a user's
// bearer token (auth.ts). A 429's Retry-After is honoured by the HTTP client.
import { z } from 'zod';
import { env } from '#config';
import { tetherError } from '#errors';
import { defineSource, numberedPage, paginate, type Page } from '#source';
import { field, isObject } from '../../fields.ts';
import { deviceInventory, itemsOf } from '../device-inventory.ts';
import { jamfClientCredentials, jamfUserToken } from './auth.ts';
import { COMPUTER_SECTIONS, readJamfComputer } from './computer.ts';

const PATH = '/api/v1/computers-inventory';
export const JAMF_MAX_PAGE = 2_000;

export const jamfSource = defineSource({
  name: 'jamf',
  description: 'Jamf Pro computers: serial, assigned user, management state and addresses over time',
  env: {
    /** The Jamf Pro server, e.g. https://example.jamfcloud.com. */
    TETHER_JAMF_URL: z.url().optional(),
    /** API client (Jamf Pro 10.49+) with the Read Computers privilege; preferred over a user. */
    TETHER_JAMF_CLIENT_ID: env.optionalString(),
    TETHER_JAMF_CLIENT_SECRET: env.optionalString(),
    /** A user whose name and password are exchanged for a bearer token. */
    TETHER_JAMF_USERNAME: env.optionalString(),
    TETHER_JAMF_PASSWORD: env.optionalString(),
    TETHER_JAMF_REQUESTS_PER_MINUTE: env.int(0, 0),
  },
  endpoint: (config) => {
    const base = config.TETHER_JAMF_URL;
    if (base === undefined) return null;
    const auth =
      config.TETHER_JAMF_CLIENT_ID !== undefined && config.TETHER_JAMF_CLIENT_SECRET !== undefined
        ? jamfClientCredentials(base, config.TETHER_JAMF_CLIENT_ID, config.TETHER_JAMF_CLIENT_SECRET)
        : config.TETHER_JAMF_USERNAME !== undefined && config.TETHER_JAMF_PASSWORD !== undefined
          ? jamfUserToken(base, config.TETHER_JAMF_USERNAME, config.TETHER_JAMF_PASSWORD)
          : null;
    return auth && { baseUrl: base, auth, requestsPerMinute: config.TETHER_JAMF_REQUESTS_PER_MINUTE };
  },
  feeds: (deps) => {
    const size = Math.min(Math.max(1, deps.pageLimit), JAMF_MAX_PAGE);
    return {
      eventFeeds: [],
      inventories: [
        deviceInventory({
          feed: 'computers',
          pages: (signal) =>
            itemsOf(
              paginate<number>(
                // The cursor counts pages from 1 (the guard's totals do); Jamf's page parameter from 0.
                async (page, s) => {
                  const current = page ?? 1;
                  const body = await deps.http.getJson(PATH, { section: [...COMPUTER_SECTIONS], page: current - 1, 'page-size': size, sort: 'id:asc' }, s);
                  return computersPage(body, current, size);
                },
                { signal, what: PATH },
              ),
            ),
          read: readJamfComputer,
          log: deps.log,
        }),
      ],
      importFeeds: {},
      defaultImportFeed: 'computers',
    };
  },
});

/** `{totalCount, results}`: page `current` (from 1) of ceil(totalCount / size). */
export function computersPage(body: unknown, current: number, size: number): Page<number> {
  const results = field(body, 'results');
  const total = field(body, 'totalCount');
  if (!isObject(body) || !Array.isArray(results)) throw tetherError('TETHER_SOURCE_PARSE', `${PATH}: response has no "results" array`);
  if (typeof total !== 'number' || !Number.isSafeInteger(total) || total < 0) throw tetherError('TETHER_SOURCE_PARSE', `${PATH}: totalCount is not a count`);
  return numberedPage(results, current, Math.ceil(total / size));
}
