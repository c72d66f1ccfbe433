// Entry point: `tether enrich` (or `node services/enrich/src/index.ts`):
// parse the command line, config, logger, app, signals, start. --help has
// no side effects; a bad setting is one line and exit 2.
import { createLogger } from '#log';
import { examples, runMain, runProgram, runUntilStopped, tetherCommand } from '#service';
import { buildApp } from './app.ts';
import { loadEnrichConfig } from './config.ts';

const EXAMPLES = examples([
  'tether enrich                                   # consume tether.access.raw until stopped (SIGTERM drains)',
  'TETHER_ENRICH_PORT=0 tether enrich              # /health, /ready and /metrics on a free port',
  'curl -s 127.0.0.1:9410/ready | jq .checks       # dependencies and identity restore',
]);

export async function main(argv: readonly string[]): Promise<number> {
  let run = false;
  const program = tetherCommand('tether enrich')
    .description('Attribute raw access events to the person, device and owner chain as of their time (tether.access.raw -> tether.access.enriched).')
    .addHelpText('after', `${EXAMPLES}\nConfiguration: services/enrich/README.md (TETHER_ENRICH_*, plus the shared TETHER_KAFKA_* and TETHER_SCHEMA_REGISTRY_URL).\n`)
    .action(() => void (run = true));
  const code = await runProgram(program, argv);
  if (!run) return code;

  const config = loadEnrichConfig();
  const log = createLogger({ service: 'enrich', level: config.TETHER_LOG_LEVEL });
  const app = buildApp(config, {
    log,
    // Uncommitted batches are replayed by the next instance: exit rather than limp on.
    onFatal: () => {
      setTimeout(() => process.exit(1), 10_000).unref();
      void app.stop().finally(() => process.exit(1));
    },
  });
  // Runs until a signal: drains and exits.
  return runUntilStopped(app, log, config.TETHER_ENRICH_SHUTDOWN_GRACE_MS);
}

if (import.meta.main) runMain('enrich', main);
