// `tether migrate` (or `node packages/clickhouse/src/migrate-cli.ts`):
// applies infra/clickhouse/migrations to TETHER_CLICKHOUSE_URL /
// TETHER_CLICKHOUSE_DATABASE. --help and --status change nothing.
import { clickhouseEnvSchema, loadConfig } from '#config';
import { createLogger } from '#log';
import { clickhouseDependency, EXIT, examples, runMain, runProgram, setExitCode, tetherCommand, waitForDependencies } from '#service';
import { createClickHouse } from './client.ts';
import { migrate, pendingMigrations } from './migrations.ts';

const DEFAULT_WAIT_MS = 20_000;

export async function main(argv: readonly string[]): Promise<number> {
  const program = tetherCommand('tether migrate')
    .description('Apply the ClickHouse migrations (infra/clickhouse/migrations) that the database has not recorded yet.')
    .option('--status', 'list pending migrations and change nothing (exit 1 when some are pending)')
    .addHelpText('after', examples([
      'tether migrate                                     # create the database if missing, apply what is pending',
      'tether migrate --status                            # what would be applied',
      'TETHER_CLICKHOUSE_DATABASE=tether_staging tether migrate',
    ]))
    .action(async (opts: { status?: boolean }, command: import('commander').Command) => {
      const config = loadConfig(clickhouseEnvSchema);
      const log = createLogger({ service: 'migrate', level: config.TETHER_LOG_LEVEL });
      await waitForDependencies([clickhouseDependency(config.TETHER_CLICKHOUSE_URL)], {
        waitMs: config.TETHER_STARTUP_WAIT_MS ?? DEFAULT_WAIT_MS,
        log,
      });
      const clickhouse = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
      if (opts.status) {
        const ch = createClickHouse({ ...clickhouse, database: config.TETHER_CLICKHOUSE_DATABASE });
        try {
          const pending = await pendingMigrations(ch);
          process.stdout.write(pending.length === 0 ? 'up to date\n' : `${pending.join('\n')}\n`);
          if (pending.length > 0) setExitCode(command, EXIT.failure);
        } finally {
          await ch.close();
        }
        return;
      }
      const result = await migrate({ clickhouse, database: config.TETHER_CLICKHOUSE_DATABASE, log });
      log.info({ database: result.database, applied: result.applied, alreadyApplied: result.alreadyApplied.length }, 'migrations done');
    });
  return runProgram(program, argv);
}

if (import.meta.main) runMain('migrate', main);
