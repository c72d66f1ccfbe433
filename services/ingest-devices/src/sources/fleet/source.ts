// Fleet (fleetdm) hosts (reference §A2) as a source: `GET /api/v1/fleet/hosts`
// paged by `page` (zero-based) and `per_page`, ordered by id so a host
// enrolling mid-listing does not shift the pages, with `device_mapping=true`;
// then, unless turned off, each host's `GET /hosts/:id` for its `end_users`
// (the list has none), the strongest assignee Fleet has. Bearer API token;
// a 429's retry-after is honoured by the HTTP client.
import { z } from 'zod';
import { env } from '#config';
import { TetherError, tetherError } from '#errors';
import { bearerAuth, defineSource, paginate, type HttpClient, type Page, type SourceDeps } from '#source';
import { field, isObject } from '../../fields.ts';
import { readFleetHost } from '../../fleet-hosts.ts';
import { deviceInventory, itemsOf } from '../device-inventory.ts';

const HOSTS = '/hosts';
/** Fleet documents no maximum; large pages make long single requests. */
export const FLEET_MAX_PAGE = 500;

export const fleetSource = defineSource({
  name: 'fleet',
  description: 'Fleet hosts: devices, their IdP end users and addresses, dated by the times Fleet gives',
  env: {
    /** The Fleet server, e.g. https://fleet.example.com (the API is under /api/v1/fleet). */
    TETHER_FLEET_URL: z.url().optional(),
    /** API token of an API-only user (observer role is enough). */
    TETHER_FLEET_API_TOKEN: env.optionalString(),
    /** Read each host's detail for its end_users (one request per host per snapshot). */
    TETHER_FLEET_HOST_DETAILS: env.bool(true),
    TETHER_FLEET_REQUESTS_PER_MINUTE: env.int(0, 0),
  },
  endpoint: (config) =>
    config.TETHER_FLEET_URL === undefined || config.TETHER_FLEET_API_TOKEN === undefined
      ? null
      : {
          baseUrl: `${config.TETHER_FLEET_URL.replace(/\/+$/, '')}/api/v1/fleet`,
          auth: bearerAuth(config.TETHER_FLEET_API_TOKEN),
          requestsPerMinute: config.TETHER_FLEET_REQUESTS_PER_MINUTE,
        },
  feeds: (deps, config) => ({
    eventFeeds: [],
    inventories: [
      deviceInventory({ feed: 'hosts', pages: (signal) => fleetHosts(deps, config.TETHER_FLEET_HOST_DETAILS, signal), read: readFleetHost, log: deps.log }),
    ],
    importFeeds: {},
    defaultImportFeed: 'hosts',
  }),
});

async function* fleetHosts(deps: SourceDeps, details: boolean, signal: AbortSignal): AsyncIterable<readonly unknown[]> {
  const perPage = Math.min(Math.max(1, deps.pageLimit), FLEET_MAX_PAGE);
  const query = { per_page: perPage, order_key: 'id', order_direction: 'asc', device_mapping: true };
  const pages = paginate<number>(
    async (page, s) => fleetHostsPage(await deps.http.getJson(HOSTS, { ...query, page: page ?? 0 }, s), page ?? 0, perPage),
    { signal, what: HOSTS },
  );
  if (!details) {
    yield* itemsOf(pages);
    return;
  }
  for await (const page of pages) {
    const hosts: unknown[] = [];
    for (const host of page.items) hosts.push(await withDetail(deps.http, host, signal));
    yield hosts;
  }
}

/**
 * `{hosts: [...]}`: Fleet says nothing of a next page in most versions, so a
 * full page means there may be one (an empty page then ends the listing);
 * `meta.has_next_results`, where a version sends it, is taken as given.
 */
export function fleetHostsPage(body: unknown, page: number, perPage: number): Page<number> {
  const hosts = field(body, 'hosts');
  if (!isObject(body) || !Array.isArray(hosts)) throw tetherError('TETHER_SOURCE_PARSE', `${HOSTS}: response has no "hosts" array`);
  const more = field(field(body, 'meta'), 'has_next_results');
  const next = typeof more === 'boolean' ? more : hosts.length >= perPage;
  return { items: hosts, next: next ? page + 1 : null };
}

/**
 * The host as its detail gives it, over the list's fields (the list's
 * device_mapping kept when the detail has none). A host deleted between the
 * list and its detail (404) is read from the list.
 */
async function withDetail(http: HttpClient, host: unknown, signal: AbortSignal): Promise<unknown> {
  const id = field(host, 'id');
  if (!isObject(host) || !(typeof id === 'number' && Number.isSafeInteger(id) && id >= 0)) return host;
  let body: unknown;
  try {
    body = await http.getJson(`${HOSTS}/${id}`, { exclude_software: true }, signal);
  } catch (err) {
    if (TetherError.is(err) && err.context.status === 404) return host;
    throw err;
  }
  const detail = field(body, 'host');
  if (!isObject(detail)) throw tetherError('TETHER_SOURCE_PARSE', `${HOSTS}/${id}: response has no "host" object`);
  return { ...host, ...detail, id, device_mapping: detail.device_mapping ?? host.device_mapping };
}
