// `tether stack up|down|status|install`: infra/local/stack.sh. Progress goes
// to stderr; `status`'s table is data and goes to stdout.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { EXIT, examples } from '#service';

const SCRIPT = path.resolve(import.meta.dirname, '../../../infra/local/stack.sh');
const ACTIONS = ['up', 'down', 'status', 'install'];

const HELP = `Usage: tether stack <up|down|status|install> [--purge]

Real Kafka, schema registry and ClickHouse servers as local processes (no Docker); state under .tether/stack.

  up        start what is not already answering (installs first if needed)
  down      stop what up started; --purge also drops the data
  status    version, endpoint, pid, RSS and health of each; exit 1 if any is down
  install   fetch everything (idempotent)
${examples(['tether stack up', 'tether stack status', 'tether stack down --purge'])}`;

export async function main(argv: readonly string[]): Promise<number> {
  const [action, ...rest] = argv;
  if (action === '--help' || action === '-h' || action === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  if (action === undefined || !ACTIONS.includes(action) || rest.some((a) => a !== '--purge') || (rest.length > 0 && action !== 'down')) {
    process.stderr.write(`tether stack: ${action === undefined ? 'an action is needed' : `unknown action or option: ${argv.join(' ')}`} (up, down, status, install; add --help)\n`);
    return EXIT.usage;
  }
  const child = spawn('bash', [SCRIPT, action, ...rest], {
    // status prints the table as data; the other actions print progress.
    stdio: ['ignore', action === 'status' ? 'inherit' : process.stderr, 'inherit'],
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  return code === 2 ? EXIT.usage : code === 0 ? EXIT.ok : EXIT.failure;
}
