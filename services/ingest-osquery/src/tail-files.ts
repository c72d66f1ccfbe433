// The filesystem-logger transport: each results file is tailed from its
// checkpoint (position and the hosts' state together, so a restart resumes
// both from the same line), lines are processed, and each chunk is committed
// through the page sink: records and dead letters acknowledged first, the
// checkpoint after. A kill -9 repeats at most the last chunk, whose records
// carry the same keys again.
import path from 'node:path';
import type { Logger } from '#log';
import { sleep, type CheckpointStore, type PageSink, type ProcessedItem } from '#source';
import type { HostState } from './device-state.ts';
import { readNewLines, type FilePosition } from './file-tail.ts';
import { parseJsonBytes, processResult, restoreHosts, serialiseHosts, type ProcessorOptions } from './results-processor.ts';

export const SOURCE = 'osquery/filesystem';

interface TailCursor {
  position: FilePosition | null;
  hosts: Record<string, HostState>;
}

export interface TailDeps {
  sink: PageSink;
  checkpoints: CheckpointStore;
  log: Logger;
  options: () => ProcessorOptions;
  pollMs: number;
  chunkBytes?: number;
}

export function checkpointIdOf(file: string): string {
  return `osquery/file/${path.resolve(file)}`;
}

/** Reads what `file` has now, committing chunk by chunk; resolves when it is read to its current end. Returns the lines delivered. */
export async function drainFile(file: string, deps: TailDeps): Promise<number> {
  const id = checkpointIdOf(file);
  let delivered = 0;
  for (;;) {
    const saved = deps.checkpoints.get(id)?.cursor;
    const cursor: TailCursor = saved ? (JSON.parse(saved) as TailCursor) : { position: null, hosts: {} };
    const chunk = await readNewLines(file, cursor.position, deps.chunkBytes);
    if (chunk.event && chunk.event !== 'resumed') deps.log.info({ file, event: chunk.event }, 'results file');
    if (chunk.lines.length === 0) {
      // A rotation or truncation with nothing new yet still moves the position to the new file.
      if (chunk.position && JSON.stringify(chunk.position) !== JSON.stringify(cursor.position)) {
        await deps.checkpoints.save(id, JSON.stringify({ position: chunk.position, hosts: cursor.hosts }), 0);
      }
      return delivered;
    }
    const hosts = restoreHosts(cursor.hosts);
    const options = deps.options();
    const items: ProcessedItem[] = chunk.lines.map(({ bytes }) => {
      const parsed = parseJsonBytes(bytes);
      if (!parsed.ok) return { raw: bytes, result: { ok: false, stage: 'parsing', error: parsed.error } };
      return processResult(hosts, parsed.value, bytes, options);
    });
    await deps.sink.commit({ source: SOURCE, items, checkpoint: { id, cursor: JSON.stringify({ position: chunk.position, hosts: serialiseHosts(hosts) }) } });
    delivered += items.length;
  }
}

/** Tails every file until `signal` fires, polling for new lines every `pollMs`. */
export async function tailFiles(files: readonly string[], deps: TailDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    for (const file of files) {
      if (signal.aborted) break;
      await drainFile(file, deps);
    }
    await sleep(deps.pollMs, signal).catch(() => undefined);
  }
}
