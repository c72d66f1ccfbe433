// The command line: `<source|all> poll | backfill --since <ISO time> [--until <ISO time>] | import <file> [--platform p] [--feed f]`,
// the sources being those registered (src/sources.ts). Parsing only; index.ts runs what it returns.
import { Argument, Command, CommanderError } from 'commander';
import { tetherError } from '#errors';
import { parseInstant } from '#time';
import { SOURCES } from './sources.ts';

export type CliCommand =
  | { mode: 'poll'; platforms: string }
  | { mode: 'backfill'; platforms: string; since: number; until: number | null }
  | { mode: 'import'; platform: string; feed: string | null; file: string };

const USAGE_EXAMPLES = `
Examples:
  ingest all poll
  ingest openai backfill --since 2026-01-01T00:00:00Z
  ingest anthropic import activities.jsonl
  ingest openai import admin-keys.json --feed admin_api_keys
  ingest all import export.json --platform cursor --feed usage_events`;

/** Throws TETHER_CONFIG_INVALID with the usage problem; `--help` output goes to `out`. */
export function parseCli(
  argv: readonly string[],
  out: (text: string) => void = (t) => process.stderr.write(t),
  names: readonly string[] = SOURCES.names,
): CliCommand | 'help' {
  let parsed: { platform: string; mode: string; file: string | undefined; options: Record<string, string | undefined> } | undefined;
  const program = new Command('ingest')
    .description(`Ingest audit logs and inventories into Tether from: ${names.join(', ')}.`)
    .addArgument(new Argument('<platform>', 'which source').choices([...names, 'all']))
    .addArgument(new Argument('<mode>', 'what to do').choices(['poll', 'backfill', 'import']))
    .addArgument(new Argument('[file]', 'for import: a .json or .jsonl export'))
    .option('--since <time>', 'backfill: start, ISO 8601')
    .option('--until <time>', 'backfill: end, ISO 8601 (default: now minus each feed\'s lag)')
    .option('--platform <name>', `import with "all": the source the file came from (${names.join(', ')})`)
    .option('--feed <name>', 'import: the feed the file holds, an event feed or an importable inventory (default: the source\'s audit feed)')
    .addHelpText('after', USAGE_EXAMPLES)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: out, outputError: () => undefined })
    .action((platform: string, mode: string, file: string | undefined, options: Record<string, string | undefined>) => {
      parsed = { platform, mode, file, options };
    });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError && (err.code === 'commander.helpDisplayed' || err.code === 'commander.help')) return 'help';
    throw usage(err instanceof Error ? err.message : String(err));
  }
  if (!parsed) throw usage('nothing to do');
  const platforms = parsed.platform;
  const { since, until, platform, feed } = parsed.options;

  if (parsed.mode === 'poll') return { mode: 'poll', platforms };
  if (parsed.mode === 'backfill') {
    if (!since) throw usage('backfill needs --since <ISO time>');
    const sinceMs = isoTime(since, '--since');
    const untilMs = until ? isoTime(until, '--until') : null;
    if (untilMs !== null && untilMs <= sinceMs) throw usage('--until must be after --since');
    return { mode: 'backfill', platforms, since: sinceMs, until: untilMs };
  }
  if (!parsed.file) throw usage('import needs a file');
  const chosen = platform ?? (platforms === 'all' ? undefined : platforms);
  if (!chosen) throw usage('import with "all" needs --platform');
  if (!names.includes(chosen)) throw usage(`--platform must be one of ${names.join(', ')}`);
  if (platforms !== 'all' && platform && platform !== platforms) throw usage(`--platform ${platform} contradicts ${platforms}`);
  return { mode: 'import', platform: chosen, feed: feed ?? null, file: parsed.file };
}

/** The one reading of typed times: zone-less text is UTC, as in `tether query`, whatever the host's zone. */
function isoTime(value: string, flag: string): number {
  const parsed = parseInstant(value);
  if (!parsed.ok) throw usage(`${flag}: ${parsed.reason}`);
  return parsed.ms;
}

function usage(message: string) {
  return tetherError('TETHER_CONFIG_INVALID', `usage: ${message.replace(/^error: /, '')}`);
}
