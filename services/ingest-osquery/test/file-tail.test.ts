import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNewLines, type FilePosition } from '../src/file-tail.ts';

function tempFile(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'tether-tail-')), 'osqueryd.results.log');
}

/** Reads until nothing is new, as the tailer does, returning every line as text. */
async function drain(file: string, from: FilePosition | null, maxBytes?: number): Promise<{ lines: string[]; position: FilePosition | null; events: string[] }> {
  const lines: string[] = [];
  const events: string[] = [];
  let position = from;
  for (;;) {
    const chunk = await readNewLines(file, position, maxBytes);
    if (chunk.event) events.push(chunk.event);
    position = chunk.position;
    if (chunk.lines.length === 0) return { lines, position, events };
    lines.push(...chunk.lines.map((l) => l.bytes.toString('utf8')));
  }
}

describe('tailing a results file', () => {
  it('hands on whole lines only: a line being written is read once its newline lands', async () => {
    const file = tempFile();
    writeFileSync(file, 'one\ntwo\nthr');
    const first = await drain(file, null);
    expect(first.lines).toEqual(['one', 'two']);
    appendFileSync(file, 'ee\r\nfour\n');
    const second = await drain(file, first.position);
    expect(second.lines).toEqual(['three', 'four']);
    expect((await drain(file, second.position)).lines).toEqual([]);
  });

  it('a restart from a saved position mid-file repeats nothing and loses nothing', async () => {
    const file = tempFile();
    writeFileSync(file, Array.from({ length: 100 }, (_, i) => `line-${i}`).join('\n') + '\n');
    // Small reads: the position after each chunk is what a checkpoint would hold.
    const chunk = await readNewLines(file, null, 64);
    const saved = JSON.parse(JSON.stringify(chunk.position)) as FilePosition;
    const rest = await drain(file, saved);
    expect([...chunk.lines.map((l) => l.bytes.toString()), ...rest.lines]).toEqual(Array.from({ length: 100 }, (_, i) => `line-${i}`));
  });

  it('after a rotation it finishes the rotated file, then reads the new one from its start', async () => {
    const file = tempFile();
    writeFileSync(file, 'a1\na2\n');
    const first = await drain(file, null);
    appendFileSync(file, 'a3\n'); // written before the rotation, not yet read
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'b1\nb2\n');
    const after = await drain(file, first.position);
    expect(after.lines).toEqual(['a3', 'b1', 'b2']);
    expect(after.events).toContain('rotated');
  });

  it('after copytruncate (shorter file, or the same length with other first bytes) it starts again from 0', async () => {
    const file = tempFile();
    writeFileSync(file, 'x1\nx2\nx3\n');
    const first = await drain(file, null);
    truncateSync(file, 0);
    writeFileSync(file, 'y1\n');
    const shorter = await drain(file, first.position);
    expect(shorter.lines).toEqual(['y1']);
    expect(shorter.events).toContain('truncated');

    // Truncated and refilled past the old offset before the tailer looked again.
    truncateSync(file, 0);
    writeFileSync(file, 'z1\nz2\nz3\nz4\n');
    const refilled = await drain(file, shorter.position);
    expect(refilled.lines).toEqual(['z1', 'z2', 'z3', 'z4']);
  });

  it('a file that does not exist yet is waited for, not an error', async () => {
    const file = tempFile();
    expect(await readNewLines(file, null)).toMatchObject({ lines: [], event: 'missing' });
    writeFileSync(file, 'late\n');
    expect((await drain(file, null)).lines).toEqual(['late']);
  });

  it('keeps bytes exactly as written, invalid UTF-8 included (the processor dead-letters it)', async () => {
    const file = tempFile();
    writeFileSync(file, Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
    const chunk = await readNewLines(file, null);
    expect(chunk.lines[0]!.bytes).toEqual(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
  });
});
