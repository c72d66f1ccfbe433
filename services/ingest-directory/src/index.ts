// tether directory import <file.csv>: HR / directory export to tether.identity.users.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { commonEnvShape, loadConfig } from '#config';
import { createLogger } from '#log';
import { connectPipeline } from '#service';
import { importDirectoryCsv } from './app.ts';

const config = loadConfig(z.object(commonEnvShape));
const log = createLogger({ service: 'ingest-directory', level: config.TETHER_LOG_LEVEL });

const program = new Command('ingest-directory').description('Directory and HR imports onto the identity topics');
program
  .command('import')
  .argument('<file>', 'CSV export (reference: email, external_id, status, source, updated_at, ...)')
  .action(async (file: string) => {
    const pipeline = await connectPipeline(config, 'tether-ingest-directory', log);
    const producer = await pipeline.kafka.producer.producer();
    try {
      const summary = await importDirectoryCsv(readFileSync(file), { producer, codec: pipeline.codec, topics: pipeline.topics, log });
      process.stderr.write(
        `directory import: ${summary.items} rows, ${summary.sent} versions produced, ${summary.dead} to the DLQ, ` +
          `${summary.notes.length} findings, ${summary.blankRows} blank rows skipped\n`,
      );
      if (summary.fileError) {
        process.stderr.write(`directory import: file refused: ${summary.fileError.message}\n`);
        process.exitCode = 1;
      }
    } finally {
      await producer.close();
    }
  });

await program.parseAsync(process.argv);
