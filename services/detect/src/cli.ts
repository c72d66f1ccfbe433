// `npm run detect -- <command>` (and, through the umbrella CLI, `tether
// detect` / `tether rules ...`):
//   run | detect           the detect service (rules validated first; exits 2 when invalid)
//   rules test             each rule against its own fixtures, like unit tests
//   rules lint             validate every rule file without running anything
//   rules backtest --since run the pack over events already in ClickHouse
// `main` returns the exit code: 0 fine, 1 a failed test or command, 2 invalid
// rules or usage. --help prints and touches nothing.
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { createClickHouse } from '#clickhouse';
import { TetherError } from '#errors';
import { createLogger } from '#log';
import { examples, onShutdown } from '#service';
import { toEpochMs } from '../../query/src/bind.ts';
import { buildDetectApp } from './app.ts';
import { backtest } from './backtest.ts';
import { loadDetectConfig } from './config.ts';
import { formatProblem, readRuleDir, type RulePack } from './rules/load.ts';
import { runRuleTests } from './rules/fixtures.ts';
import { durationMs } from './rules/schema.ts';
import { cleanValue } from './rules/template.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

const EXIT = { ok: 0, failed: 1, invalid: 2 } as const;

class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

export async function main(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const out = (s: string) => void io.stdout.write(s);
  const err = (s: string) => void io.stderr.write(s);
  let code: number = EXIT.ok;

  /** The pack of --rules (else the configured directory); problems printed and exit 2 when invalid. */
  const pack = (dir: string | undefined): RulePack => {
    const { pack: loaded, problems } = readRuleDir(dir ?? loadDetectConfig(io.env).TETHER_DETECT_RULES_DIR);
    if (problems.length === 0) return loaded;
    err(`invalid detection rules (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n${problems.map((p) => `  ${formatProblem(p)}\n`).join('')}`);
    throw new Exit(EXIT.invalid);
  };

  const program = new Command('detect')
    .description('Tether detection rules: the detect service, and tests, lint and backtests of the rule pack')
    .addHelpText('after', examples(['tether detect', 'tether rules test', 'tether rules lint', 'tether rules backtest --since 2026-01-01']))
    .configureOutput({ writeOut: out, writeErr: err })
    .exitOverride();

  const runService = async (opts: { rules?: string }) => {
    const config = loadDetectConfig(opts.rules ? { ...io.env, TETHER_DETECT_RULES_DIR: opts.rules } : io.env);
    const rules = pack(config.TETHER_DETECT_RULES_DIR);
    const log = createLogger({ service: 'detect', level: config.TETHER_LOG_LEVEL });
    const app = buildDetectApp(config, {
      log,
      pack: rules,
      // Uncommitted batches are replayed by the next instance: exit rather than limp on.
      onFatal: () => {
        setTimeout(() => process.exit(1), 10_000).unref();
        void app.stop().finally(() => process.exit(1));
      },
    });
    onShutdown(log, () => app.stop(), config.TETHER_DETECT_SHUTDOWN_GRACE_MS);
    try {
      await app.start();
    } catch (e) {
      log.fatal({ err: e }, 'detect failed to start');
      await app.stop().catch(() => undefined);
      throw new Exit(EXIT.failed);
    }
    // Runs until a signal stops the process (onShutdown exits).
    await new Promise<never>(() => undefined);
  };

  program.command('run').alias('detect').description('run the detect service on tether.access.enriched').addHelpText('after', examples(['tether detect', 'TETHER_DETECT_RULES_DIR=./rules tether detect'])).option('--rules <dir>', 'rules directory (default TETHER_DETECT_RULES_DIR)').action(runService);

  const rules = program.command('rules').description('test, lint and backtest the rule pack')
    .addHelpText('after', examples(['tether rules test', 'tether rules lint --rules ./my-rules', 'tether rules backtest --since 2026-01-01 --format json']));

  rules
    .command('test')
    .description("run every rule against its fixtures (the tests: section of its file)")
    .option('--rules <dir>', 'rules directory (default TETHER_DETECT_RULES_DIR)')
    .option('--rule <id>', 'only this rule')
    .option('-v, --verbose', 'print the summaries the findings would carry')
    .action((opts: { rules?: string; rule?: string; verbose?: boolean }) => {
      const selected = pack(opts.rules).rules.filter((r) => !opts.rule || r.id === opts.rule);
      if (opts.rule && selected.length === 0) {
        err(`no rule with id ${JSON.stringify(opts.rule)}\n`);
        throw new Exit(EXIT.invalid);
      }
      let passed = 0;
      let failed = 0;
      for (const rule of selected) {
        out(`${rule.id} (v${rule.version}, ${rule.file})\n`);
        for (const t of runRuleTests(rule)) {
          if (t.passed) passed++;
          else failed++;
          const detail = t.error ? `: ${t.error}` : t.passed ? '' : `: expected ${t.expected} finding(s), got ${t.actual}`;
          out(`  ${t.passed ? 'ok  ' : 'FAIL'} ${t.name} (line ${t.line})${detail}\n`);
          if (opts.verbose) for (const s of t.summaries) out(`         ${s}\n`);
        }
      }
      out(`${passed + failed} tests, ${passed} passed, ${failed} failed (${selected.length} rules)\n`);
      if (failed > 0) code = EXIT.failed;
    });

  rules
    .command('lint')
    .description('validate every rule file (schema, fields, operators, regular expressions) without running them')
    .option('--rules <dir>', 'rules directory (default TETHER_DETECT_RULES_DIR)')
    .action((opts: { rules?: string }) => {
      const loaded = pack(opts.rules);
      for (const r of loaded.rules) out(`ok   ${r.id} v${r.version} ${r.kind} ${r.severity}${r.enabled ? '' : ' (disabled)'}  ${r.file}\n`);
      out(`${loaded.rules.length} rules valid\n`);
    });

  rules
    .command('backtest')
    .description('run the pack over the events in ClickHouse (access_events, deduplicated) and print what would have fired')
    .requiredOption('--since <time>', 'start: ISO-8601, epoch ms, or now-<n><s|m|h|d>')
    .option('--until <time>', 'end (exclusive; default now)')
    .option('--rules <dir>', 'rules directory (default TETHER_DETECT_RULES_DIR)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (opts: { since: string; until?: string; rules?: string; format: 'table' | 'json' }) => {
      const loaded = pack(opts.rules);
      const config = loadDetectConfig(io.env);
      const now = Date.now();
      const sinceMs = timeArg(opts.since, 'since', now);
      const untilMs = opts.until ? timeArg(opts.until, 'until', now) : now;
      if (sinceMs >= untilMs) throw new TetherError('TETHER_QUERY_BIND', '--since must be before --until');
      const clickhouse = createClickHouse({
        url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD,
        database: config.TETHER_CLICKHOUSE_DATABASE, application: 'detect-backtest',
      });
      try {
        const result = await backtest({
          clickhouse, rules: loaded.rules, sinceMs, untilMs,
          maxEntries: config.TETHER_DETECT_STATE_MAX_ENTRIES, firstSeenMaxValues: config.TETHER_DETECT_FIRST_SEEN_MAX_VALUES,
        });
        if (opts.format === 'json') {
          out(`${JSON.stringify({ events: result.events, findings: result.findings.map(({ emitted_at: _e, ...f }) => f) }, null, 2)}\n`);
        } else {
          for (const f of result.findings) {
            out(`${new Date(f.last_event_time).toISOString()}  ${f.severity.padEnd(8)} ${f.rule_id}  ${cleanValue(f.summary)}\n`);
          }
          const byRule = new Map<string, number>();
          for (const f of result.findings) byRule.set(f.rule_id, (byRule.get(f.rule_id) ?? 0) + 1);
          out(`${result.events} events, ${result.findings.length} findings${[...byRule].map(([r, n]) => `\n  ${r}: ${n}`).join('')}\n`);
        }
      } finally {
        await clickhouse.close();
      }
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof Exit) return e.code;
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? EXIT.ok : EXIT.invalid;
    err(`${TetherError.is(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`);
    return EXIT.failed;
  }
}

/** ISO-8601, epoch ms, or now-<duration>. */
function timeArg(text: string, name: string, now: number): number {
  const relative = /^now-(\d{1,9}(?:ms|s|m|h|d))$/.exec(text.trim());
  if (relative) return now - durationMs(relative[1]!);
  if (text.trim() === 'now') return now;
  return toEpochMs(text.trim(), name);
}

// As a script: `node services/detect/src/cli.ts <command>`.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
