// The SCIM service's command line: `serve` (the SCIM 2.0 service provider),
// `replay FILE` (recorded IdP calls, each at its time) and `bootstrap FILE`
// (a SCIM ListResponse export). main() returns the exit code so the
// `tether` umbrella can call it; --help and bad arguments touch nothing.
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { errorMessage } from '#errors';
import { createLogger, type Logger } from '#log';
import { examples, onShutdown } from '#service';
import { createScrubber, scrubbingDestination } from '#source';
import { buildScimApp, openScimCore } from './app.ts';
import { loadScimConfig, type ScimConfig } from './config.ts';
import { bootstrapFile, replayFile, type ImportSummary } from './imports.ts';
import { createScimMetrics } from './metrics.ts';

export interface MainIo {
  env?: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** `serve` resolves once stopped; tests and the umbrella pass their own signal. */
  signal?: AbortSignal;
}

export async function main(argv: readonly string[], io: MainIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  let action: (() => Promise<number>) | undefined;
  const program = new Command('scim')
    .description('Tether SCIM 2.0 service provider and its imports')
    .addHelpText('after', examples(['TETHER_SCIM_TOKEN=... tether scim serve', 'tether scim replay okta-calls.jsonl', 'tether scim bootstrap users-export.json']))
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  program.command('serve').description('serve /scim/v2 (Users, Groups) for Okta and Entra to push to').action(() => {
    action = () => serve(io);
  });
  program.command('replay').argument('<file>', 'JSONL of recorded IdP calls {at, method, path, body}')
    .description('apply recorded calls through the same handlers, each valid from its `at`; replaying twice changes nothing')
    .action((file: string) => {
      action = () => runImport(io, out, (deps) => replayFile(file, deps));
    });
  program.command('bootstrap').argument('<file>', 'a SCIM ListResponse export (Users and Groups)')
    .description('create every exported resource as of its meta.lastModified')
    .action((file: string) => {
      action = () => runImport(io, out, (deps) => bootstrapFile(file, deps));
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
  if (!action) {
    out(program.helpInformation());
    return 0;
  }
  try {
    return await action();
  } catch (e) {
    err(`scim: ${errorMessage(e)}\n`);
    return 1;
  }
}

function setup(io: MainIo): { config: Readonly<ScimConfig>; log: Logger } {
  const config = loadScimConfig(io.env ?? process.env);
  const scrubber = createScrubber([config.TETHER_SCIM_TOKEN, config.TETHER_CLICKHOUSE_PASSWORD]);
  const log = createLogger({ service: 'scim', level: config.TETHER_LOG_LEVEL, destination: scrubbingDestination(scrubber) });
  return { config, log };
}

async function serve(io: MainIo): Promise<number> {
  const { config, log } = setup(io);
  const app = buildScimApp(config, { log });
  if (!io.signal) {
    // As a process: a signal stops the app and onShutdown exits once it has.
    onShutdown(log, () => app.stop(), config.TETHER_SCIM_SHUTDOWN_GRACE_MS);
    await app.start();
    return new Promise<number>(() => undefined);
  }
  const signal = io.signal;
  await app.start();
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await app.stop();
  return 0;
}

async function runImport(
  io: MainIo, out: (t: string) => void,
  run: (deps: Parameters<typeof replayFile>[1]) => Promise<ImportSummary>,
): Promise<number> {
  const { config, log } = setup(io);
  const core = await openScimCore(config, { log }, createScimMetrics({ defaultMetrics: false }));
  try {
    const baseUrl = config.TETHER_SCIM_BASE_URL?.replace(/\/+$/, '') ?? `http://${config.TETHER_SCIM_HOST}:${config.TETHER_SCIM_PORT}/scim/v2`;
    const summary = await run({ service: core.service, deadLetters: core.deadLetters, log, baseUrl });
    out(`${JSON.stringify(summary)}\n`);
    return summary.failed > 0 ? 2 : 0;
  } finally {
    await core.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
    process.stderr.write(`scim: ${errorMessage(e)}\n`);
    process.exit(1);
  });
}
