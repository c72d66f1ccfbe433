// `tether ingest <source> ...`: the AI platforms (services/ingest-ai) and
// the two identity importers, behind one word.
import { EXIT, type Main } from '#service';

const IMPORTERS: Record<string, () => Promise<{ main: Main }>> = {
  directory: () => import('../../../services/ingest-directory/src/index.ts'),
  devices: () => import('../../../services/ingest-devices/src/index.ts'),
  osquery: () => import('../../../services/ingest-osquery/src/index.ts'),
};

const HELP = `Usage: tether ingest <source> <mode> [options]

Read audit logs, inventories and identity exports onto Kafka.

Sources:
  openai | anthropic | cursor | all   audit logs and inventories: poll | backfill --since <time> | import <file>
  directory                           HR / directory CSV: import <file>
  devices                             Fleet host inventory: import <file>
  osquery                             osquery results: tail <file>… | serve (TLS logger) | consume (Kafka logger)

Examples:
  tether ingest all poll
  tether ingest openai backfill --since 2026-01-01T00:00:00Z
  tether ingest anthropic import activities.jsonl
  tether ingest directory import samples/directory/hr-history.csv
  tether ingest devices import samples/fleet/hosts-2026-03.json
  tether ingest osquery tail /var/log/osquery/osqueryd.results.log

Run "tether ingest <source> <mode> --help" for a mode's options.
`;

export async function main(argv: readonly string[]): Promise<number> {
  const [source, ...rest] = argv;
  if (source === undefined || source === '--help' || source === '-h' || source === 'help') {
    (source === undefined ? process.stderr : process.stdout).write(HELP);
    return source === undefined ? EXIT.usage : EXIT.ok;
  }
  const importer = IMPORTERS[source];
  if (importer) return (await importer()).main(rest);
  return (await import('../../../services/ingest-ai/src/index.ts')).main(argv);
}
