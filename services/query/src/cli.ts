// `tether query <command>`: the same queries as the HTTP API, for a
// terminal. Data goes to stdout (or --out), logs and progress to stderr; a
// failed command exits non-zero with its message (exit codes: #service's
// EXIT). Nothing from the data reaches a terminal as a raw control character
// (terminal.ts); CSV and trail exports, which cannot be escaped without
// changing them, are refused on a terminal.
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { errorMessage, tetherError } from '#errors';
import { FINDING_SEVERITIES } from '#schemas';
import { EXIT, examples, setExitCode } from '#service';
import type { QueryApp } from './app.ts';
import { parseManifest, type Manifest } from './chain.ts';
import { CONNECTOR_COLUMNS, CONNECTOR_STATES, SANCTIONED_FILTERS } from './connectors.ts';
import { EXPORT_FORMATS, type ExportFormat } from './export-format.ts';
import { FINDING_COLUMNS } from './findings.ts';
import { describeParams } from './hunts.ts';
import { ORPHAN_COLUMNS } from './orphans.ts';
import { OUTPUT_FORMATS, renderRows, type OutputFormat } from './output.ts';
import { parseConnectorParams, parseFindingParams, parseOrphanParams, parseTrailParams, type RawParams } from './params.ts';
import { writeOut } from './terminal.ts';
import { createVerifier, verifyStream, type Verifier } from './verify.ts';

/** `isTTY` as process.stdout and stderr set it: true on a terminal. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The command tree. `app` is made on first use so `verify`, `hunts` and
 * `--help` work without ClickHouse settings (and never check them); `serve`
 * gets its own runner.
 */
export function buildCli(getApp: () => QueryApp, io: CliIo, serve: () => Promise<void>, hunts?: () => QueryApp['hunts']): Command {
  const program = new Command('tether query')
    .description('Tether query layer: attributed trails, connector and orphan reports, saved hunts')
    .configureOutput({ writeOut: (s) => void writeOut(io.stdout, s), writeErr: (s) => void writeOut(io.stderr, s) })
    .showHelpAfterError('(add --help for usage and examples)')
    .exitOverride()
    .addHelpText('after', examples([
      'tether query hunts -o json | jq \'.[].name\'',
      'tether query hunt ai-admin-actions-unmanaged-devices -p platforms=openai,anthropic -o ndjson',
      'tether query trail --email dana@example.com --from 2026-01-01 --to 2026-02-01 --out dana.csv',
      'tether query verify dana.csv',
    ]));
  const out = (text: string) => void writeOut(io.stdout, text);
  const savedHunts = hunts ?? (() => getApp().hunts);
  // -o/--output is the flag; --format stays as a hidden alias for scripts written before it.
  const outputOption = (choices: readonly string[], fallback: string) =>
    new Option('-o, --output <format>', `output format (default: ${fallback})`).choices(choices);
  const formatAlias = (choices: readonly string[]) => new Option('--format <format>').choices(choices).hideHelp();
  const outputOf = (opts: { output?: string; format?: string }, fallback: string) => (opts.output ?? opts.format ?? fallback);
  // Reports and hunts: CSV cannot be escaped for a terminal and stays CSV; the other formats can.
  const report = async (format: OutputFormat, text: () => Promise<string>): Promise<void> => {
    if (format === 'csv' && io.stdout.isTTY) {
      throw tetherError('TETHER_QUERY_BIND', 'CSV is not written to a terminal: a cell can hold terminal escape codes, which CSV cannot show escaped without changing the value. Redirect stdout to a file, or use -o table, json or ndjson');
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
    .addOption(outputOption(EXPORT_FORMATS, 'csv'))
    .addOption(formatAlias(EXPORT_FORMATS))
    .option('--out <file>', 'write the export here (default: stdout)')
    .option('--manifest <file>', 'write the manifest here (default: <out>.manifest.json, or stderr)')
    .option('--force', 'overwrite existing --out and --manifest files')
    .addHelpText('after', examples([
      'tether query trail --email dana@example.com --from 2026-01-01 --to 2026-02-01 --out dana.csv',
      'tether query trail --nhi openai:api_key:key_abc --from 2026-01-01 --to 2026-04-01 -o ndjson --out key.ndjson --manifest key.manifest.json',
      'tether query trail --person okta:00u_dana --from 2026-01-01 --to 2026-02-01 -o ndjson 2>manifest.json | jq -c .action',
    ]))
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const raw = pick(opts, ['email', 'person', 'nhi', 'connector', 'from', 'to']);
      const { request, format } = parseTrailParams({ ...raw, format: outputOf(opts as { output?: string }, 'csv') });
      const outFile = typeof opts.out === 'string' ? path.resolve(opts.out) : undefined;
      const manifestFile = typeof opts.manifest === 'string' ? path.resolve(opts.manifest) : outFile ? `${outFile}.manifest.json` : undefined;
      if (!outFile && io.stdout.isTTY) {
        throw tetherError('TETHER_QUERY_BIND', `a trail export is not written to a terminal: its values are written as they are (a user agent or name can hold terminal escape codes) and the file is what verify checks. Give --out <file>, or redirect stdout`);
      }
      checkTargets(outFile, manifestFile, opts.force === true);
      // Written beside the targets and renamed into place once complete: a failed export leaves no file.
      const partial = [outFile, manifestFile].filter((f): f is string => f !== undefined).map((f) => `${f}.partial-${process.pid}`);
      try {
        const file = outFile ? createWriteStream(partial[0]!, { flags: 'wx' }) : undefined;
        const target = file ?? io.stdout;
        let manifest: Manifest;
        try {
          manifest = await getApp().trail(request, format, async (chunk) => {
            if (chunk && !target.write(chunk)) await once(target, 'drain');
          });
        } finally {
          if (file) await finished(file.end());
        }
        const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
        if (manifestFile) {
          await writeFile(partial.at(-1)!, manifestText, { flag: 'wx' });
          if (outFile) renameSync(partial[0]!, outFile);
          renameSync(partial.at(-1)!, manifestFile);
          writeOut(io.stderr, `${manifest.row_count} rows; final digest ${manifest.final_digest}; manifest ${manifestFile}\n`);
        } else {
          writeOut(io.stderr, manifestText);
        }
      } finally {
        for (const f of partial) rmSync(f, { force: true });
      }
    });

  program
    .command('verify')
    .description('recompute a trail export\'s hash chain against its manifest, streaming; names the first modified row')
    .argument('<file>', 'the exported trail')
    .option('--manifest <file>', 'its manifest (default: <file>.manifest.json)')
    .addHelpText('after', `${examples([
      'tether query verify dana.csv                         # reads dana.csv.manifest.json',
      'tether query verify export.ndjson --manifest m.json',
    ])}
Exit codes: 0 the file is the exported file; 1 MODIFIED (the row is named); 3 the file or manifest cannot be read.
`)
    .action(async (file: string, opts: { manifest?: string }, command: Command) => {
      let verifier: Verifier;
      try {
        // Nothing keeps the parsed manifest but the verifier's compact copy of what it checks.
        verifier = createVerifier(parseManifest(readFileSync(opts.manifest ?? `${file}.manifest.json`, 'utf8')));
        if (!existsSync(file)) throw new Error(`${file} does not exist`);
      } catch (err) {
        writeOut(io.stderr, `UNREADABLE: ${errorMessage(err)}\n`);
        setExitCode(command, EXIT.unreadable);
        return;
      }
      let message: string;
      try {
        // Bytes, not text: invalid UTF-8 or a byte order mark is refused rather than decoded away.
        const result = await verifyStream(createReadStream(file, { highWaterMark: 256 * 1024 }), verifier);
        if (result.ok) {
          out(`OK: ${result.rowCount} rows, final digest ${result.finalDigest}\n`);
          return;
        }
        message = result.message;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
          writeOut(io.stderr, `UNREADABLE: ${errorMessage(err)}\n`);
          setExitCode(command, EXIT.unreadable);
          return;
        }
        // The file's bytes are not what the exporter writes (BOM, invalid UTF-8, a bad format).
        message = errorMessage(err);
      }
      out(`MODIFIED: ${message}\n`);
      setExitCode(command, EXIT.failure);
    });

  program
    .command('connectors')
    .description('connector inventory: granting person, scopes, first/last use, revoked, AI/sanctioned classification')
    .option('--provider <provider>', 'only this provider (google, entra, okta, github, ...)')
    .addOption(new Option('--classification <class>', 'only this classification').choices(['ai_tool', 'other', 'unknown']))
    .addOption(new Option('--state <state>', 'granted or revoked grants').choices(CONNECTOR_STATES).default('all'))
    .addOption(new Option('--sanctioned <sanctioned>', 'allow-list status').choices(SANCTIONED_FILTERS).default('any'))
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .addOption(formatAlias(OUTPUT_FORMATS))
    .addHelpText('after', examples([
      'tether query connectors --classification ai_tool --sanctioned no',
      'tether query connectors --state active -o json | jq \'.[] | {app_name, granting_person_name}\'',
    ]))
    .action((opts: Record<string, string | undefined>) => {
      const format = outputOf(opts, 'table') as OutputFormat;
      return report(format, async () => {
        const rows = await getApp().connectors(parseConnectorParams(pick(opts, ['provider', 'classification', 'state', 'sanctioned'])));
        return renderRows(format, rows, CONNECTOR_COLUMNS);
      });
    });

  program
    .command('orphans')
    .description('live keys, service accounts and connectors whose owner is inactive now, with their use after the owner left')
    .option('--kind <kind>', 'only this kind (api_key, service_account, connector, ...)')
    .option('--platform <platform>', 'only this platform or provider')
    .option('--min-uses-after-left <n>', 'only those used at least n times since the owner left')
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .addOption(formatAlias(OUTPUT_FORMATS))
    .addHelpText('after', examples([
      'tether query orphans --min-uses-after-left 1',
      'tether query orphans --kind api_key -o csv > orphaned-keys.csv',
    ]))
    .action((opts: Record<string, string | undefined>) => {
      const format = outputOf(opts, 'table') as OutputFormat;
      return report(format, async () => {
        const raw = { ...pick(opts, ['kind', 'platform']), ...(opts.minUsesAfterLeft ? { min_uses_after_left: opts.minUsesAfterLeft } : {}) };
        return renderRows(format, await getApp().orphans(parseOrphanParams(raw)), ORPHAN_COLUMNS);
      });
    });

  program
    .command('findings')
    .description('findings of the detection rules (services/detect), newest first, each once')
    .option('--since <time>', 'findings whose last event is at or after this (ISO-8601 or epoch ms; default 7 days before --until)')
    .option('--until <time>', 'and before this (default now)')
    .option('--rule <id>', 'only this rule')
    .addOption(new Option('--severity <severity>', 'this severity and above').choices(FINDING_SEVERITIES).default('info'))
    .option('--person <id>', 'only findings attributed to this person id')
    .option('--limit <n>', 'most findings', '1000')
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .addOption(formatAlias(OUTPUT_FORMATS))
    .addHelpText('after', examples(['tether query findings --since 2026-01-01 --severity high -o json | jq .']))
    .action((opts: Record<string, string | undefined>) => {
      const format = outputOf(opts, 'table') as OutputFormat;
      return report(format, async () => {
        const app = getApp();
        const filter = parseFindingParams(pick(opts, ['since', 'until', 'rule', 'severity', 'person', 'limit']), app.now());
        return renderRows(format, await app.findings(filter), FINDING_COLUMNS);
      });
    });

  program
    .command('hunt')
    .description('run a saved SOC hunt (services/query/hunts/<name>.sql); see `hunts` for names and parameters')
    .argument('<name>', 'hunt name')
    .option('-p, --param <name=value>', 'a hunt parameter (repeat it; a list is comma-separated or its name repeated)', collectParam, {})
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .addOption(formatAlias(OUTPUT_FORMATS))
    .addHelpText('after', examples([
      'tether query hunt keys-used-after-owner-left -p since=now-30d',
      'tether query hunt ai-admin-actions-unmanaged-devices -p platforms=openai,anthropic -o ndjson | jq -c .',
    ]))
    .action((name: string, opts: { param: Record<string, string | string[]>; output?: string; format?: string }) => {
      const format = outputOf(opts, 'table') as OutputFormat;
      return report(format, async () => renderRows(format, (await getApp().hunt(name, opts.param)).rows));
    });

  program
    .command('hunts')
    .description('list the saved hunts and their parameters')
    .addOption(outputOption(OUTPUT_FORMATS, 'table'))
    .addOption(formatAlias(OUTPUT_FORMATS))
    .addHelpText('after', examples(['tether query hunts', 'tether query hunts -o json | jq .']))
    .action((opts: { output?: string; format?: string }) => {
      const format = outputOf(opts, 'table') as OutputFormat;
      const list = [...savedHunts().values()];
      if (format === 'json' || format === 'ndjson') {
        const rows = list.map((h) => ({ name: h.name, title: h.title, description: h.description, params: h.params, usage: describeParams(h) }));
        return report(format, async () => (format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : rows.map((r) => `${JSON.stringify(r)}\n`).join('')));
      }
      return report(format, async () => renderRows(format, list.map((h) => ({ name: h.name, title: h.title, params: describeParams(h) }))));
    });

  program
    .command('serve')
    .description('start the HTTP API (needs TETHER_QUERY_API_TOKEN)')
    .addHelpText('after', examples([
      'TETHER_QUERY_API_TOKEN=$(openssl rand -hex 24) tether query serve',
      'curl -s -H "authorization: Bearer $TETHER_QUERY_API_TOKEN" 127.0.0.1:8420/v1/hunts | jq .',
      'curl -s 127.0.0.1:8420/ready                          # ClickHouse reachable and migrated',
    ]))
    .action(serve);
  return program;
}

/** Refuses --out and --manifest naming one file, and existing files without --force, before any query runs. */
function checkTargets(outFile: string | undefined, manifestFile: string | undefined, force: boolean): void {
  if (outFile && manifestFile && outFile === manifestFile) {
    throw usage(`--out and --manifest name the same file (${outFile}): the manifest would overwrite the export`);
  }
  if (force) return;
  for (const [flag, file] of [['--out', outFile], ['--manifest', manifestFile]] as const) {
    if (file && existsSync(file)) throw usage(`${flag} ${file} exists: give --force to overwrite it`);
  }
}

function usage(message: string): Error {
  return tetherError('TETHER_CONFIG_INVALID', message);
}

function pick(opts: Record<string, unknown>, names: string[]): RawParams {
  const out: Record<string, string> = {};
  for (const name of names) if (typeof opts[name] === 'string') out[name] = opts[name];
  return out;
}

function collectParam(value: string, previous: Record<string, string | string[]>): Record<string, string | string[]> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('it takes name=value');
  const name = value.slice(0, eq);
  const v = value.slice(eq + 1);
  // No prototype: a parameter named __proto__ is a key like any other (and refused as unknown by the hunt).
  const next: Record<string, string | string[]> = Object.assign(Object.create(null) as Record<string, string | string[]>, previous);
  const before = Object.hasOwn(previous, name) ? previous[name] : undefined;
  next[name] = before === undefined ? v : [...(Array.isArray(before) ? before : [before]), v];
  return next;
}
