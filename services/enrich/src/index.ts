// Entry point: parse config, create the logger, build the app, wire signals, start.
import { createLogger } from '#log';
import { onShutdown } from '#service';
import { buildApp } from './app.ts';
import { loadEnrichConfig } from './config.ts';

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
onShutdown(log, () => app.stop(), config.TETHER_ENRICH_SHUTDOWN_GRACE_MS);
app.start().catch((err: unknown) => {
  log.fatal({ err }, 'enrich failed to start');
  process.exit(1);
});
