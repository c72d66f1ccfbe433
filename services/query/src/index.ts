// Entry point: config, logger, app, the CLI; `serve` adds the HTTP API and
// the signal handlers. Logs go to stderr: stdout carries the data.
import { CommanderError } from 'commander';
import { errorMessage, tetherError } from '#errors';
import { createLogger } from '#log';
import { onShutdown } from '#service';
import { startApi } from './api.ts';
import { buildQueryApp, type QueryApp } from './app.ts';
import { buildCli } from './cli.ts';
import { loadQueryConfig, type QueryConfig } from './config.ts';
import { terminalSafe, writeOut } from './terminal.ts';

let config: Readonly<QueryConfig>;
try {
  config = loadQueryConfig();
} catch (err) {
  writeOut(process.stderr, `query: ${errorMessage(err)}\n`);
  process.exit(1);
}
const log = createLogger({ service: 'query', level: config.TETHER_LOG_LEVEL, destination: terminalSafe(process.stderr) });
let app: QueryApp | undefined;
let serving = false;
const getApp = (): QueryApp => (app ??= buildQueryApp(config, { log }));

async function serve(): Promise<void> {
  if (!config.TETHER_QUERY_API_TOKEN) {
    throw tetherError('TETHER_CONFIG_INVALID', 'TETHER_QUERY_API_TOKEN must be set to serve the API');
  }
  const queries = getApp();
  const api = await startApi(queries, {
    token: config.TETHER_QUERY_API_TOKEN,
    host: config.TETHER_QUERY_HOST,
    port: config.TETHER_QUERY_PORT,
    maxRows: config.TETHER_QUERY_MAX_ROWS,
  });
  serving = true;
  onShutdown(log, async () => {
    await api.close();
    await queries.close();
  }, config.TETHER_QUERY_SHUTDOWN_GRACE_MS);
}

const program = buildCli(getApp, { stdout: process.stdout, stderr: process.stderr }, serve);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    // The message can quote input (a file being verified, a parameter): escaped on a terminal.
    writeOut(process.stderr, `query: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  }
} finally {
  if (!serving) await app?.close();
}
