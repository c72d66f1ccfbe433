// Entry point: `tether query <command>` (or `node services/query/src/index.ts`).
// Each command reads only the settings it uses: verify and hunts none,
// reports ClickHouse's, serve the API's too (a short token breaks serve, not
// verify). Logs go to stderr: stdout carries the data.
import { z } from 'zod';
import { loadConfig, logEnvShape, refuseUnknownVariables } from '#config';
import { TetherError, tetherError } from '#errors';
import { createLogger, type Logger } from '#log';
import { EXIT, errorLine, onShutdown, runMain, runProgram } from '#service';
import { parseNamedTokens, startApi } from './api.ts';
import { buildQueryApp, type QueryApp } from './app.ts';
import { buildCli } from './cli.ts';
import { loadQueryConfig, loadServeConfig } from './config.ts';
import { HUNTS_DIR, loadHunts } from './hunts.ts';
import { terminalSafe, writeOut } from './terminal.ts';

/** Errors that are the caller's input to fix: usage (exit 2), not a failure of the query. */
const USAGE_CODES = new Set(['TETHER_CONFIG_INVALID', 'TETHER_QUERY_BIND', 'TETHER_QUERY_UNKNOWN']);

export async function main(argv: readonly string[]): Promise<number> {
  let app: QueryApp | undefined;
  let serving = false;
  let log: Logger | undefined;
  const logger = (): Logger => {
    refuseUnknownVariables(process.env);
    log ??= createLogger({ service: 'query', level: loadConfig(z.object(logEnvShape)).TETHER_LOG_LEVEL, destination: terminalSafe(process.stderr) });
    return log;
  };
  const getApp = (): QueryApp => (app ??= buildQueryApp(loadQueryConfig(), { log: logger() }));

  async function serve(): Promise<void> {
    const config = loadServeConfig();
    if (!config.TETHER_QUERY_API_TOKEN && !config.TETHER_QUERY_API_TOKENS) {
      throw tetherError('TETHER_CONFIG_INVALID', 'TETHER_QUERY_API_TOKEN (a bearer token of 24 or more characters) or TETHER_QUERY_API_TOKENS (name=token pairs) must be set to serve the API');
    }
    const queries = (app ??= buildQueryApp(config, { log: logger() }));
    const api = await startApi(queries, {
      token: config.TETHER_QUERY_API_TOKEN,
      tokens: config.TETHER_QUERY_API_TOKENS ? parseNamedTokens(config.TETHER_QUERY_API_TOKENS) : [],
      host: config.TETHER_QUERY_HOST,
      port: config.TETHER_QUERY_PORT,
      maxRows: config.TETHER_QUERY_MAX_ROWS,
    });
    serving = true;
    onShutdown(queries.log, async () => {
      await api.close();
      await queries.close();
    }, config.TETHER_QUERY_SHUTDOWN_GRACE_MS);
  }

  const program = buildCli(getApp, { stdout: process.stdout, stderr: process.stderr }, serve, () => {
    refuseUnknownVariables(process.env);
    return loadHunts(HUNTS_DIR);
  });
  let code: number;
  try {
    code = await runProgram(program, argv);
  } catch (err) {
    // The message can quote input (a file being verified, a parameter): escaped on a terminal.
    writeOut(process.stderr, errorLine('query', err));
    code = TetherError.is(err) && USAGE_CODES.has(err.code) ? EXIT.usage : EXIT.failure;
  } finally {
    if (!serving) await app?.close();
  }
  // serve runs until a signal: onShutdown closes and exits.
  if (serving) return new Promise<number>(() => undefined);
  return code;
}

if (import.meta.main) runMain('query', main);
