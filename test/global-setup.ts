// Resolves the real servers the integration tests talk to, in this order:
// TETHER_* endpoints given by the caller; else Docker through testcontainers
// (our docker-compose.yml); else the local stack of processes (started here
// if it is not running). Endpoints reach the test workers through the env.
import path from 'node:path';
// The module itself, not #testkit: the global setup need not load the Kafka clients.
import { upLocalStack } from '../packages/testkit/src/local-stack.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const ENDPOINT_VARS = ['TETHER_KAFKA_BROKERS', 'TETHER_SCHEMA_REGISTRY_URL', 'TETHER_CLICKHOUSE_URL'] as const;

let teardown: (() => Promise<void>) | undefined;

export async function setup(): Promise<void> {
  if (ENDPOINT_VARS.every((v) => process.env[v])) {
    console.log('[tether tests] using the servers named by TETHER_* variables');
    return;
  }
  if (process.env.TETHER_TEST_DOCKER !== '0' && (await dockerAnswers())) {
    teardown = await startCompose();
    return;
  }
  startLocalStack();
}

export async function teardownAll(): Promise<void> {
  await teardown?.();
}
export { teardownAll as teardown };

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

async function startCompose(): Promise<() => Promise<void>> {
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  console.log('[tether tests] Docker answers: starting docker-compose.yml through testcontainers');
  const env = await new DockerComposeEnvironment(ROOT, 'docker-compose.yml')
    .withWaitStrategy('kafka-1', Wait.forHealthCheck())
    .withWaitStrategy('schema-registry-1', Wait.forHealthCheck())
    .withWaitStrategy('clickhouse-1', Wait.forHealthCheck())
    .up();
  process.env.TETHER_KAFKA_BROKERS = '127.0.0.1:19092';
  process.env.TETHER_SCHEMA_REGISTRY_URL = 'http://127.0.0.1:18081';
  process.env.TETHER_CLICKHOUSE_URL = 'http://127.0.0.1:18123';
  return async () => {
    await env.down();
  };
}

function startLocalStack(): void {
  console.log('[tether tests] no Docker engine: using the local stack (infra/local/stack.sh up)');
  const endpoints = upLocalStack(process.env.TETHER_STACK_DIR);
  for (const [name, value] of Object.entries(endpoints)) if (!process.env[name]) process.env[name] = value;
}
