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
    text: (value) => (secrets.length === 0 ? value : scrubSecrets(value, secrets)),
    bytes(value) {
      if (!needles.some((n) => value.includes(n))) return value;
      return Buffer.from(scrubSecrets(value.toString('latin1'), byteSecrets), 'latin1');
    },
    add,
  };
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
export function scrubbingDestination(scrubber: Scrubber, out: NodeJS.WritableStream = process.stdout): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      out.write(scrubber.text(String(chunk)));
      callback();
    },
  });
}
