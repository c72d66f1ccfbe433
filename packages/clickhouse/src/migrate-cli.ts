// npm run migrate: applies infra/clickhouse/migrations to
// TETHER_CLICKHOUSE_URL / TETHER_CLICKHOUSE_DATABASE.
import { commonEnvShape, loadConfig } from '#config';
import { errorMessage } from '#errors';
import { createLogger } from '#log';
import { z } from 'zod';
import { migrate } from './migrations.ts';

const config = loadConfig(z.object({
  TETHER_CLICKHOUSE_URL: commonEnvShape.TETHER_CLICKHOUSE_URL,
  TETHER_CLICKHOUSE_USER: commonEnvShape.TETHER_CLICKHOUSE_USER,
  TETHER_CLICKHOUSE_PASSWORD: commonEnvShape.TETHER_CLICKHOUSE_PASSWORD,
  TETHER_CLICKHOUSE_DATABASE: commonEnvShape.TETHER_CLICKHOUSE_DATABASE,
  TETHER_LOG_LEVEL: commonEnvShape.TETHER_LOG_LEVEL,
}));
const log = createLogger({ service: 'migrate', level: config.TETHER_LOG_LEVEL });

try {
  const result = await migrate({
    clickhouse: {
      url: config.TETHER_CLICKHOUSE_URL,
      username: config.TETHER_CLICKHOUSE_USER,
      password: config.TETHER_CLICKHOUSE_PASSWORD,
    },
    database: config.TETHER_CLICKHOUSE_DATABASE,
    log,
  });
  log.info({ database: result.database, applied: result.applied, alreadyApplied: result.alreadyApplied.length }, 'migrations done');
} catch (err) {
  log.error({ err }, `migrations failed: ${errorMessage(err)}`);
  process.exitCode = 1;
}
