// docker-compose.yml against the local stack and the README: the servers on
// the stack's ports, every Tether service of the pipeline profile present
// and configured with known TETHER_* names (the three the stack writes
// among them), and the README's Deploying table as the file has it. And the
// README's jq examples that need no server run as written.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KNOWN_VARIABLES } from '#config';
import { ROOT } from './run.ts';

interface ComposeService {
  image?: string;
  build?: string;
  profiles?: string[];
  command?: string[];
  ports?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const stack = readFileSync(path.join(ROOT, 'infra/local/stack.sh'), 'utf8');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The local stack's default for a port variable: `KAFKA_PORT=${TETHER_KAFKA_PORT:-19092}`. */
function stackPort(variable: string): number {
  const m = new RegExp(`\\$\\{${variable}:-(\\d+)\\}`).exec(stack);
  if (!m) throw new Error(`stack.sh has no default for ${variable}`);
  return Number(m[1]);
}

/** Host ports a service publishes (127.0.0.1:host:container). */
const published = (service: ComposeService) => (service.ports ?? []).map((p) => Number(/^127\.0\.0\.1:(\d+):\d+$/.exec(p)?.[1] ?? Number.NaN));

const PIPELINE = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('pipeline'));
/** The long-running commands of `tether` and the schema step, each of which the pipeline must run. */
const TETHER_SERVICES = ['migrate', 'ingest', 'enrich', 'sink', 'serve'];

describe('docker-compose.yml', () => {
  it('publishes the servers on the local stack\'s ports, on loopback only', () => {
    expect(published(compose.services.kafka!)).toEqual([stackPort('TETHER_KAFKA_PORT')]);
    expect(published(compose.services['schema-registry']!)).toEqual([stackPort('TETHER_REGISTRY_PORT')]);
    expect(published(compose.services.clickhouse!)).toEqual([stackPort('TETHER_CLICKHOUSE_HTTP_PORT'), stackPort('TETHER_CLICKHOUSE_TCP_PORT')]);
    for (const service of Object.values(compose.services)) for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it('runs every Tether service in the pipeline profile, from the Dockerfile', () => {
    expect(PIPELINE.map(([, s]) => s.command?.[0]).sort()).toEqual([...TETHER_SERVICES].sort());
    for (const [name, service] of PIPELINE) {
      expect(service.build, name).toBe('.');
      expect(service.depends_on?.clickhouse?.condition, name).toBe('service_healthy');
    }
  });

  it('configures them with known TETHER_* names, the three the local stack writes among them', () => {
    const written = [...stack.matchAll(/^(TETHER_[A-Z_]+)=\$/gm)].map((m) => m[1]!);
    expect(written.sort()).toEqual(['TETHER_CLICKHOUSE_URL', 'TETHER_KAFKA_BROKERS', 'TETHER_SCHEMA_REGISTRY_URL']);
    for (const [name, service] of PIPELINE) {
      const names = Object.keys(service.environment ?? {});
      expect(names.filter((n) => !KNOWN_VARIABLES.has(n)), name).toEqual([]);
      for (const variable of written) expect(names, name).toContain(variable);
      // Confluent serves its API at the root: no Apicurio path here.
      expect(String(service.environment!.TETHER_SCHEMA_REGISTRY_URL)).not.toContain('/apis/ccompat');
    }
  });

  it('matches the README\'s Deploying table: service, command and port', () => {
    const section = readme.slice(readme.indexOf('## Deploying'), readme.indexOf('\n## ', readme.indexOf('## Deploying') + 3));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| `([^`]+)` \| ([^|]+) \|$/gm)].map((m) => ({ service: m[1]!, command: m[2]!, port: m[3]!.trim() }));
    expect(rows.map((r) => r.service).sort()).toEqual(PIPELINE.map(([name]) => name).sort());
    for (const row of rows) {
      const service = compose.services[row.service]!;
      expect(service.command!.join(' '), row.service).toBe(row.command);
      const ports = published(service);
      expect(ports.length === 0 ? 'none' : String(ports[0]), row.service).toBe(row.port.startsWith('none') ? 'none' : row.port);
    }
  });
});

describe('the README\'s examples that need no server', () => {
  it.each([...readme.matchAll(/^npx tether query hunts (-o json \| jq .*?)\s*(#.*)?$/gm)].map((m) => m[0].replace(/\s+#.*$/, '')))('%s', (line) => {
    const out = execFileSync('bash', ['-o', 'pipefail', '-c', line], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` } });
    expect(out).toMatch(/ai-admin-actions-unmanaged-devices/);
  });
});

describe('deploy/grafana/tether-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/tether-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
  const sources = execFileSync('grep', ['-rhoE', "(counter|gauge|histogram)\\(\\s*'[a-z_]+'|'[a-z_]+_seconds'", 'services', 'packages'], { cwd: ROOT, encoding: 'utf8' });
  const registered = new Set([...sources.matchAll(/'([a-z_]+)'/g)].map((m) => `tether_${m[1]}`));
  // prom-client's default metrics, prefixed tether_ by createMetrics.
  registered.add('tether_process_resident_memory_bytes');

  it('plots only metrics a service registers (so no panel is empty by a typo)', () => {
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b(tether_[a-z_]+?)(_bucket)?\{/g)].map((m) => m[1]!))));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((m) => !registered.has(m))).toEqual([]);
  });

  it('is scraped under the job the dashboard reads, at every service\'s ops port', () => {
    const prometheus = parse(readFileSync(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const job = prometheus.scrape_configs.find((c) => c.job_name === 'tether')!;
    const targets = job.static_configs.flatMap((c) => c.targets);
    for (const [name, service] of PIPELINE.filter(([, s]) => (s.ports ?? []).length > 0)) {
      expect(targets, name).toContain(`${name}:${published(service)[0]}`);
    }
  });
});
