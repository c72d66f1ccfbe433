// Entry point: config, logger, app, signals, start.
import { createLogger } from '#log';
import { onShutdown } from '#service';
import { buildSinkApp } from './app.ts';
import { loadSinkConfig } from './config.ts';

const config = loadSinkConfig();
const log = createLogger({ service: 'sink-clickhouse', level: config.TETHER_LOG_LEVEL });
const app = buildSinkApp(config, { log });
onShutdown(log, () => app.stop(), config.TETHER_SINK_SHUTDOWN_GRACE_MS);
try {
  await app.start();
} catch (err) {
  log.error({ err }, 'sink failed to start');
  process.exit(1);
}
