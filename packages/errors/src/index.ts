// Typed errors for every Tether component: a stable code from one list, a
// retry flag that drives retry policies, a cause, and context for logs.

export const ERROR_CODES = [
  'TETHER_CONFIG_INVALID',
  'TETHER_SOURCE_HTTP',
  'TETHER_SOURCE_RATE_LIMITED',
  'TETHER_SOURCE_PARSE',
  'TETHER_SOURCE_ENCODING',
  'TETHER_SOURCE_AUTH',
  'TETHER_NORMALISE_INVALID',
  'TETHER_SCHEMA_INVALID',
  'TETHER_SCHEMA_REGISTRY',
  'TETHER_DECODE',
  'TETHER_KAFKA',
  'TETHER_PRODUCE',
  'TETHER_SINK_WRITE',
  'TETHER_SINK_ROW_REJECTED',
  'TETHER_QUERY_BIND',
  'TETHER_QUERY_UNKNOWN',
  'TETHER_QUERY_FAILED',
  'TETHER_TRAIL_VERIFY',
  'TETHER_MIGRATION',
  'TETHER_ABORTED',
  'TETHER_IDENTITY_INVALID',
  'TETHER_RECORD_TOO_LARGE',
  'TETHER_DUPLICATE_CONFLICT',
  'TETHER_RULE_INVALID',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const BRAND = Symbol.for('tether.error');

export interface TetherErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class TetherError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options: TetherErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TetherError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }

  static is(value: unknown): value is TetherError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

export function tetherError(code: ErrorCode, message: string, options?: TetherErrorOptions): TetherError {
  return new TetherError(code, message, options);
}

/** Whether a retry policy may try again: only errors that say so, never programmer errors. */
export function isRetriable(err: unknown): boolean {
  if (TetherError.is(err)) return err.retriable;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return false;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
