// `npm run query -- <command>`: the same queries as the HTTP API, for a
// terminal. Data goes to stdout (or --out), logs to stderr; a failed command
// exits non-zero with its message. Nothing from the data reaches a terminal
// as a raw control character (terminal.ts); CSV and trail exports, which
// cannot be escaped without changing them, are refused on a terminal.
import { once } from 'node:events';
import { createWriteStream, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { Command, Option } from 'commander';
import { tetherError } from '#errors';
import { FINDING_SEVERITIES } from '#schemas';
import type { QueryApp } from './app.ts';
import { parseManifest } from './chain.ts';
import { CONNECTOR_COLUMNS, CONNECTOR_STATES, SANCTIONED_FILTERS } from './connectors.ts';
import { EXPORT_FORMATS } from './export-format.ts';
import { FINDING_COLUMNS } from './findings.ts';
import { describeParams } from './hunts.ts';
import { ORPHAN_COLUMNS } from './orphans.ts';
import { OUTPUT_FORMATS, renderRows, type OutputFormat } from './output.ts';
import { parseConnectorParams, parseFindingParams, parseOrphanParams, parseTrailParams, type RawParams } from './params.ts';
import { writeOut } from './terminal.ts';
import { verifyExport } from './trail.ts';

/** `isTTY` as process.stdout and stderr set it: true on a terminal. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The command tree. `app` is made on first use so `verify` and `--help`
 * work without ClickHouse settings; `serve` gets its own runner.
 */
export function buildCli(getApp: () => QueryApp, io: CliIo, serve: () => Promise<void>): Command {
  const program = new Command('query')
    .description('Tether query layer: attributed trails, connector and orphan reports, saved hunts')
    .configureOutput({ writeOut: (s) => void writeOut(io.stdout, s), writeErr: (s) => void writeOut(io.stderr, s) })
    .exitOverride();
  const out = (text: string) => void writeOut(io.stdout, text);
  const formatOption = () => new Option('--format <format>', 'output format').choices(OUTPUT_FORMATS).default('table');
  // Reports and hunts: CSV cannot be escaped for a terminal and stay CSV; the other formats can.
  const report = async (format: OutputFormat, text: () => Promise<string>): Promise<void> => {
    if (format === 'csv' && io.stdout.isTTY) {
      throw tetherError('TETHER_QUERY_BIND', 'CSV is not written to a terminal: a cell can hold terminal escape codes, which CSV cannot show escaped without changing the value. Redirect stdout to a file, or use --format table, json or ndjson');
    }
    out(await text());
  };

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
      if (!opts.out && io.stdout.isTTY) {
        throw tetherError('TETHER_QUERY_BIND', `a trail export is not written to a terminal: its values are written as they are (a user agent or name can hold terminal escape codes) and the file is what verify checks. Give --out <file>, or redirect stdout`);
      }
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
        writeOut(io.stderr, `${manifest.row_count} rows; final digest ${manifest.final_digest}; manifest ${manifestPath}\n`);
      } else {
        writeOut(io.stderr, manifestText);
      }
    });

  program
    .command('verify')
    .description('recompute a trail export\'s hash chain against its manifest; names the first modified row')
    .argument('<file>', 'the exported trail')
    .option('--manifest <file>', 'its manifest (default: <file>.manifest.json)')
    .action((file: string, opts: { manifest?: string }) => {
      const manifest = parseManifest(readFileSync(opts.manifest ?? `${file}.manifest.json`, 'utf8'));
      // Bytes, not text: invalid UTF-8 or a byte order mark is refused rather than decoded away.
      const result = verifyExport(readFileSync(file), manifest);
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
    .action((opts: Record<string, string | undefined>) =>
      report(opts.format as OutputFormat, async () => {
        const rows = await getApp().connectors(parseConnectorParams(pick(opts, ['provider', 'classification', 'state', 'sanctioned'])));
        return renderRows(opts.format as OutputFormat, rows, CONNECTOR_COLUMNS);
      }),
    );

  program
    .command('orphans')
    .description('live keys, service accounts and connectors whose owner is inactive now, with their use after the owner left')
    .option('--kind <kind>', 'only this kind (api_key, service_account, connector, ...)')
    .option('--platform <platform>', 'only this platform or provider')
    .option('--min-uses-after-left <n>', 'only those used at least n times since the owner left')
    .addOption(formatOption())
    .action((opts: Record<string, string | undefined>) =>
      report(opts.format as OutputFormat, async () => {
        const raw = { ...pick(opts, ['kind', 'platform']), ...(opts.minUsesAfterLeft ? { min_uses_after_left: opts.minUsesAfterLeft } : {}) };
        return renderRows(opts.format as OutputFormat, await getApp().orphans(parseOrphanParams(raw)), ORPHAN_COLUMNS);
      }),
    );

  program
    .command('findings')
    .description('findings of the detection rules (services/detect), newest first, each once')
    .option('--since <time>', 'findings whose last event is at or after this (ISO-8601 or epoch ms; default 7 days before --until)')
    .option('--until <time>', 'and before this (default now)')
    .option('--rule <id>', 'only this rule')
    .addOption(new Option('--severity <severity>', 'this severity and above').choices(FINDING_SEVERITIES).default('info'))
    .option('--person <id>', 'only findings attributed to this person id')
    .option('--limit <n>', 'most findings', '1000')
    .addOption(formatOption())
    .action((opts: Record<string, string | undefined>) =>
      report(opts.format as OutputFormat, async () => {
        const app = getApp();
        const filter = parseFindingParams(pick(opts, ['since', 'until', 'rule', 'severity', 'person', 'limit']), app.now());
        return renderRows(opts.format as OutputFormat, await app.findings(filter), FINDING_COLUMNS);
      }),
    );

  program
    .command('hunt')
    .description('run a saved SOC hunt (services/query/hunts/<name>.sql); see `hunts` for names and parameters')
    .argument('<name>', 'hunt name')
    .option('-p, --param <name=value>', 'a hunt parameter (repeat; repeat a name for a list)', collectParam, {})
    .addOption(formatOption())
    .action((name: string, opts: { param: Record<string, string | string[]>; format: OutputFormat }) =>
      report(opts.format, async () => renderRows(opts.format, (await getApp().hunt(name, opts.param)).rows)),
    );

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
  // No prototype: a parameter named __proto__ is a key like any other (and refused as unknown by the hunt).
  const next: Record<string, string | string[]> = Object.assign(Object.create(null) as Record<string, string | string[]>, previous);
  const before = Object.hasOwn(previous, name) ? previous[name] : undefined;
  next[name] = before === undefined ? v : [...(Array.isArray(before) ? before : [before]), v];
  return next;
}
