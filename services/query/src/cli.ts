// `npm run query -- <command>`: the same queries as the HTTP API, for a
// terminal. Data goes to stdout (or --out), logs to stderr; a failed command
// exits non-zero with its message.
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { tetherError } from '#errors';
import type { QueryApp } from './app.ts';
import type { Manifest } from './chain.ts';
import { CONNECTOR_COLUMNS, CONNECTOR_STATES, SANCTIONED_FILTERS } from './connectors.ts';
import { EXPORT_FORMATS } from './export-format.ts';
import { describeParams } from './hunts.ts';
import { ORPHAN_COLUMNS } from './orphans.ts';
import { OUTPUT_FORMATS, renderRows, type OutputFormat } from './output.ts';
import { parseConnectorParams, parseOrphanParams, parseTrailParams, type RawParams } from './params.ts';
import { verifyExport } from './trail.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * The command tree. `app` is made on first use so `verify` and `--help`
 * work without ClickHouse settings; `serve` gets its own runner.
 */
export function buildCli(getApp: () => QueryApp, io: CliIo, serve: () => Promise<void>): Command {
  const program = new Command('query')
    .description('Tether query layer: attributed trails, connector and orphan reports, saved hunts')
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .exitOverride();
  const out = (text: string) => void io.stdout.write(text);
  const formatOption = () => new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('table');

  program
    .command('trail')
    .description('export the attributed audit trail of a person, NHI or connector, with a hash-chained manifest')
    .option('--email <email>', 'a person by email (every person who held it)')
    .option('--person <id>', 'a person by Tether person id')
    .option('--nhi <id>', "a non-human identity ('<platform>:<kind>:<id>')")
    .option('--connector <id>', 'a connector id')
    .requiredOption('--from <time>', 'start (inclusive): ISO-8601 or epoch ms')
    .requiredOption('--to <time>', 'end (exclusive): ISO-8601 or epoch ms')
    .addOption(new Option('--format <format>', 'export format').choices(EXPORT_FORMATS).default('csv'))
    .option('--out <file>', 'write the export here (default: stdout)')
    .option('--manifest <file>', 'write the manifest here (default: <out>.manifest.json, or stderr)')
    .action(async (opts: Record<string, string | undefined>) => {
      const { request, format } = parseTrailParams(pick(opts, ['email', 'person', 'nhi', 'connector', 'from', 'to', 'format']));
      const file = opts.out ? createWriteStream(opts.out) : undefined;
      const target = file ?? io.stdout;
      const manifest = await getApp().trail(request, format, async (chunk) => {
        if (chunk && !target.write(chunk)) await once(target, 'drain');
      });
      if (file) await finished(file.end());
      const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
      const manifestPath = opts.manifest ?? (opts.out ? `${opts.out}.manifest.json` : undefined);
      if (manifestPath) {
        await writeFile(manifestPath, manifestText);
        io.stderr.write(`${manifest.row_count} rows; final digest ${manifest.final_digest}; manifest ${manifestPath}\n`);
      } else {
        io.stderr.write(manifestText);
      }
    });

  program
    .command('verify')
    .description('recompute a trail export\'s hash chain against its manifest; names the first modified row')
    .argument('<file>', 'the exported trail')
    .option('--manifest <file>', 'its manifest (default: <file>.manifest.json)')
    .action((file: string, opts: { manifest?: string }) => {
      const manifest = JSON.parse(readFileSync(opts.manifest ?? `${file}.manifest.json`, 'utf8')) as Manifest;
      const result = verifyExport(readFileSync(file, 'utf8'), manifest);
      if (result.ok) {
        out(`OK: ${result.rowCount} rows, final digest ${result.finalDigest}\n`);
      } else {
        out(`MODIFIED: ${result.message}\n`);
        process.exitCode = 1;
      }
    });

  program
    .command('connectors')
    .description('connector inventory: granting person, scopes, first/last use, revoked, AI/sanctioned classification')
    .option('--provider <provider>', 'only this provider (google, entra, okta, github, ...)')
    .addOption(new Option('--classification <class>', 'only this classification').choices(['ai_tool', 'other', 'unknown']))
    .addOption(new Option('--state <state>', 'granted or revoked grants').choices(CONNECTOR_STATES).default('all'))
    .addOption(new Option('--sanctioned <sanctioned>', 'allow-list status').choices(SANCTIONED_FILTERS).default('any'))
    .addOption(formatOption())
    .action(async (opts: Record<string, string | undefined>) => {
      const rows = await getApp().connectors(parseConnectorParams(pick(opts, ['provider', 'classification', 'state', 'sanctioned'])));
      out(renderRows(opts.format as OutputFormat, rows, CONNECTOR_COLUMNS));
    });

  program
    .command('orphans')
    .description('live keys, service accounts and connectors whose owner is inactive now, with their use after the owner left')
    .option('--kind <kind>', 'only this kind (api_key, service_account, connector, ...)')
    .option('--platform <platform>', 'only this platform or provider')
    .option('--min-uses-after-left <n>', 'only those used at least n times since the owner left')
    .addOption(formatOption())
    .action(async (opts: Record<string, string | undefined>) => {
      const raw = { ...pick(opts, ['kind', 'platform']), ...(opts.minUsesAfterLeft ? { min_uses_after_left: opts.minUsesAfterLeft } : {}) };
      out(renderRows(opts.format as OutputFormat, await getApp().orphans(parseOrphanParams(raw)), ORPHAN_COLUMNS));
    });

  program
    .command('hunt')
    .description('run a saved SOC hunt (services/query/hunts/<name>.sql); see `hunts` for names and parameters')
    .argument('<name>', 'hunt name')
    .option('-p, --param <name=value>', 'a hunt parameter (repeat; repeat a name for a list)', collectParam, {})
    .addOption(formatOption())
    .action(async (name: string, opts: { param: Record<string, string | string[]>; format: OutputFormat }) => {
      const result = await getApp().hunt(name, opts.param);
      out(renderRows(opts.format, result.rows));
    });

  program
    .command('hunts')
    .description('list the saved hunts and their parameters')
    .action(() => {
      for (const hunt of getApp().hunts.values()) out(`${hunt.name}\n  ${hunt.title}\n  params: ${describeParams(hunt)}\n`);
    });

  program.command('serve').description('start the HTTP API (needs TETHER_QUERY_API_TOKEN)').action(serve);
  return program;
}

function pick(opts: Record<string, string | undefined>, names: string[]): RawParams {
  const out: Record<string, string> = {};
  for (const name of names) if (opts[name] !== undefined) out[name] = opts[name]!;
  return out;
}

function collectParam(value: string, previous: Record<string, string | string[]>): Record<string, string | string[]> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw tetherError('TETHER_QUERY_BIND', `--param takes name=value, got ${JSON.stringify(value)}`);
  const name = value.slice(0, eq);
  const v = value.slice(eq + 1);
  const before = previous[name];
  return { ...previous, [name]: before === undefined ? v : [...(Array.isArray(before) ? before : [before]), v] };
}
