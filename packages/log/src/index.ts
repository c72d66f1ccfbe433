// The one place loggers are made: JSON to stderr (stdout carries a command's
// data, so `tether ... | jq` sees data only), secrets redacted by path.
import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths whose values are secrets wherever they appear in a log object. */
export const REDACT_PATHS = [
  'apiKey', '*.apiKey', '*.*.apiKey',
  'adminKey', '*.adminKey', '*.*.adminKey',
  'token', '*.token', '*.*.token',
  'password', '*.password', '*.*.password',
  'authorization', '*.authorization', '*.*.authorization',
  'Authorization', '*.Authorization', '*.*.Authorization',
  'headers["x-api-key"]', '*.headers["x-api-key"]', '*.*.headers["x-api-key"]',
  'headers.authorization', '*.headers.authorization',
  'secrets', '*.secrets',
];

export interface LogOptions {
  level?: string;
  service: string;
  /** A destination stream for tests; stderr by default. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(pinoOptions, (options.destination ?? pino.destination({ dest: 2, sync: true })) as pino.DestinationStream);
}

/**
 * Removes known secret values from free text (error messages, URLs) before it
 * is logged or stored: redaction by path cannot see inside strings.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}
