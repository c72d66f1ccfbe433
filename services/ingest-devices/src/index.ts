// tether devices import <fleet-hosts.json|.jsonl>: device inventory to tether.identity.devices.
import { Command } from 'commander';
import { z } from 'zod';
import { commonEnvShape, loadConfig } from '#config';
import { createLogger } from '#log';
import { connectPipeline } from '#service';
import { importFleetHosts } from './app.ts';

const config = loadConfig(z.object(commonEnvShape));
const log = createLogger({ service: 'ingest-devices', level: config.TETHER_LOG_LEVEL });

const program = new Command('ingest-devices').description('Device inventory imports onto tether.identity.devices');
program
  .command('import')
  .argument('<file>', 'Fleet GET /api/v1/fleet/hosts response(s): JSON or JSONL')
  .action(async (file: string) => {
    const pipeline = await connectPipeline(config, 'tether-ingest-devices', log);
    const producer = await pipeline.kafka.producer.producer();
    try {
      const summary = await importFleetHosts(file, { producer, codec: pipeline.codec, topics: pipeline.topics, log });
      process.stderr.write(`devices import: ${summary.items} hosts, ${summary.sent} versions produced, ${summary.dead} to the DLQ, ${summary.notes.length} findings\n`);
    } finally {
      await producer.close();
    }
  });

await program.parseAsync(process.argv);
