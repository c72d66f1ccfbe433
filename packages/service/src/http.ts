// /health and /metrics for every service. Health reports the lifecycle state
// and each dependency's last check; 200 only while running and healthy.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export type LifecycleState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface HealthReport {
  state: LifecycleState;
  checks: Record<string, { ok: boolean; detail?: string }>;
  [extra: string]: unknown;
}

export interface OpsServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
}): Promise<OpsServer> {
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.url === '/metrics') {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(await options.registry.metrics());
        } else if (req.url === '/health' || req.url === '/healthz') {
          const report = await options.health();
          const ok = report.state === 'running' && Object.values(report.checks).every((c) => c.ok);
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(report));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"error":"not found"}');
        }
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: (err as Error).message }));
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
