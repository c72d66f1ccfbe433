// `tether`: one command for everything a user runs. The first word picks a
// command from the table (commands.ts); its module is imported then, and
// its main(argv) gets the remaining words, so each command owns its help,
// flags and exit code. Data goes to stdout; progress, logs and errors to
// stderr; exit codes are #service's EXIT table for every command.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { EXIT, errorLine, exitCodeOf, runMain, type Main } from '#service';
import { COMMANDS, findCommand } from './commands.ts';
import { bashCompletion, zshCompletion } from './completion.ts';

const VERSION = (JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

export function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 'completion'.length) + 2;
  const line = (name: string, summary: string) => `  ${name.padEnd(width)}${summary}`;
  return `Usage: tether <command> [arguments] [options]

Tether attributes every AI access event to a person, a device and the key or
connector it went through. One command per stage of the pipeline:

Commands:
${COMMANDS.map((c) => line(c.name, c.summary)).join('\n')}
${line('completion', 'print a shell completion script (bash, zsh)')}

Options:
  -h, --help     this help (every command has its own: tether <command> --help)
  -V, --version  the version

Examples:
${COMMANDS.flatMap((c) => c.examples.slice(0, 1)).map((e) => `  ${e}`).join('\n')}

Exit codes (every command):
  0  ok
  1  failure: the command ran and failed (a server refused, a feed failed, verify: the export was modified)
  2  usage or configuration: a bad flag or variable, a server that never answered at its configured address
  3  unreadable input (verify: the file or its manifest cannot be read)

Configuration is read from TETHER_* variables (README.md, "Configuration"); an unknown TETHER_* name is refused.
`;
}

export const main: Main = async (argv) => {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(helpText());
    return EXIT.usage;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0] && findCommand(rest[0])) return dispatch(rest[0], ['--help']);
    process.stdout.write(helpText());
    return EXIT.ok;
  }
  if (name === '-V' || name === '--version' || name === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  if (name === 'completion') return completion(rest);
  if (!findCommand(name)) {
    process.stderr.write(`tether: unknown command ${JSON.stringify(name)} (commands: ${[...COMMANDS.map((c) => c.name), 'completion'].join(', ')}; add --help)\n`);
    return EXIT.usage;
  }
  return dispatch(name, rest);
};

async function dispatch(name: string, rest: readonly string[]): Promise<number> {
  const spec = findCommand(name)!;
  const module = await spec.load();
  try {
    return await module.main([...(spec.prefix ?? []), ...rest]);
  } catch (err) {
    // One line naming the command; no stack.
    process.stderr.write(errorLine(`tether ${name}`, err));
    return exitCodeOf(err);
  }
}

function completion(args: readonly string[]): number {
  const [shell] = args;
  if (shell === 'bash') process.stdout.write(bashCompletion());
  else if (shell === 'zsh') process.stdout.write(zshCompletion());
  else if (shell === '--help' || shell === '-h') process.stdout.write('Usage: tether completion bash|zsh\n\nExamples:\n  eval "$(npx tether completion bash)"\n  npx tether completion zsh > "${fpath[1]}/_tether"\n');
  else {
    process.stderr.write('tether completion: bash or zsh\n');
    return EXIT.usage;
  }
  return EXIT.ok;
}

if (import.meta.main) runMain('tether', main);
