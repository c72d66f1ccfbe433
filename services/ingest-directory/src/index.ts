// `tether ingest directory import <file.csv>`: HR / directory export to
// tether.identity.users. --help has no side effects; a bad setting is one
// line and exit 2; a refused file exits 1.
import { readFileSync } from 'node:fs';
import { EXIT, examples, runMain, runProgram, setExitCode, tetherCommand } from '#service';
import { withImportProducer } from '#service/pipeline';
import { importDirectoryCsv } from './app.ts';

export async function main(argv: readonly string[]): Promise<number> {
  const program = tetherCommand('tether ingest directory').description('Directory and HR imports onto the identity topics');
  program
    .command('import')
    .description('import a directory CSV export as person versions (tether.identity.users)')
    .argument('<file>', 'CSV export (reference: email, external_id, status, source, updated_at, ...)')
    .addHelpText('after', examples([
      'tether ingest directory import samples/directory/hr-history.csv',
      'TETHER_TOPIC_PREFIX=staging. tether ingest directory import hr.csv',
    ]))
    .action(async (file: string, _opts: unknown, command: import('commander').Command) => {
      const bytes = readFileSync(file);
      await withImportProducer('ingest-directory', async ({ pipeline, producer, log }) => {
        const summary = await importDirectoryCsv(bytes, { producer, codec: pipeline.codec, topics: pipeline.topics, log });
        process.stderr.write(
          `directory import: ${summary.items} rows, ${summary.sent} versions produced, ${summary.dead} to the DLQ, ` +
            `${summary.notes.length} findings, ${summary.blankRows} blank rows skipped\n`,
        );
        if (summary.fileError) {
          process.stderr.write(`directory import: file refused: ${summary.fileError.message}\n`);
          setExitCode(command, EXIT.failure);
        }
      });
    });
  program.addHelpText('after', examples(['tether ingest directory import samples/directory/hr-history.csv']));
  return runProgram(program, argv);
}

if (import.meta.main) runMain('ingest directory', main);
