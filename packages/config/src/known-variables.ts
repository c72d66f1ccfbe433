// Every TETHER_* variable some Tether component reads. A deployment shares
// one environment between its services (a compose file, an env file), so a
// service accepts the variables of the others and refuses only names no
// component reads: a typo such as TETHER_ENRICH_LATE_WAIT_SM must not run on
// the default. packages/config/test/known-variables.test.ts checks this list
// against every services/*/src/config.ts schema and the stack and test
// scripts, so a new variable that is missing here fails a test.

const SHARED = [
  'TETHER_KAFKA_BROKERS', 'TETHER_TOPIC_PREFIX', 'TETHER_TOPIC_PARTITIONS', 'TETHER_KAFKA_PRODUCER_CLIENT', 'TETHER_KAFKA_CONSUMER_CLIENT',
  'TETHER_SCHEMA_REGISTRY_URL',
  'TETHER_CLICKHOUSE_URL', 'TETHER_CLICKHOUSE_USER', 'TETHER_CLICKHOUSE_PASSWORD', 'TETHER_CLICKHOUSE_DATABASE',
  'TETHER_LOG_LEVEL', 'TETHER_STARTUP_WAIT_MS', 'TETHER_OPS_HOST', 'TETHER_AI_CATALOGUE_PATH',
];

const INGEST_AI = [
  'TETHER_OPENAI_ADMIN_KEY', 'TETHER_OPENAI_BASE_URL', 'TETHER_OPENAI_REQUESTS_PER_MINUTE',
  'TETHER_ANTHROPIC_ADMIN_KEY', 'TETHER_ANTHROPIC_BASE_URL', 'TETHER_ANTHROPIC_REQUESTS_PER_MINUTE',
  'TETHER_CURSOR_API_KEY', 'TETHER_CURSOR_BASE_URL', 'TETHER_CURSOR_REQUESTS_PER_MINUTE',
  'TETHER_INGEST_POLL_INTERVAL_MS', 'TETHER_INGEST_INVENTORY_INTERVAL_MS', 'TETHER_INGEST_HTTP_TIMEOUT_MS', 'TETHER_INGEST_HTTP_MAX_ATTEMPTS',
  'TETHER_INGEST_PAGE_LIMIT', 'TETHER_INGEST_METRICS_PORT', 'TETHER_INGEST_POLL_LOOKBACK_MS', 'TETHER_INGEST_BACKFILL_WINDOW_MS',
  'TETHER_INGEST_REREAD_MS', 'TETHER_INGEST_LAG_MS', 'TETHER_INGEST_MAX_PAGES', 'TETHER_INGEST_UNHEALTHY_AFTER',
];

/** The connector-grant sources (services/ingest-grants, registered in ingest-ai's table). */
const CONNECTOR_GRANTS = [
  'TETHER_GOOGLE_SERVICE_ACCOUNT_FILE', 'TETHER_GOOGLE_SUBJECT', 'TETHER_GOOGLE_CUSTOMER_ID', 'TETHER_GOOGLE_BASE_URL', 'TETHER_GOOGLE_TOKEN_URI',
  'TETHER_GOOGLE_REQUESTS_PER_MINUTE',
  'TETHER_ENTRA_TENANT_ID', 'TETHER_ENTRA_CLIENT_ID', 'TETHER_ENTRA_CLIENT_SECRET', 'TETHER_ENTRA_BASE_URL', 'TETHER_ENTRA_TOKEN_URL',
  'TETHER_ENTRA_REQUESTS_PER_MINUTE',
  'TETHER_OKTA_BASE_URL', 'TETHER_OKTA_API_TOKEN', 'TETHER_OKTA_CLIENT_ID', 'TETHER_OKTA_CLIENT_SECRET', 'TETHER_OKTA_TOKEN_URL',
  'TETHER_OKTA_REQUESTS_PER_MINUTE',
  'TETHER_GITHUB_TOKEN', 'TETHER_GITHUB_ORG', 'TETHER_GITHUB_BASE_URL', 'TETHER_GITHUB_REQUESTS_PER_MINUTE',
  'TETHER_CONNECTOR_USE_RESOLUTION_MS',
];

/** The MDM inventories (services/ingest-devices, registered in ingest-ai's table). */
const DEVICE_INVENTORIES = [
  'TETHER_FLEET_URL', 'TETHER_FLEET_API_TOKEN', 'TETHER_FLEET_HOST_DETAILS', 'TETHER_FLEET_REQUESTS_PER_MINUTE',
  'TETHER_INTUNE_TENANT_ID', 'TETHER_INTUNE_CLIENT_ID', 'TETHER_INTUNE_CLIENT_SECRET', 'TETHER_INTUNE_GRAPH_URL', 'TETHER_INTUNE_AUTHORITY_URL',
  'TETHER_INTUNE_REQUESTS_PER_MINUTE',
  'TETHER_JAMF_URL', 'TETHER_JAMF_CLIENT_ID', 'TETHER_JAMF_CLIENT_SECRET', 'TETHER_JAMF_USERNAME', 'TETHER_JAMF_PASSWORD', 'TETHER_JAMF_REQUESTS_PER_MINUTE',
];

const INGEST_OSQUERY = [
  'TETHER_OSQUERY_POLL_MS', 'TETHER_OSQUERY_TABLES', 'TETHER_OSQUERY_USER_DOMAIN', 'TETHER_OSQUERY_TLS_PORT', 'TETHER_OSQUERY_TLS_HOST',
  'TETHER_OSQUERY_ENROLL_SECRET', 'TETHER_OSQUERY_NODE_KEY_SECRET', 'TETHER_OSQUERY_MAX_BODY_BYTES', 'TETHER_OSQUERY_KAFKA_TOPIC', 'TETHER_OSQUERY_PORT',
];

const SCIM = [
  'TETHER_SCIM_TOKEN', 'TETHER_SCIM_PORT', 'TETHER_SCIM_HOST', 'TETHER_SCIM_BASE_URL', 'TETHER_SCIM_PLATFORM', 'TETHER_SCIM_MAX_RESULTS',
  'TETHER_SCIM_BODY_LIMIT_BYTES', 'TETHER_SCIM_SHUTDOWN_GRACE_MS',
];

const DETECT = [
  'TETHER_DETECT_RULES_DIR', 'TETHER_DETECT_PORT', 'TETHER_DETECT_INSTANCE_ID', 'TETHER_DETECT_MAX_BATCH', 'TETHER_DETECT_STATE_MAX_ENTRIES',
  'TETHER_DETECT_FIRST_SEEN_MAX_VALUES', 'TETHER_DETECT_SHUTDOWN_GRACE_MS',
];

const ENRICH = [
  'TETHER_ENRICH_LATE_WAIT_MS', 'TETHER_ENRICH_LATE_MAX_EVENTS', 'TETHER_ENRICH_GIVE_UP_MS', 'TETHER_ENRICH_REATTRIBUTE_WINDOW_MS',
  'TETHER_ENRICH_REATTRIBUTE_MAX_EVENTS', 'TETHER_ENRICH_MAX_BATCH', 'TETHER_ENRICH_PORT', 'TETHER_ENRICH_INSTANCE_ID',
  'TETHER_ENRICH_SHUTDOWN_GRACE_MS',
];

const SINK = [
  'TETHER_SINK_BATCH_ROWS', 'TETHER_SINK_BATCH_MAX_WAIT_MS', 'TETHER_SINK_FETCH_BYTES_PER_PARTITION', 'TETHER_SINK_STREAMS',
  'TETHER_SINK_RETRY_MAX_MS', 'TETHER_SINK_INSERT_TIMEOUT_MS', 'TETHER_SINK_PORT', 'TETHER_SINK_SHUTDOWN_GRACE_MS', 'TETHER_SINK_INSTANCE_ID',
  'TETHER_SINK_BATCH_BYTES', 'TETHER_SINK_EVENT_CONSUMERS',
];

const QUERY = [
  'TETHER_QUERY_API_TOKEN', 'TETHER_QUERY_API_TOKENS', 'TETHER_QUERY_HOST', 'TETHER_QUERY_PORT', 'TETHER_QUERY_MAX_ROWS', 'TETHER_QUERY_TIMEOUT_MS',
  'TETHER_QUERY_SHUTDOWN_GRACE_MS',
];

/** infra/local/stack.sh, the test harness and the benches. */
const STACK_AND_TESTS = [
  'TETHER_STACK_DIR', 'TETHER_STACK_READY_TIMEOUT', 'TETHER_STACK_STOP_TIMEOUT', 'TETHER_KAFKA_PORT', 'TETHER_KAFKA_CONTROLLER_PORT',
  'TETHER_REGISTRY_PORT', 'TETHER_REGISTRY_MANAGEMENT_PORT', 'TETHER_REGISTRY_JAVA', 'TETHER_CLICKHOUSE_HTTP_PORT', 'TETHER_CLICKHOUSE_TCP_PORT',
  'TETHER_CHDB_VERSION', 'TETHER_PYTHON', 'TETHER_TEST_DOCKER', 'TETHER_TEST_LOG_LEVEL',
];

export const KNOWN_VARIABLES: ReadonlySet<string> = new Set([...SHARED, ...INGEST_AI, ...CONNECTOR_GRANTS, ...DEVICE_INVENTORIES, ...INGEST_OSQUERY, ...SCIM, ...DETECT, ...ENRICH, ...SINK, ...QUERY, ...STACK_AND_TESTS]);

export function isKnownVariable(name: string): boolean {
  return KNOWN_VARIABLES.has(name);
}

/** The known name closest to `name` (a typo is an edit or two away), if any is close. */
export function suggestVariable(name: string, alsoKnown: Iterable<string> = []): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of new Set([...KNOWN_VARIABLES, ...alsoKnown])) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 8)) ? best : null;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
