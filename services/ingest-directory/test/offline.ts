// Offline stand-ins for the import's I/O: the real codec (real Avro
// validation) over a registry that only hands out ids, and a producer that
// records what it was given.
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { topicNames } from '#config';
import type { ProduceRecord, Producer } from '#kafka';
import { createLogger } from '#log';
import { createCodec, type Codec } from '#schemas';

export async function offlineCodec(): Promise<Codec> {
  let next = 1;
  const registry = { register: async () => ({ id: next++ }) } as unknown as SchemaRegistry;
  return createCodec({ registry, registryUrl: 'http://registry.invalid' });
}

export function recordingProducer(): Producer & { sent: ProduceRecord[] } {
  const sent: ProduceRecord[] = [];
  return {
    sent,
    async send(records) {
      sent.push(...records);
    },
    async close() {},
  };
}

export async function offlineDeps(log = createLogger({ service: 'test', level: 'silent' })) {
  const producer = recordingProducer();
  return { producer, codec: await offlineCodec(), topics: topicNames(''), log };
}
