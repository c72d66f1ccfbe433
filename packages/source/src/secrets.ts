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
}

/** Values shorter than 4 characters are ignored: scrubbing them would shred ordinary text. */
export function createScrubber(values: readonly (string | null | undefined)[]): Scrubber {
  const secrets = [...new Set(values.filter((v): v is string => typeof v === 'string' && v.length >= 4))]
    // Longest first, so a secret that contains another is replaced whole.
    .sort((a, b) => b.length - a.length);
  const needles = secrets.map((s) => Buffer.from(s));
  // Bytes are scrubbed as latin1 (one char per byte, both ways), so every byte but the secret's stays as it was, even in text that is not valid UTF-8.
  const byteSecrets = needles.map((n) => n.toString('latin1'));
  return {
    secrets,
    text: (value) => (secrets.length === 0 ? value : scrubSecrets(value, secrets)),
    bytes(value) {
      if (!needles.some((n) => value.includes(n))) return value;
      return Buffer.from(scrubSecrets(value.toString('latin1'), byteSecrets), 'latin1');
    },
  };
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
