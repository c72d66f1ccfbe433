// Streaming verification of a trail export against its manifest: the file
// is read record by record (a line, or a CSV record whose quoted cells hold
// line ends), each record's values are chained and compared with the
// manifest's row hash, and its text is compared with what the exporter
// writes for those values. Memory stays bounded by the longest record (the
// manifest's row hashes aside), whatever the file's length.
//
// The first problem in file order is reported, naming its row (rows are
// numbered from 1 as a reviewer counts them); a row both edited and
// respelled is reported as edited. One line end after the exporter's last
// byte is tolerated (editors and `echo >>` add one).
import { tetherError } from '#errors';
import { checkManifestVersion, HashChain, headerModifiedMessage, type Manifest, type Row, type VerifyResult } from './chain.ts';
import { EXPORT_FORMATS, exportWriter, parseCsvRecord, rowFromJson, type ExportFormat } from './export-format.ts';

export interface Verifier {
  /** Feeds the next bytes of the file; returns a failure as soon as one is certain. */
  push(bytes: Uint8Array): VerifyResult | null;
  /** The file has ended: the verdict. */
  end(): VerifyResult;
}

const LF = 0x0a;
const BOM = [0xef, 0xbb, 0xbf];

export function createVerifier(manifest: Manifest): Verifier {
  checkManifestVersion(manifest);
  const format = manifest.format as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw tetherError('TETHER_TRAIL_VERIFY', `unknown export format ${JSON.stringify(manifest.format)}`);
  const columns = manifest.columns;
  const writer = exportWriter(format, columns);
  const chain = new HashChain(manifest, manifest.tether_trail_manifest, { keepHashes: false });
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  // The row hashes as 32 bytes each, and the few scalars needed later: the
  // manifest itself (its 64-character strings) is not held while reading.
  const hashBytes = rowHashBytes(manifest.row_hashes);
  const hashCount = manifest.row_hashes.length;
  const rowCount = manifest.row_count;
  const finalDigest = manifest.final_digest;

  let verdict: VerifyResult | null = chain.h0 === manifest.hash.h0
    ? null
    : { ok: false, reason: 'header_modified', firstBadRow: null, message: headerModifiedMessage(manifest.tether_trail_manifest) };
  let pending: Buffer[] = [];
  let firstBytes = true;
  let rows = 0;
  /** The phase: before the opening, in the rows, after the closing (json), after a tolerated extra line end. */
  let phase: 'opening' | 'rows' | 'closed' | 'extra' = 'opening';
  /** A CSV record whose quoted cell holds a line end, still open. */
  let csvRecord = '';
  /** JSON: the previous row line, waiting to learn whether it is the last. */
  let jsonHeld: string | null = null;

  const fail = (reason: 'not_canonical' | 'row_modified' | 'rows_added', row: number | null, message: string): VerifyResult =>
    (verdict = { ok: false, reason, firstBadRow: row, message });
  const notCanonical = (row: number, detail = ''): VerifyResult =>
    fail('not_canonical', row, `row ${row} holds the exported values but is not written as the exporter writes it${detail}`);

  /** One row's text as the file holds it (with its separators), and the row read from it. */
  function acceptRow(text: string, read: () => Row, expected: (row: Row) => string): VerifyResult | null {
    const number = rows + 1;
    let row: Row;
    try {
      row = read();
    } catch (err) {
      return fail('not_canonical', number, `row ${number} cannot be read as the exporter writes rows: ${(err as Error).message}`);
    }
    if (rows >= hashCount) {
      return fail('rows_added', hashCount + 1, `rows were added after the last exported row (row ${number} onwards)`);
    }
    if (chain.push(row) !== hashBytes.toString('hex', rows * 32, rows * 32 + 32)) {
      return fail('row_modified', number, `row ${number} differs from the row that was exported`);
    }
    rows++;
    if (expected(row) !== text) return notCanonical(number);
    return null;
  }

  function line(text: string, terminated: boolean): VerifyResult | null {
    const eol = terminated ? '\n' : '';
    // Something after the blank line that could have been the tolerated last line end.
    if (phase === 'extra') return format === 'json' ? endingMismatch() : notCanonical(rows + 1, ' (a blank line before it)');
    if (phase === 'closed') {
      // After the exporter's last byte only one empty line end is tolerated.
      if (text === '' && terminated) {
        phase = 'extra';
        return null;
      }
      return endingMismatch();
    }
    switch (format) {
      case 'ndjson': {
        if (phase === 'opening') phase = 'rows';
        if (text === '' && terminated) {
          // A blank line: the tolerated extra line end if nothing follows it (see end()).
          phase = 'extra';
          return null;
        }
        return acceptRow(text + eol, () => rowFromJson(parseJsonLine(text), columns, rows + 1), (row) => writer.row(row));
      }
      case 'csv': {
        if (phase === 'opening') {
          phase = 'rows';
          if (text + eol !== writer.begin()) {
            return fail('not_canonical', null, `the file does not open as the exporter writes it (header line; expected ${columns.map((c) => c.name).join(',')} with a CRLF line end)`);
          }
          return null;
        }
        csvRecord += text + eol;
        if (terminated && quoteCount(csvRecord) % 2 === 1) return null; // a quoted cell goes on over the line end
        const record = csvRecord;
        csvRecord = '';
        if (record === '\n' || record === '\r\n') {
          phase = 'extra';
          return null;
        }
        return acceptRow(record, () => parseCsvRecord(record.replace(/\r?\n$/, ''), columns, rows + 1), (row) => writer.row(row));
      }
      case 'json': {
        if (phase === 'opening') {
          phase = 'rows';
          if (text !== '[' || !terminated) return fail('not_canonical', null, 'the file does not open as the exporter writes it (first line, "[")');
          return null;
        }
        if (text === ']') {
          const held = flushJson(true);
          if (held) return held;
          phase = 'closed';
          if (!terminated) return endingMismatch();
          return null;
        }
        const held = flushJson(false);
        if (held) return held;
        if (!terminated) return notCanonical(rows + 1, ' (the file ends inside the rows)');
        jsonHeld = text;
        return null;
      }
    }
  }

  /** A held JSON row line: every row but the last ends in a comma. */
  function flushJson(last: boolean): VerifyResult | null {
    if (jsonHeld === null) return null;
    const text = jsonHeld;
    jsonHeld = null;
    const body = text.endsWith(',') ? text.slice(0, -1) : text;
    // writer.row gives the separator before the row ("\n" first, ",\n" after): the line holds the row and its comma.
    return acceptRow(text, () => rowFromJson(parseJsonLine(body), columns, rows + 1), (row) => `${writer.row(row).replace(/^,?\n/, '')}${last ? '' : ','}`);
  }

  function endingMismatch(): VerifyResult {
    return fail('not_canonical', null, 'the file does not end as the exporter writes it');
  }

  function decode(bytes: Buffer): string {
    try {
      return decoder.decode(bytes);
    } catch {
      throw tetherError('TETHER_TRAIL_VERIFY', `the file is not valid UTF-8 (row ${rows + 1} or near it): the exporter writes UTF-8`);
    }
  }

  function consume(chunk: Buffer, final: boolean): VerifyResult | null {
    let start = 0;
    for (;;) {
      const at = chunk.indexOf(LF, start);
      if (at === -1) break;
      const lineBytes = pending.length > 0 ? Buffer.concat([...pending, chunk.subarray(start, at)]) : chunk.subarray(start, at);
      pending = [];
      const result = line(decode(lineBytes), true);
      if (result) return result;
      start = at + 1;
    }
    if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
    if (final && pending.length > 0) {
      const rest = Buffer.concat(pending);
      pending = [];
      return line(decode(rest), false);
    }
    return null;
  }

  return {
    push(bytes) {
      if (verdict) return verdict;
      const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (firstBytes && chunk.length > 0) {
        firstBytes = false;
        if (BOM.every((b, i) => chunk[i] === b)) {
          throw tetherError('TETHER_TRAIL_VERIFY', 'the file starts with a byte order mark, which the exporter does not write (a tool re-saved it)');
        }
      }
      return consume(chunk, false);
    },
    end() {
      if (verdict) return verdict;
      const last = consume(Buffer.alloc(0), true);
      if (last) return last;
      if (format === 'csv' && csvRecord !== '') return notCanonical(rows + 1, ' (a quoted cell is not closed)');
      if (format === 'csv' && phase === 'opening') return fail('not_canonical', null, 'the file is empty: the exporter writes a header line');
      if (format === 'json' && phase !== 'closed' && phase !== 'extra') {
        const held = flushJson(true);
        if (held) return held;
        return endingMismatch();
      }
      if (rows < hashCount || rowCount > rows) {
        return { ok: false, reason: 'rows_missing', firstBadRow: rows + 1, message: `${Math.max(hashCount, rowCount) - rows} row(s) missing from the end` };
      }
      if (rows > rowCount) {
        return { ok: false, reason: 'rows_added', firstBadRow: rowCount + 1, message: `${rows - rowCount} row(s) added after the last exported row` };
      }
      if (chain.digest !== finalDigest) {
        return { ok: false, reason: 'digest_mismatch', firstBadRow: null, message: 'the rows match their hashes but not the final digest: the manifest was edited' };
      }
      return { ok: true, rowCount: rows, finalDigest: chain.digest };
    },
  };
}

/** Verifies a whole file held in memory (text or bytes). */
export function verifyBytes(file: string | Uint8Array, manifest: Manifest): VerifyResult {
  const verifier = createVerifier(manifest);
  return verifier.push(typeof file === 'string' ? Buffer.from(file, 'utf8') : file) ?? verifier.end();
}

/**
 * Verifies a file read as a stream of chunks (fs.createReadStream), stopping
 * at the first certain failure. Give a verifier rather than the manifest to
 * let the manifest go once it is read.
 */
export async function verifyStream(chunks: AsyncIterable<Uint8Array>, manifest: Manifest | Verifier): Promise<VerifyResult> {
  const verifier = 'push' in manifest ? manifest : createVerifier(manifest);
  for await (const chunk of chunks) {
    const failed = verifier.push(chunk);
    if (failed) return failed;
  }
  return verifier.end();
}

/** 64-hex-digit hashes as 32 bytes each; a hash that is not 64 hex digits matches no row. */
function rowHashBytes(hashes: readonly string[]): Buffer {
  const out = Buffer.alloc(hashes.length * 32);
  hashes.forEach((hash, i) => {
    if (/^[0-9a-f]{64}$/.test(hash)) out.write(hash, i * 32, 'hex');
    else out.fill(0xff, i * 32, i * 32 + 32);
  });
  return out;
}

function quoteCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n++;
  return n;
}

function parseJsonLine(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`not valid JSON (${(err as Error).message})`);
  }
}
