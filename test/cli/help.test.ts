// `--help` on every level shows usage with examples, exits 0 and touches no
// server: every endpoint here points at a port nothing listens on, so a
// command that started its work instead would wait, fail or exit non-zero.
// (Before `tether`, `migrate --help` applied every migration and `enrich
// --help` / `sink --help` started consuming.)
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../packages/cli/src/commands.ts';
import { run } from './run.ts';

let closedPort: number;
let env: Record<string, string>;

beforeAll(async () => {
  // A port that was free a moment ago and is closed now: connections are refused.
  closedPort = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  env = {
    TETHER_KAFKA_BROKERS: `127.0.0.1:${closedPort}`,
    TETHER_SCHEMA_REGISTRY_URL: `http://127.0.0.1:${closedPort}`,
    TETHER_CLICKHOUSE_URL: `http://127.0.0.1:${closedPort}`,
    TETHER_STARTUP_WAIT_MS: '60000',
  };
});
afterAll(() => undefined);

const HELP_CASES: string[][] = [
  ['--help'],
  ...COMMANDS.map((c) => [c.name, '--help']),
  ['migrate', '-h'],
  ['query', 'trail', '--help'],
  ['query', 'verify', '--help'],
  ['query', 'hunt', '--help'],
  ['query', 'hunts', '--help'],
  ['query', 'serve', '--help'],
  ['ingest', 'openai', 'backfill', '--help'],
  ['ingest', 'directory', 'import', '--help'],
  ['ingest', 'devices', 'import', '--help'],
  ['completion', '--help'],
];

describe('tether --help on every level', { timeout: 60_000 }, () => {
  it.each(HELP_CASES)('tether %s ... exits 0 with usage and examples on stdout, touching no server', async (...args) => {
    const { code, stdout, stderr } = await run('tether', args, env, { timeoutMs: 30_000 });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/Usage:/);
    expect(stdout).toMatch(/Examples:/);
  });

  it('--version prints the version on stdout', async () => {
    const { code, stdout } = await run('tether', ['--version'], env);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('an unknown command or option is a usage error: exit 2, one line on stderr, nothing on stdout', async () => {
    const unknown = await run('tether', ['frobnicate'], env);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const option = await run('tether', ['query', 'hunts', '--frob'], env);
    expect(option).toMatchObject({ code: 2, stdout: '' });
    expect(option.stderr).toMatch(/unknown option '--frob'/);
  });

  it('completion scripts name every command', async () => {
    for (const shell of ['bash', 'zsh']) {
      const { code, stdout } = await run('tether', ['completion', shell], env);
      expect(code).toBe(0);
      for (const c of COMMANDS) expect(stdout).toContain(c.name);
      expect(stdout).toContain('complete -F _tether tether');
    }
  });
});
