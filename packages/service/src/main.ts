// One exit-code table and one way to run an entry module's main(argv), for
// every command: `tether <command>` imports the module and calls main; run
// directly (`node services/x/src/index.ts`), the module calls runMain.
//
//   0  ok
//   1  failure: the command ran and failed (a server refused, a feed failed,
//      an export was modified)
//   2  usage or configuration: a bad flag or variable, a server that never
//      answered at the configured address
//   3  unreadable input: a file that could not be read or parsed (verify)
import { TetherError, errorMessage } from '#errors';
import type { Logger } from '#log';
import { onShutdown } from './lifecycle.ts';

export const EXIT = Object.freeze({ ok: 0, failure: 1, usage: 2, unreadable: 3 });

/** A command's entry: parses `argv` (after the command's own name) and resolves with its exit code. */
export type Main = (argv: readonly string[]) => Promise<number>;

/** Exit code for an error that escaped a command. */
export function exitCodeOf(err: unknown): number {
  return TetherError.is(err) && err.code === 'TETHER_CONFIG_INVALID' ? EXIT.usage : EXIT.failure;
}

/** The one line printed for an error that escaped a command: no stack, control characters escaped. */
export function errorLine(command: string, err: unknown, scrub: (text: string) => string = (t) => t): string {
  const message = scrub(errorMessage(err)).replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${command}: ${message.replace(/\n\s*/g, '; ')}\n`;
}

/**
 * Runs `main` with the process's arguments and exits with its code. The exit
 * waits for stdout to drain (a pipe into jq gets every byte), then forces
 * the exit if a client library still holds the loop open.
 */
export function runMain(command: string, main: Main, options: { scrub?: (text: string) => string } = {}): void {
  main(process.argv.slice(2)).then(
    (code) => exit(code),
    (err: unknown) => {
      process.stderr.write(errorLine(command, err, options.scrub));
      exit(exitCodeOf(err));
    },
  );
}

export function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => {
    setTimeout(() => process.exit(code), 500).unref();
  });
}

/**
 * Runs a long-running service: SIGTERM/SIGINT drain it within `graceMs` and
 * exit; a start-up failure stops what started and rejects (exit 2 for a
 * server that never answered, through runMain). Never resolves otherwise.
 */
export async function runUntilStopped(app: { start(): Promise<void>; stop(): Promise<void> }, log: Logger, graceMs: number): Promise<number> {
  onShutdown(log, () => app.stop(), graceMs);
  try {
    await app.start();
  } catch (err) {
    await app.stop().catch(() => undefined);
    throw err;
  }
  return new Promise<number>(() => undefined);
}
