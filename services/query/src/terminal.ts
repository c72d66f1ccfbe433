// What the CLI lets reach a terminal. Audit data carries text from outside
// (user agents, display names, app names): ESC, CSI (U+009B) and the other
// C0/C1 controls in it would be run by the terminal (retitle it, hide or
// rewrite lines, plant links) rather than shown.
import { Writable } from 'node:stream';

/** The stream fields this module reads: process.stdout and stderr set isTTY on a terminal. */
export interface OutputStream {
  write(text: string): boolean;
  isTTY?: boolean;
}

// Every C0 control but tab and line feed (harmless, and the layout of tables
// and messages), DEL, and every C1 control.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * `text` with those controls written as `\u00XX`. In JSON these can only sit
 * inside strings (JSON.stringify escapes C0 itself, not DEL or C1), where
 * `\u00XX` is the same character: JSON and NDJSON stay the same data.
 */
export function terminalText(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Writes `text` to `stream`, escaped for a terminal when the stream is one. */
export function writeOut(stream: OutputStream, text: string): boolean {
  return stream.write(stream.isTTY ? terminalText(text) : text);
}

/** `stream` itself, or on a terminal a stream that escapes what is written to it (log lines are JSON: unchanged data). */
export function terminalSafe(stream: NodeJS.WriteStream): NodeJS.WritableStream {
  if (!stream.isTTY) return stream;
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      writeOut(stream, typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
      done();
    },
  });
}
