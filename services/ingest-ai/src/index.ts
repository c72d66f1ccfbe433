// ingest-ai entry: parse the command line and config, make the (scrubbing)
// logger, connect, run the mode, wire signals. `main` returns the exit code
// (0 done, 1 failed, 2 usage) so an umbrella CLI can call it; the process
// side effects below run only when this file is the entry module.
import { loadConfig } from '#config';
import { errorMessage } from '#errors';
import { createLogger } from '#log';
import { exitCodeOf, onShutdown, runMain, startOpsServer } from '#service';
import { createScrubber, scrubbingDestination, stderrProgress, summaryLine } from '#source';
import { configuredPlatforms, connectApp, SERVICE } from './app.ts';
import { parseCli, type CliCommand } from './cli.ts';
import { ingestAiEnvSchema, type IngestAiConfig } from './config.ts';
import { SOURCES } from './sources.ts';

/** Scrubs the last-resort error line too, once the secrets are known. */
let scrub = (text: string) => text;

/** `tether ingest <source> poll|backfill|import`; exits 0 done, 1 failed, 2 usage or configuration. */
export async function main(argv: readonly string[]): Promise<number> {
  let command: CliCommand | 'help';
  let config: IngestAiConfig;
  try {
    command = parseCli(argv, (text) => process.stdout.write(text));
    if (command === 'help') return 0;
    config = loadConfig(ingestAiEnvSchema);
  } catch (err) {
    process.stderr.write(`${errorMessage(err)}\n`);
    return 2;
  }
  const endpoints = SOURCES.endpoints(config);
  const scrubber = createScrubber([...endpoints.values()].flatMap((e) => e.auth.secrets));
  scrub = scrubber.text;
  const log = createLogger({ service: SERVICE, level: config.TETHER_LOG_LEVEL, destination: scrubbingDestination(scrubber) });

  const selector = command.mode === 'import' ? command.platform : command.platforms;
  const platforms = command.mode === 'import' ? [command.platform] : configuredPlatforms(config, selector);
  if (platforms.length === 0 || (selector !== 'all' && command.mode !== 'import' && !platforms.includes(selector))) {
    const wanted = selector === 'all' ? SOURCES.sources : SOURCES.sources.filter((s) => s.name === selector);
    const variables = wanted.flatMap((s) => Object.keys(s.env)).join(', ');
    process.stderr.write(`no credentials configured for ${selector} (its variables: ${variables})\n`);
    return 2;
  }

  let connected: Awaited<ReturnType<typeof connectApp>>;
  try {
    connected = await connectApp(config, { log, scrubber });
  } catch (err) {
    // A server that never answered at the configured address is configuration (exit 2).
    process.stderr.write(`ingest-ai: ${scrub(errorMessage(err))}\n`);
    return exitCodeOf(err);
  }
  const { app, close } = connected;
  const controller = new AbortController();
  let running: Promise<unknown> = Promise.resolve();
  onShutdown(log, async () => {
    controller.abort();
    await running.catch(() => undefined);
    await close();
  });

  if (command.mode === 'poll') {
    const ops = await startOpsServer({ port: config.TETHER_INGEST_METRICS_PORT, host: config.TETHER_OPS_HOST, registry: app.metrics.registry, health: () => app.health() });
    log.info({ port: ops.port, platforms }, 'health and metrics listening');
    running = app.poll(platforms, controller.signal);
    await running;
    await ops.close();
    await close();
    return 0;
  }

  const summary =
    command.mode === 'backfill'
      ? await (running = app.backfill(platforms, { since: command.since, until: command.until }, controller.signal, stderrProgress()))
      : await (running = app.importFile(command.platform, command.feed, command.file, controller.signal));
  const line = scrubber.text(summaryLine(command.mode, summary));
  process.stderr.write(`${line}\n`);
  log.info({ feeds: summary.feeds, elapsedMs: summary.elapsedMs }, `${command.mode} finished`);
  await close();
  return summary.feeds.some((f) => f.error !== null) ? 1 : 0;
}

if (import.meta.main) runMain('ingest-ai', main, { scrub: (text) => scrub(text) });
