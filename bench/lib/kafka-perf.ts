// Kafka's own ProducerPerformance (kafka-producer-perf-test) from the local
// stack's Kafka jars: the broker's raw produce rate on this machine, as an
// anchor for the benches. Undefined when the jars are not there.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProducerPerformance {
  recordsPerSecond: number;
  mbPerSecond: number;
}

export async function producerPerformance(options: {
  stackDir: string; brokers: readonly string[]; topic: string; records: number; recordSize: number;
}): Promise<ProducerPerformance | undefined> {
  const libs = path.join(options.stackDir, 'dist/kafka-3.9.1/libs');
  if (!existsSync(libs)) return undefined;
  const { stdout } = await run('java', [
    '-Xmx512m', '-cp', `${libs}/*`, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', options.topic, '--num-records', String(options.records), '--record-size', String(options.recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${options.brokers.join(',')}`, 'acks=all', 'linger.ms=5', 'batch.size=262144',
  ], { maxBuffer: 16 * 1024 * 1024 });
  // Last line: "N records sent, X records/sec (Y MB/sec), ..."
  const m = /([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/.exec(stdout.trim().split('\n').pop() ?? '');
  return m ? { recordsPerSecond: Number(m[1]), mbPerSecond: Number(m[2]) } : undefined;
}
