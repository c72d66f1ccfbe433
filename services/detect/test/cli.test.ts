// The CLI: exit codes, --help without side effects, rules test / lint, and a
// service that refuses to start on an invalid rule file, naming file and line.
import { mkdtempSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, type CliIo } from '../src/cli.ts';
import { detectEnvSchema, loadDetectConfig } from '../src/config.ts';
import { RULES_DIR } from '../src/rules/load.ts';

function io(env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  const capture = () => {
    const s = new PassThrough();
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    return { s, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const o = capture();
  const e = capture();
  // No Kafka or ClickHouse answers here: anything that tried to connect would hang or fail.
  return { stdout: o.s, stderr: e.s, env: { TETHER_KAFKA_BROKERS: '127.0.0.1:1', TETHER_CLICKHOUSE_URL: 'http://127.0.0.1:1', ...env }, out: o.text, err: e.text };
}

function badPack(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tether-bad-rules-'));
  cpSync(RULES_DIR, dir, { recursive: true });
  const file = path.join(dir, 'api-key-burst.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('window: 1h', 'window: an hour'));
  return dir;
}

describe('detect CLI', () => {
  it('prints help and exits 0 without touching anything', async () => {
    const c = io();
    expect(await main(['--help'], c)).toBe(0);
    expect(c.out()).toMatch(/Usage: detect/);
    expect(await main(['rules', 'backtest', '--help'], c)).toBe(0);
    expect(c.out()).toMatch(/--since <time>/);
  });

  it('rules test runs every fixture of the starter pack and passes', async () => {
    const c = io();
    expect(await main(['rules', 'test'], c)).toBe(0);
    expect(c.out()).toMatch(/^31 tests, 31 passed, 0 failed \(7 rules\)$/m);
  });

  it('rules test fails (exit 1) when a fixture expectation is wrong', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tether-rules-'));
    cpSync(RULES_DIR, dir, { recursive: true });
    const file = path.join(dir, 'shadow-access.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('  - name: an unknown key fires\n    expect: 1', '  - name: an unknown key fires\n    expect: 2'));
    const c = io();
    expect(await main(['rules', 'test', '--rules', dir, '--rule', 'tether.shadow-access'], c)).toBe(1);
    expect(c.out()).toMatch(/FAIL an unknown key fires \(line \d+\): expected 2 finding\(s\), got 1/);
  });

  it('rules lint lists the valid rules, and exits 2 naming file, line and reason on an invalid one', async () => {
    const ok = io();
    expect(await main(['rules', 'lint'], ok)).toBe(0);
    expect(ok.out()).toMatch(/7 rules valid/);
    const bad = io();
    const dir = badPack();
    expect(await main(['rules', 'lint', '--rules', dir], bad)).toBe(2);
    expect(bad.err()).toContain(`${dir}/api-key-burst.yaml:19:11: threshold.window: a duration`);
  });

  it('refuses to start the service on an invalid rule file, before connecting to anything', async () => {
    const c = io({ TETHER_DETECT_RULES_DIR: badPack() });
    expect(await main(['run'], c)).toBe(2);
    expect(c.err()).toMatch(/invalid detection rules \(1 problem\):\n {2}\S+api-key-burst\.yaml:19:11: threshold\.window/);
  });

  it('refuses a backtest range that ends before it starts', async () => {
    const c = io();
    expect(await main(['rules', 'backtest', '--since', '2026-02-01', '--until', '2026-01-01'], c)).toBe(1);
    expect(c.err()).toMatch(/--since must be before --until/);
  });
});

describe('detect config', () => {
  it('fills every default in one place', () => {
    expect(loadDetectConfig({})).toMatchObject({
      TETHER_DETECT_RULES_DIR: RULES_DIR,
      TETHER_DETECT_STATE_MAX_ENTRIES: 500_000,
      TETHER_DETECT_FIRST_SEEN_MAX_VALUES: 1_000,
      TETHER_DETECT_MAX_BATCH: 2_000,
      TETHER_DETECT_PORT: 9430,
      TETHER_DETECT_SHUTDOWN_GRACE_MS: 30_000,
    });
  });

  it('documents every one of its variables in the README', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '../README.md'), 'utf8');
    const own = Object.keys(detectEnvSchema.shape).filter((k) => k.startsWith('TETHER_DETECT_'));
    const documented = [...readme.matchAll(/^\| `(TETHER_DETECT_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(own.sort());
  });
});
