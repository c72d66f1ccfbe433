// `tether ingest devices import <fleet-hosts.json|.jsonl>`: device inventory
// to tether.identity.devices. --help has no side effects; a bad setting is
// one line and exit 2.
import { examples, runMain, runProgram, tetherCommand } from '#service';
import { withImportProducer } from '#service/pipeline';
import { importFleetHosts } from './app.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const program = tetherCommand('tether ingest devices').description('Device inventory imports onto tether.identity.devices');
  program
    .command('import')
    .description('import Fleet host inventory responses as device versions')
    .argument('<file>', 'Fleet GET /api/v1/fleet/hosts response(s): JSON or JSONL')
    .addHelpText('after', examples([
      'tether ingest devices import samples/fleet/hosts-2026-03.json',
      'tether ingest devices import hosts.jsonl      # one response per line',
    ]))
    .action(async (file: string) => {
      await withImportProducer('ingest-devices', async ({ pipeline, producer, log }) => {
        const summary = await importFleetHosts(file, { producer, codec: pipeline.codec, topics: pipeline.topics, log });
        process.stderr.write(`devices import: ${summary.items} hosts, ${summary.sent} versions produced, ${summary.dead} to the DLQ, ${summary.notes.length} findings\n`);
      });
    });
  program.addHelpText('after', examples(['tether ingest devices import samples/fleet/hosts-2026-03.json']));
  return runProgram(program, argv);
}

if (import.meta.main) runMain('ingest devices', main);
