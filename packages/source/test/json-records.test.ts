import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJsonDocument, readJsonRecords, splitJsonArray } from '../src/json-records.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tether-json-'));

async function readAll(file: string, batchSize = 2) {
  const batches = [];
  for await (const batch of readJsonRecords(file, { batchSize })) batches.push(batch);
  return batches;
}

describe('splitJsonArray', () => {
  it('returns each element exactly as written, strings with brackets and escapes included', () => {
    const text = ' [ {"a": "x]y,z", "b": [1, {"c": "\\"}"}]},\n  42 , "s,t" ,null,\n{ "d" : {} } ] ';
    expect(splitJsonArray(text)).toEqual(['{"a": "x]y,z", "b": [1, {"c": "\\"}"}]}', '42', '"s,t"', 'null', '{ "d" : {} }']);
    expect(splitJsonArray('[]')).toEqual([]);
  });

  it('gives up on text that is not one array', () => {
    expect(splitJsonArray('{"data": []}')).toBeNull();
    expect(splitJsonArray('[1] [2]')).toBeNull();
  });
});

describe('readJsonRecords', () => {
  it('JSONL: one record per line with the exact line as raw; a bad line is a parse error, not a stop', async () => {
    const file = path.join(dir, 'export.jsonl');
    const lines = ['{"id":"a","n":1}', '{not json', '', '{ "id" : "b" }'];
    writeFileSync(file, `${lines.join('\n')}\r\n`);
    const batches = await readAll(file);
    const records = batches.flat();
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(records.map((r) => r.raw.toString())).toEqual(['{"id":"a","n":1}', '{not json', '{ "id" : "b" }']);
    expect(records[0]!.value).toEqual({ id: 'a', n: 1 });
    expect(records[1]!.error).toMatchObject({ code: 'TETHER_SOURCE_PARSE' });
    expect(records[1]!.error!.message).toMatch(/line 2/);
  });

  it('a JSONL line or JSON array element that is not UTF-8 fails with its exact bytes, never decoded with U+FFFD; its neighbours are read', async () => {
    const bad = Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xc3]);
    const one = Buffer.concat([Buffer.from('{"id":"a","name":"'), bad, Buffer.from('"}')]);
    const two = Buffer.from('{"id":"b","name":"\\u202e\\ud800"}');
    const file = path.join(dir, 'bytes.jsonl');
    writeFileSync(file, Buffer.concat([one, Buffer.from('\r\n  \n'), two]));
    const records = (await readAll(file, 10)).flat();
    expect(records.map((r) => r.raw.toString('hex'))).toEqual([one.toString('hex'), two.toString('hex')]);
    expect('value' in records[0]!).toBe(false);
    expect(records[0]).toMatchObject({ error: { code: 'TETHER_SOURCE_ENCODING', message: 'line 1: not valid UTF-8 at byte 18 (0xed)' } });
    expect(records[1]!.value).toEqual({ id: 'b', name: '\u202e\ud800' });
    const array = readJsonDocument(Buffer.concat([Buffer.from('[ '), one, Buffer.from(' ,\n'), two, Buffer.from(']')]));
    expect(array.map((r) => r.raw.toString('hex'))).toEqual([one.toString('hex'), two.toString('hex')]);
    expect(array[0]!.error).toMatchObject({ code: 'TETHER_SOURCE_ENCODING', message: 'element 1: not valid UTF-8 at byte 18 (0xed)' });
    expect(array[1]!.value).toEqual({ id: 'b', name: '\u202e\ud800' });
    // Not an array: the whole file is the one failed record.
    const envelope = Buffer.concat([Buffer.from('{"data":['), one, Buffer.from(']}')]);
    expect(readJsonDocument(envelope)).toEqual([{ raw: envelope, error: expect.objectContaining({ code: 'TETHER_SOURCE_ENCODING' }) }]);
    // A reader that checks its own fields may ask for replacement instead.
    expect(readJsonDocument(one, 'replace')[0]!.value).toEqual({ id: 'a', name: '\ufffd\ufffd\ufffd\ufffd\ufffd' });
  });

  it('a 5 MB line arrives whole, however the file is chunked', async () => {
    const file = path.join(dir, 'big.jsonl');
    const big = `{"id":"big","notes":"${'x'.repeat(5 * 1024 * 1024)}"}`;
    writeFileSync(file, `{"id":"a"}\n${big}\n{"id":"b"}`);
    const records = (await readAll(file, 10)).flat();
    expect(records.map((r) => r.raw.length)).toEqual([10, big.length, 10]);
    expect(records[1]!.raw.toString()).toBe(big);
  });

  it('JSON array: exact element bytes; envelope: re-serialised elements; anything else: one record', () => {
    const array = readJsonDocument(Buffer.from('[{"id": 1},\n {"id": 2}]'));
    expect(array.map((r) => r.raw.toString())).toEqual(['{"id": 1}', '{"id": 2}']);
    const envelope = readJsonDocument(Buffer.from('{"object":"list","data":[{"id": 1}],"has_more":false}'));
    expect(envelope.map((r) => r.raw.toString())).toEqual(['{"id":1}']);
    const cursor = readJsonDocument(Buffer.from('{"events":[{"event_id":"e"}],"pagination":{}}'));
    expect(cursor.map((r) => r.value)).toEqual([{ event_id: 'e' }]);
    const single = readJsonDocument(Buffer.from('{"id": "x"}'));
    expect(single).toEqual([{ raw: Buffer.from('{"id": "x"}'), value: { id: 'x' } }]);
    const broken = readJsonDocument(Buffer.from('[{"id": 1}'));
    expect(broken[0]!.error).toMatchObject({ code: 'TETHER_SOURCE_PARSE' });
  });
});
