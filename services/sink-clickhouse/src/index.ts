// Entry point: `tether sink` (or `node services/sink-clickhouse/src/index.ts`):
// command line, config, logger, app, signals, start. --help has no side
// effects; a bad setting is one line and exit 2.
import { createLogger } from '#log';
import { examples, runMain, runProgram, runUntilStopped, tetherCommand } from '#service';
import { buildSinkApp } from './app.ts';
import { loadSinkConfig } from './config.ts';

const EXAMPLES = examples([
  'tether sink                                      # every stream: events, identity, dlq',
  'TETHER_SINK_STREAMS=events tether sink           # one instance per stream',
  'curl -s 127.0.0.1:9420/ready | jq .checks        # ClickHouse, schema, Kafka, registry',
]);

export async function main(argv: readonly string[]): Promise<number> {
  let run = false;
  const program = tetherCommand('tether sink')
    .description('Write enriched events, identity history and dead letters into ClickHouse (commits after ClickHouse acknowledged).')
    .addHelpText('after', `${EXAMPLES}\nConfiguration: services/sink-clickhouse/README.md (TETHER_SINK_*, plus the shared TETHER_KAFKA_*, TETHER_SCHEMA_REGISTRY_URL and TETHER_CLICKHOUSE_*).\n`)
    .action(() => void (run = true));
  const code = await runProgram(program, argv);
  if (!run) return code;

  const config = loadSinkConfig();
  const log = createLogger({ service: 'sink-clickhouse', level: config.TETHER_LOG_LEVEL });
  const app = buildSinkApp(config, { log });
  // Runs until a signal: drains and exits.
  return runUntilStopped(app, log, config.TETHER_SINK_SHUTDOWN_GRACE_MS);
}

if (import.meta.main) runMain('sink', main);
