// Microsoft Intune managed devices (reference §A3) as a source: Graph v1.0
// `GET /deviceManagement/managedDevices`, paged by `@odata.nextLink` (the
// framework's odataPage; Graph chooses the page size), with the OAuth 2.0
// client credentials grant against the Entra token endpoint of the tenant
// (application permission DeviceManagementManagedDevices.Read.All). A 429's
// Retry-After is honoured by the HTTP client.
import { z } from 'zod';
import { env } from '#config';
import { defineSource, oauthClientCredentials, odataPage, paginate } from '#source';
import { deviceInventory, itemsOf } from '../device-inventory.ts';
import { MANAGED_DEVICE_FIELDS, readIntuneDevice } from './managed-device.ts';

const PATH = '/deviceManagement/managedDevices';

export const intuneSource = defineSource({
  name: 'intune',
  description: 'Microsoft Intune managed devices: serial, primary user, compliance and management state over time',
  env: {
    /** The Entra tenant (directory) id or its domain. */
    TETHER_INTUNE_TENANT_ID: env.optionalString(),
    /** App registration with the DeviceManagementManagedDevices.Read.All application permission. */
    TETHER_INTUNE_CLIENT_ID: env.optionalString(),
    TETHER_INTUNE_CLIENT_SECRET: env.optionalString(),
    TETHER_INTUNE_GRAPH_URL: env.url('https://graph.microsoft.com/v1.0'),
    /** Entra's login host; national clouds have their own. */
    TETHER_INTUNE_AUTHORITY_URL: env.url('https://login.microsoftonline.com'),
    TETHER_INTUNE_REQUESTS_PER_MINUTE: env.int(0, 0),
  },
  endpoint: (config) => {
    const { TETHER_INTUNE_TENANT_ID: tenant, TETHER_INTUNE_CLIENT_ID: clientId, TETHER_INTUNE_CLIENT_SECRET: clientSecret } = config;
    if (tenant === undefined || clientId === undefined || clientSecret === undefined) return null;
    const graph = config.TETHER_INTUNE_GRAPH_URL;
    return {
      baseUrl: graph,
      auth: oauthClientCredentials({
        tokenUrl: `${config.TETHER_INTUNE_AUTHORITY_URL.replace(/\/+$/, '')}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`,
        clientId,
        clientSecret,
        // The application permissions granted to the app, for the Graph host asked (national clouds included).
        scopes: [`${new URL(graph).origin}/.default`],
        clientAuth: 'body',
      }),
      requestsPerMinute: config.TETHER_INTUNE_REQUESTS_PER_MINUTE,
    };
  },
  feeds: (deps) => ({
    eventFeeds: [],
    inventories: [
      deviceInventory({
        feed: 'managed_devices',
        pages: (signal) =>
          itemsOf(
            paginate<string>(
              async (next, s) => odataPage(await deps.http.getJson(next ?? PATH, next === null ? { $select: MANAGED_DEVICE_FIELDS.join(',') } : undefined, s), PATH),
              { signal, what: PATH },
            ),
          ),
        read: readIntuneDevice,
        log: deps.log,
      }),
    ],
    importFeeds: {},
    defaultImportFeed: 'managed_devices',
  }),
});
