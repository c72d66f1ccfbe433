// Offline stand-ins for unit tests: the real codec (real Avro validation)
// over a registry that only hands out ids, and a producer that records.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { topicNames } from '#config';
import type { ProduceRecord, Producer } from '#kafka';
import { createLogger, type Logger } from '#log';
import { createCodec, type Codec } from '#schemas';

export async function offlineCodec(): Promise<Codec> {
  let next = 1;
  const registry = { register: async () => ({ id: next++ }) } as unknown as SchemaRegistry;
  return createCodec({ registry, registryUrl: 'http://registry.invalid' });
}

export interface RecordingProducer extends Producer {
  sent: ProduceRecord[];
  /** Every call's records, in call order (to check what was sent together). */
  calls: ProduceRecord[][];
  /** Makes the next send reject. */
  failNext(err: Error): void;
}

export function recordingProducer(): RecordingProducer {
  const sent: ProduceRecord[] = [];
  const calls: ProduceRecord[][] = [];
  let failure: Error | undefined;
  return {
    sent,
    calls,
    failNext(err) {
      failure = err;
    },
    async send(records) {
      if (failure) {
        const err = failure;
        failure = undefined;
        throw err;
      }
      calls.push([...records]);
      sent.push(...records);
    },
    async close() {},
  };
}

/** What an importer's app needs to run without servers: a recording producer, the offline codec, unprefixed topics, a quiet log. */
export async function offlineDeps(log: Logger = createLogger({ service: 'test', level: 'silent' })) {
  const producer = recordingProducer();
  return { producer, codec: await offlineCodec(), topics: topicNames(''), log };
}
