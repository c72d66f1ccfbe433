// /health, /ready and /metrics for every service.
//
// /health is liveness: 200 while the process is starting, running or
// draining and none of its own checks failed (a crashed consumer, a feed
// failing its own requests): a supervisor restarts what answers 503 here.
// /ready is readiness: 200 only while running with every dependency
// reachable (and, for ClickHouse readers and writers, the schema migrated):
// a load balancer or orchestrator routes work only to what answers 200 here.
// A service waiting for Kafka at start-up is alive and not ready.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface HealthReport {
  state: LifecycleState;
  checks: Record<string, { ok: boolean; detail?: string | undefined }>;
  [extra: string]: unknown;
}

export interface OpsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

const LIVE_STATES: readonly LifecycleState[] = ['starting', 'running', 'draining'];

/** Liveness verdict of a report. */
export function isLive(report: HealthReport): boolean {
  return LIVE_STATES.includes(report.state) && Object.values(report.checks).every((c) => c.ok);
}

/** Readiness verdict of a report. */
export function isReady(report: HealthReport): boolean {
  return report.state === 'running' && Object.values(report.checks).every((c) => c.ok);
}

export async function startOpsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  /** Liveness: the service's own state and checks. */
  health: () => HealthReport | Promise<HealthReport>;
  /** Readiness: dependencies reachable, schema migrated; defaults to the health report. */
  ready?: () => HealthReport | Promise<HealthReport>;
}): Promise<OpsServer> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/metrics') {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(await options.registry.metrics());
        } else if (path === '/health' || path === '/healthz' || path === '/livez') {
          const report = await options.health();
          sendJson(res, isLive(report) ? 200 : 503, report);
        } else if (path === '/ready' || path === '/readyz') {
          const report = await (options.ready ?? options.health)();
          sendJson(res, isReady(report) ? 200 : 503, report);
        } else {
          sendJson(res, 404, { error: 'not found' });
        }
      } catch (err) {
        sendJson(res, 500, { error: (err as Error).message });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function sendJson(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
