// Sends what a stage could not handle to tether.dlq with its reason and
// original bytes: nothing is dropped silently.
import { TetherError, errorMessage } from '#errors';
import type { Producer } from '#kafka';
import type { Codec, DeadLetter } from '#schemas';

/** A dead letter must itself fit in a Kafka record: originals beyond this keep their head. */
export const MAX_ORIGINAL_BYTES = 512 * 1024;

export type DeadLetterStage = 'receiving' | 'parsing' | 'normalising' | 'encoding' | 'enriching' | 'writing';

export interface DeadLetterInput {
  stage: DeadLetterStage;
  source: string;
  error: unknown;
  original: Buffer;
  topic?: string;
  partition?: number;
  offset?: bigint;
}

export interface DeadLetterWriter {
  /** Builds the record (secrets scrubbed from the message) without sending it. */
  build(input: DeadLetterInput): DeadLetter;
  send(inputs: readonly DeadLetterInput[]): Promise<void>;
}

export function deadLetterWriter(options: {
  service: string;
  dlqTopic: string;
  codec: Codec;
  producer: Producer;
  scrub?: (text: string) => string;
  now?: () => number;
}): DeadLetterWriter {
  const scrub = options.scrub ?? ((t: string) => t);
  const now = options.now ?? Date.now;
  const build = (input: DeadLetterInput): DeadLetter => ({
    stage: input.stage,
    service: options.service,
    source: input.source,
    reason_code: TetherError.is(input.error) ? input.error.code : 'TETHER_DECODE',
    message:
      scrub(errorMessage(input.error)).slice(0, 4_000) +
      (input.original.length > MAX_ORIGINAL_BYTES ? ` (original truncated to its first ${MAX_ORIGINAL_BYTES} of ${input.original.length} bytes)` : ''),
    original: input.original.length > MAX_ORIGINAL_BYTES ? input.original.subarray(0, MAX_ORIGINAL_BYTES) : input.original,
    original_topic: input.topic ?? null,
    original_partition: input.partition ?? null,
    original_offset: input.offset === undefined ? null : Number(input.offset),
    time: now(),
  });
  return {
    build,
    async send(inputs) {
      if (inputs.length === 0) return;
      await options.producer.send(
        inputs.map((input) => ({
          topic: options.dlqTopic,
          key: input.source,
          value: options.codec.encode('dlq', build(input)),
        })),
      );
    },
  };
}
