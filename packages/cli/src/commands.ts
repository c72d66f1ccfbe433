// Every `tether` subcommand, in one table: its name, what it does, its next
// words (for completion), examples, and the module whose main(argv) runs it,
// imported only when the command runs, so `tether --help` and one command's
// --help load nothing of the others (no Kafka client for `tether query`).
// A new command is one entry here and one module exporting main(argv).
import type { Main } from '#service';

export interface CommandSpec {
  name: string;
  summary: string;
  /** Words that may follow the name (subcommands, sources), for completion and help. */
  next?: readonly string[];
  examples: readonly string[];
  /** Words put before the user's own (`tether serve` is `tether query serve`). */
  prefix?: readonly string[];
  load(): Promise<{ main: Main }>;
}

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'stack',
    summary: 'start, stop or show the local servers (Kafka, schema registry, ClickHouse) without Docker',
    next: ['up', 'down', 'status', 'install'],
    examples: ['tether stack up', 'tether stack status', 'tether stack down --purge'],
    load: () => import('./stack.ts'),
  },
  {
    name: 'migrate',
    summary: 'apply the ClickHouse migrations the database has not recorded yet',
    examples: ['tether migrate', 'tether migrate --status'],
    load: () => import('../../clickhouse/src/migrate-cli.ts'),
  },
  {
    name: 'ingest',
    summary: 'read audit logs, inventories and identity exports onto Kafka',
    next: ['openai', 'anthropic', 'cursor', 'all', 'directory', 'devices', 'osquery'],
    examples: [
      'tether ingest all poll',
      'tether ingest openai backfill --since 2026-01-01T00:00:00Z',
      'tether ingest directory import samples/directory/hr-history.csv',
      'tether ingest devices import samples/fleet/hosts-2026-03.json',
    ],
    load: () => import('./ingest.ts'),
  },
  {
    name: 'enrich',
    summary: 'attribute raw access events to person, device and owner chain as of their time',
    examples: ['tether enrich'],
    load: () => import('../../../services/enrich/src/index.ts'),
  },
  {
    name: 'sink',
    summary: 'write enriched events, identity history and dead letters into ClickHouse',
    examples: ['tether sink', 'TETHER_SINK_STREAMS=events tether sink'],
    load: () => import('../../../services/sink-clickhouse/src/index.ts'),
  },
  {
    name: 'query',
    summary: 'attributed trails, connector and orphan reports, saved hunts, trail verification',
    next: ['trail', 'connectors', 'orphans', 'hunt', 'hunts', 'verify', 'serve'],
    examples: ['tether query hunts -o json | jq .', 'tether query trail --email dana@example.com --from 2026-01-01 --to 2026-02-01 --out dana.csv'],
    load: () => import('../../../services/query/src/index.ts'),
  },
  {
    name: 'serve',
    summary: 'the query HTTP API (tether query serve)',
    examples: ['TETHER_QUERY_API_TOKEN=... tether serve'],
    prefix: ['serve'],
    load: () => import('../../../services/query/src/index.ts'),
  },
  {
    name: 'scim',
    summary: 'the SCIM 2.0 service provider IdPs push to; replay and bootstrap imports',
    next: ['serve', 'replay', 'bootstrap'],
    examples: ['TETHER_SCIM_TOKEN=... tether scim serve', 'tether scim replay okta-calls.jsonl', 'tether scim bootstrap users-export.json'],
    load: () => import('../../../services/scim/src/index.ts'),
  },
  {
    name: 'detect',
    summary: 'run the detection rules on the enriched stream, emitting findings',
    examples: ['tether detect'],
    prefix: ['run'],
    load: () => import('../../../services/detect/src/cli.ts'),
  },
  {
    name: 'rules',
    summary: 'test, lint or backtest the detection rules',
    next: ['test', 'lint', 'backtest'],
    examples: ['tether rules test', 'tether rules lint', 'tether rules backtest --since 2026-01-01'],
    prefix: ['rules'],
    load: () => import('../../../services/detect/src/cli.ts'),
  },
  {
    name: 'tail',
    summary: 'decode and print the records of a topic (tether.access.enriched, tether.dlq, ...)',
    next: ['access.raw', 'access.enriched', 'identity.users', 'identity.devices', 'identity.nhi', 'identity.connectors', 'dlq', 'ingest.checkpoints'],
    examples: ['tether tail access.enriched', 'tether tail dlq --from-beginning --no-follow | jq .value.reason_code'],
    load: () => import('./tail.ts'),
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
