// ingest-osquery entry: `tail <file>…`, `serve` (TLS logger endpoint),
// `consume` (osquery's Kafka logger topic). Exit 0 done, 1 failed, 2 usage
// or configuration. `--help` touches nothing.
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { errorMessage, TetherError } from '#errors';
import { createLogger } from '#log';
import { onShutdown } from '#service';
import { connectOsquery, SERVICE } from './app.ts';
import { loadOsqueryConfig } from './config.ts';

type Mode = { mode: 'tail'; files: string[] } | { mode: 'serve' } | { mode: 'consume' };

const EXAMPLES = `
Examples:
  ingest-osquery tail /var/log/osquery/osqueryd.results.log
  TETHER_OSQUERY_ENROLL_SECRET=… TETHER_OSQUERY_NODE_KEY_SECRET=… ingest-osquery serve
  TETHER_OSQUERY_KAFKA_TOPIC=osquery_results ingest-osquery consume`;

export function parseArgs(argv: readonly string[], out: (text: string) => void = (t) => process.stderr.write(t)): Mode | 'help' {
  let mode: Mode | undefined;
  const program = new Command('ingest-osquery')
    .description('osquery results (filesystem, TLS and Kafka loggers) to device state over time and AI-tool events.')
    .addHelpText('after', EXAMPLES)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: out, outputError: () => undefined });
  program.command('tail').description('tail filesystem-logger result files from their checkpoints').argument('<files...>').action((files: string[]) => { mode = { mode: 'tail', files }; });
  program.command('serve').description('serve an osquery TLS logger endpoint (enroll, log)').action(() => { mode = { mode: 'serve' }; });
  program.command('consume').description("read osquery's kafka_producer topic").action(() => { mode = { mode: 'consume' }; });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')) return 'help';
    throw new TetherError('TETHER_CONFIG_INVALID', `usage: ${errorMessage(err).replace(/^error: /, '')}`);
  }
  if (!mode) throw new TetherError('TETHER_CONFIG_INVALID', 'usage: name a command: tail, serve or consume (see --help)');
  return mode;
}

export async function main(argv: readonly string[]): Promise<number> {
  let mode: Mode | 'help';
  let config;
  try {
    mode = parseArgs(argv);
    if (mode === 'help') return 0;
    config = loadOsqueryConfig();
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return 2;
  }
  const log = createLogger({ service: SERVICE, level: config.TETHER_LOG_LEVEL });
  let app;
  try {
    app = await connectOsquery(config, log);
  } catch (err) {
    if (TetherError.is(err) && err.code === 'TETHER_CONFIG_INVALID') {
      process.stderr.write(`${errorMessage(err)}\n`);
      return 2;
    }
    throw err;
  }
  const controller = new AbortController();
  let running: Promise<void> = Promise.resolve();
  onShutdown(log, async () => {
    controller.abort();
    await running.catch(() => undefined);
    await app.close();
  });
  log.info({ port: app.opsPort, mode: mode.mode }, 'health and metrics listening');
  running = mode.mode === 'tail' ? app.tail(mode.files, controller.signal) : mode.mode === 'serve' ? app.serve(controller.signal) : app.consume(controller.signal);
  try {
    await running;
    return 0;
  } catch (err) {
    if (TetherError.is(err) && err.code === 'TETHER_CONFIG_INVALID') {
      process.stderr.write(`${errorMessage(err)}\n`);
      return 2;
    }
    log.error({ err }, 'ingest-osquery failed');
    return 1;
  } finally {
    await app.close().catch(() => undefined);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
