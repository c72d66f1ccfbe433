// `tether tail <topic>`: decodes a Tether topic (Confluent wire format,
// schemas from the registry) and prints one JSON record per message, for a
// person at a terminal or a pipe into jq. It joins a group of its own, so it
// never takes partitions from a service.
import { randomBytes } from 'node:crypto';
import { Option } from 'commander';
import { z } from 'zod';
import { loadConfig, pipelineEnvShape, TOPICS, type TopicRole } from '#config';
import { tetherError } from '#errors';
import { createLogger } from '#log';
import { EXIT, examples, runProgram, tetherCommand } from '#service';
import { COMMAND_STARTUP_WAIT_MS, connectPipeline } from '#service/pipeline';

/** `access.enriched`, `tether.access.enriched`, `accessEnriched` or the prefixed name: the role. */
export function topicRole(name: string, prefix: string): TopicRole {
  const bare = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  for (const [role, topic] of Object.entries(TOPICS) as [TopicRole, string][]) {
    if (bare === topic || `tether.${bare}` === topic || bare === role) return role;
  }
  throw tetherError('TETHER_CONFIG_INVALID', `unknown topic ${JSON.stringify(name)}: one of ${Object.values(TOPICS).map((t) => t.replace(/^tether\./, '')).join(', ')}`);
}

/** JSON for a decoded value: bytes as base64 (or UTF-8 text when they are), 64-bit integers as numbers or strings. */
export function jsonValue(value: unknown, pretty: boolean): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      const bytes = Buffer.from((v as { data: number[] }).data);
      const text = bytes.toString('utf8');
      return Buffer.from(text, 'utf8').equals(bytes) && !/[\x00-\x08\x0e-\x1f]/.test(text) ? text : { base64: bytes.toString('base64') };
    }
    if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    return v;
  }, pretty ? 2 : undefined);
}

export async function main(argv: readonly string[]): Promise<number> {
  let chosen: { topic: string; opts: { fromBeginning?: boolean; follow: boolean; max?: string; output?: string } } | undefined;
  const program = tetherCommand('tether tail')
    .description('Decode and print the records of a Tether topic, one JSON object per record on stdout.')
    .argument('<topic>', 'access.raw, access.enriched, identity.users, identity.devices, identity.nhi, identity.connectors, dlq, ingest.checkpoints')
    .option('--from-beginning', 'start at the oldest record still on the topic (default: only new records)')
    .option('--no-follow', 'stop at the records on the topic now instead of waiting for more')
    .option('-n, --max <count>', 'stop after this many records')
    .addOption(new Option('-o, --output <format>', 'ndjson (one line per record) or json (indented)').choices(['ndjson', 'json']).default('ndjson'))
    .addHelpText('after', examples([
      'tether tail access.enriched                                  # new enriched events as they come',
      'tether tail access.enriched --from-beginning --no-follow | jq -c \'.value | {event: .event.event_id, person: .person.person_id}\'',
      'tether tail dlq --from-beginning -n 10 -o json               # the first ten dead letters',
    ]))
    .action((topic: string, opts: NonNullable<typeof chosen>['opts']) => void (chosen = { topic, opts }));
  const code = await runProgram(program, argv);
  if (!chosen) return code;
  const { topic, opts } = chosen;
  const max = opts.max === undefined ? Infinity : Number(opts.max);
  if (!Number.isSafeInteger(max) && max !== Infinity) throw tetherError('TETHER_CONFIG_INVALID', `--max ${opts.max}: a whole number of records`);

  const config = loadConfig(z.object(pipelineEnvShape));
  const role = topicRole(topic, config.TETHER_TOPIC_PREFIX);
  const log = createLogger({ service: 'tail', level: config.TETHER_LOG_LEVEL === 'info' ? 'warn' : config.TETHER_LOG_LEVEL });
  const pipeline = await connectPipeline(config, 'tether-tail', log, { defaultWaitMs: COMMAND_STARTUP_WAIT_MS });
  const name = pipeline.topics[role];

  // Without --follow: stop once every partition has reached the end it had at the start.
  const admin = await pipeline.kafka.admin.admin();
  const ends = new Map((await admin.topicOffsets(name)).map((p) => [p.partition, p]));
  await admin.close();
  const caughtUp = new Set([...ends.values()].filter((p) => p.high === p.low || (!opts.fromBeginning && !opts.follow)).map((p) => p.partition));
  if (!opts.follow && caughtUp.size === ends.size) return EXIT.ok;

  let printed = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const consumer = pipeline.kafka.consumer.consumer({ groupId: `tether-tail-${randomBytes(6).toString('hex')}`, maxWaitMs: 250 });
  let failure: unknown;
  await consumer.run({
    topics: [name],
    fromBeginning: opts.fromBeginning === true,
    onCrash: (err) => {
      failure = err;
      finish();
    },
    async eachBatch(batch) {
      for (const message of batch.messages) {
        if (printed >= max) break;
        let value: unknown = null;
        let error: string | undefined;
        if (message.value) {
          try {
            value = await pipeline.codec.decode(role, message.value);
          } catch (err) {
            error = (err as Error).message;
            value = { base64: message.value.toString('base64') };
          }
        }
        const record = {
          topic: message.topic, partition: message.partition, offset: Number(message.offset), timestamp: new Date(message.timestamp).toISOString(),
          key: message.key?.toString('utf8') ?? null, ...(error ? { decode_error: error } : {}), value,
        };
        if (!process.stdout.write(`${jsonValue(record, opts.output === 'json')}\n`)) await new Promise((r) => process.stdout.once('drain', r));
        printed++;
        const end = ends.get(message.partition);
        if (end && message.offset >= end.high - 1n) caughtUp.add(message.partition);
      }
      if (printed >= max || (!opts.follow && caughtUp.size === ends.size)) finish();
    },
  });
  const stop = () => finish();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await done;
  await consumer.stop();
  if (failure) throw failure;
  return EXIT.ok;
}
