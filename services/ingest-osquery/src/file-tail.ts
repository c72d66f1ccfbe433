// Tails a file osquery's filesystem logger writes, from a checkpointed
// position: the file's identity (device and inode, plus a hash of its first
// bytes) and the byte offset after the last whole line delivered. A line is
// handed on only once its newline is written, so a restart mid-line reads
// the line again whole. Rotation (the path now names another file) first
// finishes the old file, found by its identity among its siblings
// (osqueryd.results.log.1…), then reads the new one from its start.
// Truncation in place (copytruncate: the file is shorter than the offset, or
// its first bytes changed) starts again from 0.
import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface FilePosition {
  path: string;
  dev: number;
  ino: number;
  offset: number;
  /** Bytes of the file's head hashed (up to HEAD_BYTES; fewer while the file is that short). */
  headLength: number;
  headHash: string;
}

export interface TailChunk {
  /** Whole lines, without their newline, with the position after each. */
  lines: { bytes: Buffer; position: FilePosition }[];
  /** Where reading goes on from; equal to the last line's position, or the start of a new file. */
  position: FilePosition | null;
  /** What happened to the file since the given position, for the log. */
  event: 'resumed' | 'started' | 'rotated' | 'truncated' | 'missing' | null;
}

const HEAD_BYTES = 1024;
const READ_BYTES = 1 << 20;
/** A line longer than this is not an osquery record: it is handed on cut, and the DLQ says so. */
export const MAX_LINE_BYTES = 16 << 20;

/**
 * Reads what is new in `file` after `from` (null: from the start), at most
 * about `maxBytes` of lines. Finishes a rotated-away file before the new one.
 */
export async function readNewLines(file: string, from: FilePosition | null, maxBytes = READ_BYTES): Promise<TailChunk> {
  const current = await identify(file);
  if (current === null) return { lines: [], position: from, event: 'missing' };
  if (from === null) return readFrom(file, await startOf(file, current), maxBytes, 'started');
  if (from.dev === current.dev && from.ino === current.ino) {
    if (current.size < from.offset || !(await sameHead(file, from))) return readFrom(file, await startOf(file, current), maxBytes, 'truncated');
    return readFrom(file, from, maxBytes, 'resumed');
  }
  // The path names another file: the one we were reading was rotated away (or deleted).
  const old = await findSibling(file, from);
  if (old !== null && (await identify(old))!.size > from.offset) {
    const chunk = await readFrom(old, { ...from, path: old }, maxBytes, 'resumed');
    if (chunk.lines.length > 0) return chunk;
  }
  return readFrom(file, await startOf(file, current), maxBytes, 'rotated');
}

async function readFrom(file: string, position: FilePosition, maxBytes: number, event: TailChunk['event']): Promise<TailChunk> {
  const handle = await open(file, 'r');
  try {
    const lines: TailChunk['lines'] = [];
    let offset = position.offset;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let head = position;
    while (offset - position.offset < maxBytes) {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, offset + pendingBytes);
      if (bytesRead === 0) break;
      let start = 0;
      for (let nl = buffer.indexOf(10, 0); nl !== -1 && nl < bytesRead; nl = buffer.indexOf(10, start)) {
        const piece = buffer.subarray(start, nl);
        const bytes = pendingBytes > 0 ? Buffer.concat([...pending, piece]) : Buffer.from(piece);
        offset += pendingBytes + (nl - start) + 1;
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        if (head.headLength < HEAD_BYTES && offset > head.headLength) head = await withHead(handle, head);
        lines.push({ bytes: stripCr(bytes), position: { ...head, path: file, offset } });
      }
      if (start < bytesRead) {
        pending.push(Buffer.from(buffer.subarray(start, bytesRead)));
        pendingBytes += bytesRead - start;
        if (pendingBytes > MAX_LINE_BYTES) {
          // A "line" with no newline this long is not osquery output; hand it on cut rather than hold it forever.
          const bytes = Buffer.concat(pending);
          offset += pendingBytes;
          pending = [];
          pendingBytes = 0;
          lines.push({ bytes, position: { ...head, path: file, offset } });
        }
      }
    }
    const last = lines.at(-1)?.position ?? { ...head, path: file };
    return { lines, position: last, event: lines.length > 0 || event !== 'resumed' ? event : null };
  } finally {
    await handle.close();
  }
}

function stripCr(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, bytes.length - 1) : bytes;
}

async function identify(file: string): Promise<{ dev: number; ino: number; size: number } | null> {
  try {
    const s = await stat(file);
    return s.isFile() ? { dev: s.dev, ino: s.ino, size: s.size } : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function startOf(file: string, id: { dev: number; ino: number }): Promise<FilePosition> {
  const handle = await open(file, 'r');
  try {
    return await withHead(handle, { path: file, dev: id.dev, ino: id.ino, offset: 0, headLength: 0, headHash: hash(Buffer.alloc(0)) });
  } finally {
    await handle.close();
  }
}

/** The position with its head hash taken over as many of the first HEAD_BYTES as the file has. */
async function withHead(handle: FileHandle, position: FilePosition): Promise<FilePosition> {
  const buffer = Buffer.alloc(HEAD_BYTES);
  const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
  return { ...position, headLength: bytesRead, headHash: hash(buffer.subarray(0, bytesRead)) };
}

async function sameHead(file: string, position: FilePosition): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(position.headLength);
    const { bytesRead } = await handle.read(buffer, 0, position.headLength, 0);
    return bytesRead === position.headLength && hash(buffer) === position.headHash;
  } finally {
    await handle.close();
  }
}

/** The file beside `file` (its rotated names) that is the one `position` was in. */
async function findSibling(file: string, position: FilePosition): Promise<string | null> {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    const candidate = path.join(dir, name);
    const id = await identify(candidate);
    if (id && id.dev === position.dev && id.ino === position.ino) return candidate;
  }
  return null;
}

function hash(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
