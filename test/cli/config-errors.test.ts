// Every service, started as its users start it (a child process through
// `tether`), with each kind of bad setting: one line naming the variable
// and the accepted form, exit 2, no stack trace. A broker nothing answers
// on is named after a bounded wait (TETHER_STARTUP_WAIT_MS, short here).
import { createServer } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { plainLines, run } from './run.ts';

interface Service {
  name: string;
  args: string[];
  env?: Record<string, string>;
  /** A variable that takes a number. */
  number: string;
  /** A variable that takes a URL. */
  url: string;
  /** The dependency whose address is named when nothing answers there. */
  unreachable: string | null;
}

const TOKEN = 'a-query-api-token-of-32-characters';
const SERVICES: Service[] = [
  { name: 'enrich', args: ['enrich'], env: { TETHER_ENRICH_PORT: '0' }, number: 'TETHER_ENRICH_PORT', url: 'TETHER_SCHEMA_REGISTRY_URL', unreachable: 'TETHER_KAFKA_BROKERS' },
  { name: 'sink', args: ['sink'], env: { TETHER_SINK_PORT: '0' }, number: 'TETHER_SINK_PORT', url: 'TETHER_CLICKHOUSE_URL', unreachable: 'TETHER_KAFKA_BROKERS' },
  { name: 'ingest openai poll', args: ['ingest', 'openai', 'poll'], env: { TETHER_OPENAI_ADMIN_KEY: 'sk-admin-test-key', TETHER_INGEST_METRICS_PORT: '0' }, number: 'TETHER_INGEST_METRICS_PORT', url: 'TETHER_OPENAI_BASE_URL', unreachable: 'TETHER_KAFKA_BROKERS' },
  { name: 'ingest directory import', args: ['ingest', 'directory', 'import', 'samples/directory/hr-history.csv'], number: 'TETHER_TOPIC_PARTITIONS', url: 'TETHER_SCHEMA_REGISTRY_URL', unreachable: 'TETHER_KAFKA_BROKERS' },
  { name: 'ingest devices import', args: ['ingest', 'devices', 'import', 'samples/fleet/hosts-2026-03.json'], number: 'TETHER_TOPIC_PARTITIONS', url: 'TETHER_SCHEMA_REGISTRY_URL', unreachable: 'TETHER_KAFKA_BROKERS' },
  { name: 'tail', args: ['tail', 'access.enriched'], number: 'TETHER_TOPIC_PARTITIONS', url: 'TETHER_SCHEMA_REGISTRY_URL', unreachable: 'TETHER_KAFKA_BROKERS' },
  { name: 'migrate', args: ['migrate'], number: 'TETHER_STARTUP_WAIT_MS', url: 'TETHER_CLICKHOUSE_URL', unreachable: 'TETHER_CLICKHOUSE_URL' },
  // The API waits for no server (it reports ClickHouse on /ready); its settings are checked before it listens.
  { name: 'serve', args: ['serve'], env: { TETHER_QUERY_API_TOKEN: TOKEN, TETHER_QUERY_PORT: '0' }, number: 'TETHER_QUERY_PORT', url: 'TETHER_CLICKHOUSE_URL', unreachable: null },
  { name: 'query connectors', args: ['query', 'connectors'], number: 'TETHER_QUERY_TIMEOUT_MS', url: 'TETHER_CLICKHOUSE_URL', unreachable: null },
];

let closedPort: number;
beforeAll(async () => {
  closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
});

/** Runs the service with one bad setting; the one line it printed. */
async function refused(service: Service, bad: Record<string, string>): Promise<string> {
  const { code, stdout, stderr } = await run('tether', service.args, { ...service.env, ...bad }, { timeoutMs: 60_000 });
  const lines = plainLines(stderr);
  expect({ code, stdout, lines: lines.length }, stderr).toEqual({ code: 2, stdout: '', lines: 1 });
  expect(stderr).not.toMatch(/^\s+at /m);
  return lines[0]!;
}

describe.each(SERVICES)('$name refuses a bad setting with one line and exit 2', { timeout: 60_000 }, (service) => {
  it('a value that is not a number', async () => {
    const line = await refused(service, { [service.number]: 'twelve' });
    expect(line).toContain(`${service.number}="twelve"`);
    expect(line).toMatch(/expected a whole number/);
  });

  it('a URL without a scheme', async () => {
    const line = await refused(service, { [service.url]: '127.0.0.1:8123' });
    expect(line).toContain(`${service.url}="127.0.0.1:8123"`);
    expect(line).toMatch(/http:\/\/ or https:\/\/ URL/);
  });

  it('an unknown TETHER_* variable (a typo)', async () => {
    const line = await refused(service, { TETHER_KAFKA_BROKER: '127.0.0.1:19092' });
    expect(line).toMatch(/TETHER_KAFKA_BROKER \(did you mean TETHER_KAFKA_BROKERS\?\): not a variable any Tether component reads/);
  });

  it.runIf(service.unreachable !== null)('a server nothing answers at, after a bounded wait', async () => {
    const address = `127.0.0.1:${closedPort}`;
    const value = service.unreachable === 'TETHER_KAFKA_BROKERS' ? address : `http://${address}`;
    const line = await refused(service, { [service.unreachable!]: value, TETHER_STARTUP_WAIT_MS: '1500' });
    expect(line).toMatch(new RegExp(`${service.unreachable}: no \\w+ answered at ${value.replace(/[.:/]/g, '\\$&')} within \\d+ s`));
  });
});

describe('a command checks only the settings it uses', { timeout: 60_000 }, () => {
  it('a short API token breaks serve, not verify or hunts', async () => {
    const serve = await run('tether', ['serve'], { TETHER_QUERY_API_TOKEN: 'short', TETHER_QUERY_PORT: '0' });
    expect(serve.code).toBe(2);
    expect(plainLines(serve.stderr)).toEqual([expect.stringMatching(/TETHER_QUERY_API_TOKEN=\(5 characters\) is not valid: expected a bearer token of 24 or more characters/)]);
    expect(serve.stderr).not.toContain('short');
    const hunts = await run('tether', ['query', 'hunts', '-o', 'json'], { TETHER_QUERY_API_TOKEN: 'short', TETHER_CLICKHOUSE_URL: 'no-scheme' });
    expect(hunts.code).toBe(0);
    expect(JSON.parse(hunts.stdout).length).toBeGreaterThan(0);
  });

  it('enrich does not read ClickHouse settings', async () => {
    const { code, stdout } = await run('tether', ['enrich', '--help'], { TETHER_CLICKHOUSE_URL: 'no-scheme' });
    expect({ code, out: /Usage/.test(stdout) }).toEqual({ code: 0, out: true });
  });
});
