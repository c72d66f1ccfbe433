// Pre-produces a bench's input as fast as the producer goes: a few sends in
// flight at once, each a batch of records, from one iterator.
import type { KafkaClient, ProduceRecord } from '#kafka';

/** Sends every record of `records` (batches of `batch`, `inFlight` at once); resolves with how many were sent. */
export async function produceAll(kafka: KafkaClient, records: Iterable<ProduceRecord>, batch = 5_000, inFlight = 4): Promise<number> {
  const producer = await kafka.producer();
  const iterator = records[Symbol.iterator]();
  let count = 0;
  const worker = async () => {
    for (;;) {
      const chunk: ProduceRecord[] = [];
      while (chunk.length < batch) {
        const r = iterator.next();
        if (r.done) break;
        chunk.push(r.value);
      }
      if (chunk.length === 0) return;
      count += chunk.length;
      await producer.send(chunk);
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    await producer.close();
  }
  return count;
}
