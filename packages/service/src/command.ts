// Command-line conventions every Tether command shares (gh, kubectl): help
// on stdout with examples and no side effects, usage errors as one line on
// stderr with exit 2, data on stdout, everything else on stderr.
import { Command, CommanderError } from 'commander';
import { EXIT } from './main.ts';

/** A commander program configured for the conventions; subcommands made with .command() inherit them. */
export function tetherCommand(name: string, out: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream } = {}): Command {
  const stdout = out.stdout ?? process.stdout;
  const stderr = out.stderr ?? process.stderr;
  return new Command(name)
    .exitOverride()
    .showHelpAfterError('(add --help for usage and examples)')
    .configureOutput({
      writeOut: (text) => void stdout.write(text),
      writeErr: (text) => void stderr.write(text),
    });
}

/** "Examples:" help text, appended to a command's --help. */
export function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/**
 * Parses `argv` (the words after the command's name) and runs the chosen
 * action. Resolves with EXIT.ok after --help or --version, EXIT.usage on a
 * usage error (commander has printed it), else the code an action stored
 * with setExitCode (EXIT.ok when none did).
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // `tether query` alone prints its help to stderr and "fails": a usage problem.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw err;
  }
  return exitCodes.get(program) ?? EXIT.ok;
}

const exitCodes = new WeakMap<Command, number>();

/** Records the exit code a command's action decided on (the root program's is the one returned). */
export function setExitCode(command: Command, code: number): void {
  let root = command;
  while (root.parent) root = root.parent;
  exitCodes.set(root, Math.max(exitCodes.get(root) ?? 0, code));
}
