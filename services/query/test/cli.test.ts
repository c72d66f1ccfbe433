// The CLI's terminal guard, over a stand-in QueryApp (the queries themselves
// run on ClickHouse in cli.int.test.ts): nothing from the data reaches a
// terminal as a raw control character, and exports meant as files are not
// written to one.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runProgram } from '#service';
import type { QueryApp } from '../src/app.ts';
import { buildManifest, chainHeader, HashChain, normaliseRow, type Column } from '../src/chain.ts';
import { buildCli } from '../src/cli.ts';
import { CONNECTOR_COLUMNS } from '../src/connectors.ts';
import { exportWriter } from '../src/export-format.ts';
import { renderRows } from '../src/output.ts';
import { terminalText } from '../src/terminal.ts';
import { trailQuery } from '../src/trail.ts';
import { hostileString, prng } from './hostile.ts';

/** What a hostile user agent or display name can carry: OSC 8 link, SGR, CSI (C1) erase, title set, BEL, CR. */
const ESCAPES = '\x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x1b[2K\r\u009b2J\x1b]0;pwned\x07 \x7f\u0085';
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** A row of `columns` with a plain value in each, then `values`. */
function rowOf(columns: readonly Column[], values: Record<string, unknown>): Record<string, unknown> {
  const plain = (c: Column) => (c.kind === 'strings' ? [] : c.kind === 'number' ? 1 : c.kind === 'bool' ? false : c.nullable ? null : 'x');
  return { ...Object.fromEntries(columns.map((c) => [c.name, plain(c)])), ...values };
}

const CONNECTOR_ROW = rowOf(CONNECTOR_COLUMNS, { connector_id: 'google:evil:bob@acme.test', app_name: ESCAPES, scopes: [ESCAPES] });

function stream(isTTY: boolean): PassThrough & { isTTY?: boolean; text(): string } {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean; text(): string };
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  if (isTTY) s.isTTY = true;
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

/** A QueryApp whose reports and trail give fixed rows holding ESCAPES; counts the calls. */
function stubApp(): QueryApp & { calls: string[] } {
  const calls: string[] = [];
  const app = {
    calls,
    connectors: async () => (calls.push('connectors'), [CONNECTOR_ROW]),
    orphans: async () => (calls.push('orphans'), []),
    hunt: async () => (calls.push('hunt'), { rows: [{ user_agent: ESCAPES, events: 1 }] }),
    async trail(request: Parameters<QueryApp['trail']>[0], format: Parameters<QueryApp['trail']>[1], write: (chunk: string) => void | Promise<void>) {
      calls.push('trail');
      const query = trailQuery(request);
      const row = normaliseRow(query.columns, rowOf(query.columns, { src_user_agent: ESCAPES }));
      const writer = exportWriter(format, query.columns);
      const chain = new HashChain(chainHeader(query.header, format, new Date('2026-02-02T00:00:00Z')));
      chain.push(row);
      await write(writer.begin() + writer.row(row) + writer.end());
      return buildManifest(query.header, chain, format, new Date('2026-02-02T00:00:00Z'));
    },
  };
  return app as unknown as QueryApp & { calls: string[] };
}

async function run(args: string[], tty: boolean): Promise<{ stdout: string; stderr: string; error: Error | null; app: ReturnType<typeof stubApp> }> {
  const app = stubApp();
  const io = { stdout: stream(tty), stderr: stream(tty) };
  const cli = buildCli(() => app, io, async () => undefined);
  let error: Error | null = null;
  try {
    await cli.parseAsync(['node', 'query', ...args]);
  } catch (err) {
    error = err as Error;
  }
  return { stdout: io.stdout.text(), stderr: io.stderr.text(), error, app };
}

const TRAIL = ['trail', '--person', 'okta:00u_dana', '--from', '2026-01-01', '--to', '2026-02-01'];
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
  process.exitCode = undefined;
});

describe('on a terminal', () => {
  it.each(['csv', 'json', 'ndjson'])('a %s trail export without --out is refused before any query', async (format) => {
    const { stdout, error, app } = await run([...TRAIL, '--format', format], true);
    expect(error?.message).toMatch(/not written to a terminal.*--out <file>/);
    expect(app.calls).toEqual([]);
    expect(stdout).toBe('');
  });

  it('a trail export with --out keeps the raw bytes in the file, and verify accepts it', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'tether-query-cli-'));
    const file = path.join(dir, 'dana.csv');
    const { stdout, stderr, error } = await run([...TRAIL, '--out', file], true);
    expect(error).toBeNull();
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^1 rows; final digest [0-9a-f]{64}; manifest /);
    expect(readFileSync(file, 'utf8')).toContain(`"${ESCAPES}"`);
    const verified = await run(['verify', file], true);
    expect(verified.stdout).toMatch(/^OK: 1 rows/);
  });

  it.each([['connectors'], ['orphans'], ['hunt', 'anything']])('%s --format csv is refused before any query', async (...command) => {
    const { error, app } = await run([...command, '--format', 'csv'], true);
    expect(error?.message).toMatch(/CSV is not written to a terminal/);
    expect(app.calls).toEqual([]);
  });

  it.each(['table', 'json', 'ndjson'])('a report as %s carries no raw control character', async (format) => {
    const { stdout, error } = await run(['connectors', '--format', format], true);
    expect(error).toBeNull();
    expect(stdout).toContain('google:evil:bob@acme.test');
    expect(stdout).not.toMatch(RAW_CONTROL);
    // JSON stays the same data: the escapes are JSON's own.
    if (format === 'json') expect(JSON.parse(stdout)).toEqual([CONNECTOR_ROW]);
    if (format === 'ndjson') expect(JSON.parse(stdout)).toEqual(CONNECTOR_ROW);
  });

  it('hunt rows as a table carry no raw control character', async () => {
    const { stdout } = await run(['hunt', 'anything'], true);
    expect(stdout).toContain('user_agent');
    expect(stdout).not.toMatch(RAW_CONTROL);
  });
});

describe('to a pipe or file', () => {
  it('CSV and the trail export are written as they are', async () => {
    const report = await run(['connectors', '--format', 'csv'], false);
    expect(report.stdout).toContain(`"${ESCAPES}"`);
    const trail = await run([...TRAIL, '--format', 'ndjson'], false);
    expect(trail.error).toBeNull();
    expect(JSON.parse(trail.stdout).src_user_agent).toBe(ESCAPES);
  });
});

describe('terminalText', () => {
  it('keeps tab and line feed, writes every other C0, DEL and C1 control as \\u00XX', () => {
    expect(terminalText('a\tb\nc\x1b[31m\r\x00\x7f\u0080\u009b\u009fd\u00a0é')).toBe('a\tb\nc\\u001b[31m\\u000d\\u0000\\u007f\\u0080\\u009b\\u009fd\u00a0é');
  });

  it('leaves JSON the same data', () => {
    const rand = prng(0x7e57);
    for (let n = 0; n < 2000; n++) {
      const value = { s: hostileString(rand) + String.fromCharCode(0x80 + Math.floor(rand() * 0x20)), a: [hostileString(rand)] };
      const shown = terminalText(JSON.stringify(value, null, 2));
      expect(shown).not.toMatch(RAW_CONTROL);
      expect(JSON.parse(shown)).toEqual(value);
    }
  });

  it('a table escapes C1 controls as well as C0', () => {
    const table = renderRows('table', [{ ua: '\u009b2J\x1b[31mred' }]);
    expect(table).not.toMatch(RAW_CONTROL);
    expect(table).toContain('\\x9b2J\\x1b[31mred');
  });
});

describe('trail exports to files', () => {
  const withDir = () => (dir = mkdtempSync(path.join(tmpdir(), 'tether-query-cli-')));

  it('refuses --out and --manifest naming one file, before any query', async () => {
    const file = path.join(withDir(), 'same.csv');
    const { error, app } = await run([...TRAIL, '--out', file, '--manifest', file], false);
    expect(error?.message).toMatch(/--out and --manifest name the same file/);
    expect(app.calls).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });

  it('refuses to overwrite an existing export or manifest without --force', async () => {
    const file = path.join(withDir(), 'dana.csv');
    expect((await run([...TRAIL, '--out', file], false)).error).toBeNull();
    const before = readFileSync(file);
    const again = await run([...TRAIL, '--out', file], false);
    expect(again.error?.message).toMatch(/--out .*dana\.csv exists: give --force/);
    expect(again.app.calls).toEqual([]);
    writeFileSync(file, 'edited');
    rmSync(`${file}.manifest.json`);
    writeFileSync(`${file}.manifest.json`, 'kept');
    const manifestOnly = await run([...TRAIL, '--out', path.join(dir!, 'other.csv'), '--manifest', `${file}.manifest.json`], false);
    expect(manifestOnly.error?.message).toMatch(/--manifest .* exists/);
    const forced = await run([...TRAIL, '--out', file, '--force'], false);
    expect(forced.error).toBeNull();
    expect(readFileSync(file)).toEqual(before);
  });

  it('a failed export leaves neither a partial export nor a manifest', async () => {
    const file = path.join(withDir(), 'failed.csv');
    const app = stubApp();
    app.trail = async (_request, _format, write) => {
      await write('event_id\r\n"e1"\r\n');
      throw new Error('ClickHouse went away mid-export');
    };
    const io = { stdout: stream(false), stderr: stream(false) };
    await expect(buildCli(() => app, io, async () => undefined).parseAsync(['node', 'query', ...TRAIL, '--out', file])).rejects.toThrow(/went away/);
    expect(readdirSync(dir!)).toEqual([]);
  });
});

describe('exit codes and outputs', () => {
  it('verify: 0 for the exported file, 1 modified (naming the row), 3 unreadable', async () => {
    const file = path.join((dir = mkdtempSync(path.join(tmpdir(), 'tether-query-cli-'))), 'dana.ndjson');
    expect((await run([...TRAIL, '-o', 'ndjson', '--out', file], false)).error).toBeNull();
    const code = async (args: string[]) => {
      const io = { stdout: stream(false), stderr: stream(false) };
      const result = await runProgram(buildCli(() => stubApp(), io, async () => undefined), args);
      return { result, stdout: io.stdout.text(), stderr: io.stderr.text() };
    };
    expect(await code(['verify', file])).toMatchObject({ result: 0, stdout: expect.stringMatching(/^OK: 1 rows/) });
    writeFileSync(file, readFileSync(file, 'utf8').replace('"event_id":"x"', '"event_id":"y"'));
    expect(await code(['verify', file])).toMatchObject({ result: 1, stdout: 'MODIFIED: row 1 differs from the row that was exported\n' });
    expect(await code(['verify', path.join(dir, 'missing.ndjson')])).toMatchObject({ result: 3, stdout: '', stderr: expect.stringMatching(/^UNREADABLE: /) });
    writeFileSync(`${file}.manifest.json`, '{"tether_trail_manifest": 3,');
    expect(await code(['verify', file])).toMatchObject({ result: 3, stderr: expect.stringMatching(/^UNREADABLE: the manifest is not valid JSON/) });
  });

  it('hunts -o json is JSON a tool can read; -o is the flag and --format its alias', async () => {
    const hunts = new Map([['h1', { name: 'h1', title: 'One', description: 'd', params: [{ name: 'since', type: 'DateTime' as const, default: 'now-7d' }], regexParams: new Set<string>(), sql: '' }]]);
    const io = { stdout: stream(false), stderr: stream(false) };
    expect(await runProgram(buildCli(() => stubApp(), io, async () => undefined, () => hunts), ['hunts', '-o', 'json'])).toBe(0);
    expect(JSON.parse(io.stdout.text())).toEqual([{ name: 'h1', title: 'One', description: 'd', params: [{ name: 'since', type: 'DateTime', default: 'now-7d' }], usage: 'since DateTime = now-7d' }]);
    const viaAlias = await run(['connectors', '--format', 'json'], false);
    const viaFlag = await run(['connectors', '-o', 'json'], false);
    expect(viaAlias.stdout).toBe(viaFlag.stdout);
  });
});
