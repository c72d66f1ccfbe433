// The views and the owner hunt on identity histories that once fooled them:
// a reused email, an event re-attributed after late identity data, a key
// whose owner chain and identity data name different people, and versions
// dated ahead of now. The same rows go to the real 18.16 server (a database
// of this file's own, migrated by the #clickhouse runner, rows inserted as
// the sink writes them) and to a current engine (chdb, through
// infra/chdb/run_sql.py); both must give the expected rows.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  accessEventRow, connectorVersionRow, createClickHouse, migrate, MIGRATIONS_DIR, nhiVersionRow, personVersionRow, TABLES,
  type ClickHouse,
} from '#clickhouse';
import { createLogger } from '#log';
import { testConfig, uniqueName } from '#testkit';
import { bindHunt, loadHunts } from '../src/hunts.ts';
import { connector, enriched, link, nhi, person, personAt, t } from './fixtures.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const PYTHON = path.join(ROOT, '.tether/venv/bin/python');
const RUN_SQL = path.join(ROOT, 'infra/chdb/run_sql.py');

const DAY = 86_400_000;
const NOW_MS = Math.floor(Date.now() / 1000) * 1000;
const ago = (days: number) => new Date(NOW_MS - days * DAY).toISOString();
const ahead = (days: number) => new Date(NOW_MS + days * DAY).toISOString();
const ms = (iso: string) => String(t(iso));

// ------------------------------------------------------------ the world ---

/** sam@ passes from sam-a (left 2024-06-30, her record edited since) to sam-b (dated 2025-01-15); pat@ is claimed twice; lee renamed. */
const REUSED = {
  persons: [
    person('hr:sam-a', '2024-01-01T00:00:00Z', { email: 'sam@reuse.test' }),
    person('hr:sam-a', '2024-06-30T00:00:00Z', { email: 'sam@reuse.test', active: false }),
    // HR touches the leaver's row: still sam@, still inactive.
    person('hr:sam-a', '2025-03-01T00:00:00Z', { email: 'sam@reuse.test', active: false, title: 'Former' }),
    person('hr:sam-b', '2025-01-15T00:00:00Z', { email: 'sam@reuse.test' }),
    person('hr:pat-incumbent', '2024-01-01T00:00:00Z', { email: 'pat@reuse.test' }),
    // A duplicate import claims a live address: the incumbent keeps it.
    person('hr:pat-duplicate', '2024-06-01T00:00:00Z', { email: 'Pat@Reuse.test' }),
    person('hr:lee', '2024-01-01T00:00:00Z', { email: 'lee@reuse.test' }),
    person('hr:lee', '2024-05-01T00:00:00Z', { email: 'lee.new@reuse.test' }),
  ],
  nhis: [
    nhi('openai:api_key:key_sam_a', '2024-03-01T00:00:00Z', { owner_email: 'sam@reuse.test' }),
    // Created after sam-a left, before sam-b's directory record is dated.
    nhi('openai:api_key:key_sam_b_early', '2024-11-01T00:00:00Z', { owner_email: 'sam@reuse.test' }),
    nhi('openai:api_key:key_sam_b', '2025-05-01T00:00:00Z', { owner_email: 'SAM@reuse.test' }),
    nhi('openai:api_key:key_pat', '2024-09-01T00:00:00Z', { owner_email: 'pat@reuse.test' }),
    // Under lee's old address, after the rename.
    nhi('openai:api_key:key_lee', '2024-08-01T00:00:00Z', { owner_email: 'lee@reuse.test' }),
  ],
  connectors: [
    connector('google:gemini-client:sam@reuse.test', '2025-06-01T00:00:00Z', { granted_by_email: 'sam@reuse.test', app_name: 'Gemini', ai_classification: 'ai_tool' }),
  ],
};

/** ev-late was unresolved, then re-enriched to rio once late identity data named the key's owner; ev-rio is delivered twice. */
const RIO = personAt('hr:rio', 'rio@reattr.test', 'active', '2025-01-01T00:00:00Z');
const REATTRIBUTED = {
  first: [
    enriched({ id: 'ev-late', at: '2025-07-01T10:00:00Z', action: 'files.list', cls: [6003, 2], actor: { kind: 'api_key', api_key_id: 'key_late', email: null }, chain: [link('api_key', 'openai:api_key:key_late')] }),
    enriched({ id: 'ev-rio', at: '2025-07-01T11:00:00Z', action: 'models.list', cls: [6003, 2], person: RIO }),
  ],
  later: [
    enriched({
      id: 'ev-late', at: '2025-07-01T10:00:00Z', action: 'files.list', cls: [6003, 2], actor: { kind: 'api_key', api_key_id: 'key_late', email: null },
      person: RIO, method: 'api_key_owner', chain: [link('api_key', 'openai:api_key:key_late'), link('person', 'hr:rio')], enrichedAt: '2025-07-02T00:00:00Z',
    }),
    enriched({ id: 'ev-rio', at: '2025-07-01T11:00:00Z', action: 'models.list', cls: [6003, 2], person: RIO }),
  ],
};

/**
 * xan left on 2025-02-01; by identity data both keys are his. The chain
 * enrichment built for key_handover names yve instead (the records at the
 * event's time said so): its findings must be about yve.
 */
const XAN_LEFT = '2025-02-01T00:00:00Z';
const keyUse = (id: string, at: string, key: string, owner?: [string, string]) => enriched({
  id, at, action: 'files.list', cls: [6003, 2], actor: { kind: 'api_key', api_key_id: key, email: null }, method: 'api_key_owner',
  chain: [link('api_key', `openai:api_key:${key}`), ...(owner ? [link('person', owner[0], owner[1])] : [])],
});
const HANDOVER = {
  persons: [
    person('hr:xan', '2024-01-01T00:00:00Z', { email: 'xan@handover.test' }),
    person('hr:xan', XAN_LEFT, { email: 'xan@handover.test', active: false }),
    person('hr:yve', '2024-01-01T00:00:00Z', { email: 'yve@handover.test' }),
  ],
  nhis: [
    nhi('openai:api_key:key_handover', '2025-01-05T00:00:00Z', { owner_email: 'xan@handover.test' }),
    nhi('openai:api_key:key_xan', '2025-01-06T00:00:00Z', { owner_email: 'xan@handover.test' }),
  ],
  events: [
    keyUse('ev-h1', '2025-03-02T00:00:00Z', 'key_handover', ['hr:yve', 'active']),
    keyUse('ev-h2', '2025-03-03T00:00:00Z', 'key_handover', ['hr:yve', 'suspended']),
    keyUse('ev-h3', '2025-03-04T00:00:00Z', 'key_xan'),
    keyUse('ev-h4', '2025-03-05T00:00:00Z', 'key_xan', ['hr:xan', 'inactive']),
  ],
};

/** Versions dated ahead: cai left 90 days ago, rehire in 30 days; gus leaves in 20 days; ivy starts in 10. */
const AHEAD = {
  persons: [
    person('hr:cai', ago(400), { email: 'cai@ahead.test' }),
    person('hr:cai', ago(90), { email: 'cai@ahead.test', active: false }),
    person('hr:cai', ahead(30), { email: 'cai@ahead.test' }),
    person('hr:gus', ago(400), { email: 'gus@ahead.test' }),
    person('hr:gus', ahead(20), { email: 'gus@ahead.test', active: false }),
    person('hr:ivy', ahead(10), { email: 'ivy@ahead.test' }),
  ],
  nhis: [
    nhi('openai:api_key:key_cai', ago(300), { owner_email: 'cai@ahead.test' }),
    nhi('openai:api_key:key_gus', ago(300), { owner_email: 'gus@ahead.test' }),
  ],
};

/** Several inserts, so copies of one row sit in different parts until FINAL merges them. */
const INSERTS: Array<[string, object[]]> = [
  [TABLES.personsHistory, [...REUSED.persons, ...HANDOVER.persons].map(personVersionRow)],
  [TABLES.personsHistory, AHEAD.persons.map(personVersionRow)],
  [TABLES.nhiHistory, [...REUSED.nhis, ...HANDOVER.nhis, ...AHEAD.nhis].map(nhiVersionRow)],
  [TABLES.connectorsHistory, REUSED.connectors.map(connectorVersionRow)],
  [TABLES.accessEvents, [...REATTRIBUTED.first, ...HANDOVER.events].map(accessEventRow)],
  [TABLES.accessEvents, REATTRIBUTED.later.map(accessEventRow)],
];

// ------------------------------------------------------------ the checks ---

interface Check {
  columns: string[];
  sql: string;
}

const select = (columns: string[], rest: string): Check => ({ columns, sql: `SELECT ${columns.join(', ')}\n${rest}` });
const inList = (ids: readonly string[]) => `(${ids.map((id) => `'${id}'`).join(', ')})`;
const REUSED_SUBJECTS = [...REUSED.nhis.map((n) => n.nhi_id), ...REUSED.connectors.map((c) => c.connector_id)];
const keysUsedAfterOwnerLeft = bindHunt(loadHunts().get('keys-used-after-owner-left')!, { since: '2025-03-01', until: '2025-04-01' }, new Date(NOW_MS));

const CHECKS = {
  nhiOwners: select(['nhi_id', 'owner_person_id'], `FROM nhi_owners WHERE nhi_id IN ${inList(REUSED.nhis.map((n) => n.nhi_id))} ORDER BY nhi_id`),
  connectorOwners: select(['connector_id', 'granting_person_id'], `FROM connector_owners WHERE connector_id IN ${inList(REUSED.connectors.map((c) => c.connector_id))}`),
  ownerBasis: select(['subject_kind', 'subject_id', 'owner_person_id', 'owner_basis'], `FROM owner_holders WHERE subject_id IN ${inList(REUSED_SUBJECTS)} ORDER BY subject_id`),
  reusedOrphans: select(['identity_id', 'owner_person_id', 'owner_left_at_ms'], `FROM orphan_candidates WHERE identity_id IN ${inList(REUSED_SUBJECTS)} ORDER BY identity_id`),
  dailyEvents: select(['person_key', 'toString(day) AS day', 'person_id', 'events', 'distinct_actions'],
    `FROM person_daily_events WHERE person_key IN ('hr:rio', 'openai:api_key:key_late') ORDER BY person_key, day`),
  keysUsedAfterOwnerLeft: select(['event_id', 'acting_id', 'owner_person_id', 'owner_state_at_event', 'owner_left_at_ms', 'finding'],
    `FROM (\n${keysUsedAfterOwnerLeft}\n) ORDER BY event_id`),
  personsLatest: select(['person_id', 'active', 'valid_from_ms'], `FROM persons_latest WHERE person_id IN ('hr:cai', 'hr:gus', 'hr:ivy') ORDER BY person_id`),
  departures: select(['person_id', 'active', 'left_at_ms'], `FROM person_departures WHERE person_id IN ('hr:cai', 'hr:gus', 'hr:ivy') ORDER BY person_id`),
  aheadOrphans: select(['identity_id', 'owner_person_id', 'owner_left_at_ms'], `FROM orphan_candidates WHERE identity_id IN ('openai:api_key:key_cai', 'openai:api_key:key_gus') ORDER BY identity_id`),
} satisfies Record<string, Check>;
type CheckName = keyof typeof CHECKS;
const CHECK_NAMES = Object.keys(CHECKS) as CheckName[];

type Row = Record<string, string | null>;

// ------------------------------------------------------ the two engines ---

const config = testConfig();
const server = { url: config.TETHER_CLICKHOUSE_URL, username: config.TETHER_CLICKHOUSE_USER, password: config.TETHER_CLICKHOUSE_PASSWORD };
const database = uniqueName('tether_views');
let ch: ClickHouse;
let dir: string | undefined;
const chdbRows = new Map<CheckName, Row[]>();

/** INSERT ... FORMAT JSONEachRow with its rows inline; the ';' alone on the last line ends it for run_sql. */
function insertStatement(table: string, rows: readonly object[]): string {
  return `INSERT INTO ${table} FORMAT JSONEachRow\n${rows.map((r) => JSON.stringify(r)).join('\n')}\n;\n`;
}

/** Runs migrations, the world and every check on chdb in one session; keeps each check's rows. */
async function runOnChdb(): Promise<void> {
  if (!existsSync(PYTHON) || !existsSync(RUN_SQL)) {
    throw new Error(`chdb is not installed (${PYTHON}, ${RUN_SQL}): run bash infra/local/stack.sh install`);
  }
  dir = mkdtempSync(path.join(tmpdir(), 'tether-views-chdb-'));
  writeFileSync(path.join(dir, '0000_database.sql'), `CREATE DATABASE ${database};\nUSE ${database};\n`);
  for (const file of readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).sort()) {
    writeFileSync(path.join(dir, `1${file}`), readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8'));
  }
  writeFileSync(path.join(dir, '8000_world.sql'), INSERTS.map(([table, rows]) => insertStatement(table, rows)).join(''));
  writeFileSync(path.join(dir, '9000_checks.sql'), CHECK_NAMES.map((name) => `${CHECKS[name].sql}\n;\n`).join(''));
  const { stdout } = await promisify(execFile)(PYTHON, [RUN_SQL, dir], { maxBuffer: 16 * 1024 * 1024 }).catch((err: { stderr?: string }) => {
    throw new Error(`run_sql failed on chdb:\n${err.stderr ?? ''}`);
  });
  // run_sql prints `ok <file>:<n>` per statement, then its TSV rows indented by four spaces.
  let current: CheckName | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('ok ')) {
      const match = /9000_checks\.sql:(\d+)$/.exec(line);
      current = match ? CHECK_NAMES[Number(match[1]) - 1] : undefined;
      if (current) chdbRows.set(current, []);
    } else if (line.startsWith('    ') && current) {
      const values = line.slice(4).split('\t');
      chdbRows.get(current)!.push(Object.fromEntries(CHECKS[current].columns.map((c, i) => [columnName(c), values[i] === '\\N' ? null : values[i]!])));
    }
  }
  expect([...chdbRows.keys()]).toEqual(CHECK_NAMES);
}

const columnName = (column: string) => / AS (\w+)$/.exec(column)?.[1] ?? column;

async function serverRows(name: CheckName): Promise<Row[]> {
  const rows = await ch.queryRows<Record<string, unknown>>(CHECKS[name].sql);
  return rows.map((row) => Object.fromEntries(CHECKS[name].columns.map(columnName).map((c) => [c, row[c] === null ? null : String(row[c])])));
}

/** The check's rows on 18.16 and on chdb, each expected to be `expected`. */
async function expectRows(name: CheckName, expected: Row[]): Promise<void> {
  expect(await serverRows(name), `${name} on 18.16`).toEqual(expected);
  expect(chdbRows.get(name), `${name} on chdb`).toEqual(expected);
}

beforeAll(async () => {
  await migrate({ clickhouse: server, database, log: createLogger({ service: 'test', level: 'warn' }) });
  ch = createClickHouse({ ...server, database });
  for (const [table, rows] of INSERTS) await ch.insertRows(table, rows);
  await runOnChdb();
}, 240_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await ch?.command(`DROP DATABASE IF EXISTS ${database}`);
  await ch?.close();
});

// ------------------------------------------------------------ the cases ---

describe('a reused email names whoever held it when the key was created or the grant given', () => {
  it('skips a leaver whose inactive versions still carry the address', async () => {
    await expectRows('nhiOwners', [
      { nhi_id: 'openai:api_key:key_lee', owner_person_id: 'hr:lee' },
      { nhi_id: 'openai:api_key:key_pat', owner_person_id: 'hr:pat-incumbent' },
      { nhi_id: 'openai:api_key:key_sam_a', owner_person_id: 'hr:sam-a' },
      { nhi_id: 'openai:api_key:key_sam_b', owner_person_id: 'hr:sam-b' },
      { nhi_id: 'openai:api_key:key_sam_b_early', owner_person_id: 'hr:sam-b' },
    ]);
    await expectRows('connectorOwners', [{ connector_id: 'google:gemini-client:sam@reuse.test', granting_person_id: 'hr:sam-b' }]);
  });

  it('says on what basis each owner was chosen', async () => {
    await expectRows('ownerBasis', [
      { subject_kind: 'connector', subject_id: 'google:gemini-client:sam@reuse.test', owner_person_id: 'hr:sam-b', owner_basis: 'held_active' },
      { subject_kind: 'nhi', subject_id: 'openai:api_key:key_lee', owner_person_id: 'hr:lee', owner_basis: 'former' },
      { subject_kind: 'nhi', subject_id: 'openai:api_key:key_pat', owner_person_id: 'hr:pat-incumbent', owner_basis: 'held_active' },
      { subject_kind: 'nhi', subject_id: 'openai:api_key:key_sam_a', owner_person_id: 'hr:sam-a', owner_basis: 'held_active' },
      { subject_kind: 'nhi', subject_id: 'openai:api_key:key_sam_b', owner_person_id: 'hr:sam-b', owner_basis: 'held_active' },
      { subject_kind: 'nhi', subject_id: 'openai:api_key:key_sam_b_early', owner_person_id: 'hr:sam-b', owner_basis: 'active_after' },
    ]);
  });

  it('orphans only the leaver\'s own key, not the new holder\'s keys and grant', async () => {
    await expectRows('reusedOrphans', [{ identity_id: 'openai:api_key:key_sam_a', owner_person_id: 'hr:sam-a', owner_left_at_ms: ms('2024-06-30T00:00:00Z') }]);
  });
});

describe('person_daily_events', () => {
  it('counts a re-attributed event once, under its latest attribution', async () => {
    await expectRows('dailyEvents', [{ person_key: 'hr:rio', day: '2025-07-01', person_id: 'hr:rio', events: '2', distinct_actions: '2' }]);
  });
});

describe('keys used after their owner left', () => {
  it('names one person per finding, with that person\'s departure', async () => {
    await expectRows('keysUsedAfterOwnerLeft', [
      // ev-h1: the chain named yve, active; that xan left is no finding about yve.
      { event_id: 'ev-h2', acting_id: 'openai:api_key:key_handover', owner_person_id: 'hr:yve', owner_state_at_event: 'suspended', owner_left_at_ms: null, finding: 'owner inactive at the event (enrichment)' },
      { event_id: 'ev-h3', acting_id: 'openai:api_key:key_xan', owner_person_id: 'hr:xan', owner_state_at_event: '', owner_left_at_ms: ms(XAN_LEFT), finding: 'owner left before the event (identity data)' },
      { event_id: 'ev-h4', acting_id: 'openai:api_key:key_xan', owner_person_id: 'hr:xan', owner_state_at_event: 'inactive', owner_left_at_ms: ms(XAN_LEFT), finding: 'owner inactive at the event (enrichment)' },
    ]);
  });
});

describe('versions dated ahead of now', () => {
  it('do not count yet: a scheduled rehire leaves a leaver gone, a scheduled exit leaves a person here', async () => {
    await expectRows('personsLatest', [
      { person_id: 'hr:cai', active: '0', valid_from_ms: ms(ago(90)) },
      { person_id: 'hr:gus', active: '1', valid_from_ms: ms(ago(400)) },
      // Nothing valid yet: the first scheduled version, dated ahead.
      { person_id: 'hr:ivy', active: '1', valid_from_ms: ms(ahead(10)) },
    ]);
    await expectRows('departures', [
      { person_id: 'hr:cai', active: '0', left_at_ms: ms(ago(90)) },
      { person_id: 'hr:gus', active: '1', left_at_ms: null },
      { person_id: 'hr:ivy', active: '1', left_at_ms: null },
    ]);
  });

  it('orphan the leaver\'s key until the rehire starts, and not the key of someone still here', async () => {
    await expectRows('aheadOrphans', [{ identity_id: 'openai:api_key:key_cai', owner_person_id: 'hr:cai', owner_left_at_ms: ms(ago(90)) }]);
  });
});
