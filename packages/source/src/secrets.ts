// Secrets come from config and must never leave the process: every log line,
// dead letter and stored raw payload passes through one scrubber built from
// the configured values (redaction by path cannot see inside strings).
import { Writable } from 'node:stream';
import { scrubSecrets } from '#log';

export interface Scrubber {
  readonly secrets: readonly string[];
  text(value: string): string;
  /** Returns the same buffer when it holds no secret (the common case, no copy). */
  bytes(value: Buffer): Buffer;
  /**
   * Registers a secret learnt at run time (an access token an auth hook
   * obtained): scrubbed from then on, logs included.
   */
  add(value: string | null | undefined): void;
}

/** Values shorter than 4 characters are ignored: scrubbing them would shred ordinary text. */
export function createScrubber(values: readonly (string | null | undefined)[]): Scrubber {
  let secrets: string[] = [];
  let needles: Buffer[] = [];
  // Bytes are scrubbed as latin1 (one char per byte, both ways), so every byte but the secret's stays as it was, even in text that is not valid UTF-8.
  let byteSecrets: string[] = [];
  const known = new Set<string>();
  const add = (value: string | null | undefined) => {
    if (typeof value !== 'string' || value.length < 4 || known.has(value)) return;
    known.add(value);
    // Longest first, so a secret that contains another is replaced whole.
    secrets = [...known].sort((a, b) => b.length - a.length);
    needles = secrets.map((s) => Buffer.from(s));
    byteSecrets = needles.map((n) => n.toString('latin1'));
  };
  for (const value of values) add(value);
  return {
    get secrets() {
      return secrets;
    },
    text: (value) => scrubTokenShapes(secrets.length === 0 ? value : scrubSecrets(value, secrets)),
    bytes(value) {
      const known = needles.some((n) => value.includes(n));
      const shaped = TOKEN_MARKS.some((m) => value.includes(m));
      if (!known && !shaped) return value;
      const text = value.toString('latin1');
      return Buffer.from(scrubTokenShapes(known ? scrubSecrets(text, byteSecrets) : text), 'latin1');
    },
    add,
  };
}

/**
 * Credentials recognisable by their shape, whoever's they are (a header a
 * platform echoed, a key pasted into a name): OpenAI/Anthropic-style keys,
 * Bearer tokens, and Basic credentials (base64 that decodes to `user:pass`).
 * Key hints such as `sk-ant-api03-R2D...igAA` are too short to match.
 */
const TOKEN_SHAPES = /\bsk-[A-Za-z0-9_-]{20,}|\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*|\bBasic\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/gi;
const TOKEN_MARKS = ['sk-', 'earer', 'asic', 'EARER', 'ASIC'].map((m) => Buffer.from(m));

export function scrubTokenShapes(text: string): string {
  if (!/sk-|bearer|basic/i.test(text)) return text;
  return text.replace(TOKEN_SHAPES, (match, basic: string | undefined) => {
    if (basic === undefined) return '[redacted]';
    // Only base64 of `user:password` is a credential; "Basic authentication" is prose.
    return Buffer.from(basic, 'base64').toString('latin1').includes(':') ? '[redacted]' : match;
  });
}

/**
 * Every string and byte field of a record scrubbed, however deep: what a
 * source emits (normalised fields, raw, unmapped, identity versions) carries
 * no secret in any field. Returns the same object when nothing changed.
 */
export function scrubRecord<T>(value: T, scrubber: Scrubber): T {
  if (typeof value === 'string') return scrubber.text(value) as T;
  if (Buffer.isBuffer(value)) return scrubber.bytes(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v: unknown, i) => {
      const s = scrubRecord(v, scrubber);
      if (s !== v) (out ??= [...value])[i] = s;
    });
    return (out ?? value) as T;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const s = scrubRecord(v, scrubber);
    if (s !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = s;
  }
  return (out ?? value) as T;
}

/**
 * Every form in which a key travels, so each can be scrubbed: the key, and
 * the HTTP Basic credentials it makes as a user name with an empty password.
 */
export function secretForms(key: string): string[] {
  const basic = Buffer.from(`${key}:`).toString('base64');
  return [key, basic, `Basic ${basic}`];
}

/**
 * A log destination that scrubs every line before it reaches `out`. pino
 * writes whole lines, so a secret is never split across two writes.
 */
export function scrubbingDestination(scrubber: Scrubber, out: NodeJS.WritableStream = process.stderr): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      out.write(scrubber.text(String(chunk)));
      callback();
    },
  });
}
