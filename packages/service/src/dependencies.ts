// The servers a service needs, probed the same way for start-up and for
// /ready: Kafka by a TCP connection to a bootstrap broker, the schema
// registry and ClickHouse by an HTTP round trip. Each probe is bounded, so a
// black-holed address costs seconds, not a client library's retry budget.
// A dependency that never answered within the start-up wait is reported as
// a configuration problem naming its variable and address.
import { connect } from 'node:net';
import { tetherError, errorMessage } from '#errors';
import type { Logger } from '#log';
// The module itself, not #source: the ops side of #service must not load the source toolkit.
import { backoffDelay, compileRetryPolicy, sleep } from '#retry';

export interface Dependency {
  /** 'kafka', 'registry', 'clickhouse'. */
  name: string;
  /** The variable that names its address. */
  variable: string;
  /** As configured, for messages (never credentials). */
  address: string;
  /** Resolves when the dependency answers; rejects with why not. */
  probe(timeoutMs: number): Promise<void>;
}

export interface DependencyCheck {
  ok: boolean;
  detail?: string;
}

const PROBE_TIMEOUT_MS = 3_000;

/** Reachable when any bootstrap broker accepts a TCP connection. */
export function kafkaDependency(brokers: readonly string[]): Dependency {
  return {
    name: 'kafka',
    variable: 'TETHER_KAFKA_BROKERS',
    address: brokers.join(','),
    async probe(timeoutMs) {
      const errors: string[] = [];
      for (const broker of brokers) {
        try {
          await tcpConnect(broker, timeoutMs);
          return;
        } catch (err) {
          errors.push(`${broker}: ${errorMessage(err)}`);
        }
      }
      throw new Error(errors.join('; '));
    },
  };
}

/** Reachable when `GET <url><path>` answers 2xx within the timeout. */
export function httpDependency(name: string, variable: string, url: string, path: string, hint = ''): Dependency {
  const base = url.replace(/\/+$/, '');
  return {
    name,
    variable,
    address: safeUrl(base),
    async probe(timeoutMs) {
      const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) }).catch((err: unknown) => {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(cause?.code ?? cause?.message ?? errorMessage(err));
      });
      await res.body?.cancel().catch(() => undefined);
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}${hint ? ` (${hint})` : ''}`);
    },
  };
}

export function registryDependency(url: string): Dependency {
  return httpDependency('registry', 'TETHER_SCHEMA_REGISTRY_URL', url, '/subjects',
    'Apicurio serves the Confluent API under /apis/ccompat/v7, Confluent Schema Registry at its root');
}

export function clickhouseDependency(url: string): Dependency {
  return httpDependency('clickhouse', 'TETHER_CLICKHOUSE_URL', url, '/ping');
}

/** One probe of each dependency, in parallel, as readiness checks keyed by name. */
export async function checkDependencies(dependencies: readonly Dependency[], timeoutMs = PROBE_TIMEOUT_MS): Promise<Record<string, DependencyCheck>> {
  const checks: Record<string, DependencyCheck> = {};
  await Promise.all(dependencies.map(async (dependency) => {
    try {
      await dependency.probe(timeoutMs);
      checks[dependency.name] = { ok: true };
    } catch (err) {
      checks[dependency.name] = { ok: false, detail: `${dependency.address}: ${errorMessage(err)}` };
    }
  }));
  return checks;
}

export interface WaitOptions {
  /** Give up after this long: TETHER_CONFIG_INVALID naming the dependency's variable. */
  waitMs: number;
  log: Logger;
  signal?: AbortSignal;
  /** Told each time a round finds a dependency down (readiness reporting). */
  onWaiting?: (down: { dependency: Dependency; reason: string }) => void;
  /** Longest pause between two rounds. */
  maxDelayMs?: number;
}

/**
 * Probes until every dependency answers, with jittered exponential backoff
 * between rounds (capped), up to `waitMs`; then throws a one-line
 * TETHER_CONFIG_INVALID: "TETHER_KAFKA_BROKERS: nothing answered at ... ".
 */
export async function waitForDependencies(dependencies: readonly Dependency[], options: WaitOptions): Promise<void> {
  const started = Date.now();
  const deadline = started + options.waitMs;
  for (let round = 1; ; round++) {
    const down = await firstDown(dependencies, Math.max(100, Math.min(PROBE_TIMEOUT_MS, deadline - Date.now())));
    if (!down) {
      if (round > 1) options.log.info({ waitedMs: Date.now() - started }, 'dependencies answer again');
      return;
    }
    options.onWaiting?.(down);
    const left = deadline - Date.now();
    if (left <= 0) throw unreachable(down.dependency, down.reason, Date.now() - started);
    const policy = compileRetryPolicy({ initialDelayMs: 250, maxDelayMs: options.maxDelayMs ?? 5_000 });
    const delay = Math.min(left, backoffDelay(policy, round));
    // The first miss is news; the later ones only repeat it.
    options.log[round === 1 ? 'warn' : 'debug']({ dependency: down.dependency.name, variable: down.dependency.variable, address: down.dependency.address, reason: down.reason, retryInMs: delay }, 'waiting for a dependency');
    await sleep(delay, options.signal);
  }
}

/** The error for a dependency that stayed down: one line, the variable first. */
export function unreachable(dependency: Dependency, reason: string, waitedMs: number): Error {
  return tetherError(
    'TETHER_CONFIG_INVALID',
    `${dependency.variable}: no ${dependency.name} answered at ${dependency.address} within ${Math.round(waitedMs / 1000)} s (${reason}); check the address, or raise TETHER_STARTUP_WAIT_MS to wait longer`,
    { context: { dependency: dependency.name, address: dependency.address } },
  );
}

async function firstDown(dependencies: readonly Dependency[], timeoutMs: number): Promise<{ dependency: Dependency; reason: string } | null> {
  for (const dependency of dependencies) {
    try {
      await dependency.probe(timeoutMs);
    } catch (err) {
      return { dependency, reason: errorMessage(err) };
    }
  }
  return null;
}

function tcpConnect(hostPort: string, timeoutMs: number): Promise<void> {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hostPort);
  if (!m) return Promise.reject(new Error('not host:port'));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: m[1]!, port: Number(m[2]), timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      reject(new Error(err.code ?? err.message));
    });
  });
}

/** A URL without its credentials, for messages and /ready. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}
