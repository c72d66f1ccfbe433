// The recorded result logs in fixtures/, read as the service reads them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readResultRecord, type ResultRecord } from '../src/result-record.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');

/** Every line of a fixture as raw JSON. */
export const fixtureLines = (file: string): unknown[] => readFileSync(path.join(FIXTURES, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown);

/** Every line of a fixture as a result record; a line that does not read fails the test. */
export const fixtureRecords = (file: string): ResultRecord[] =>
  fixtureLines(file).map((line) => {
    const r = readResultRecord(line);
    if (!r.ok) throw r.error;
    return r.record;
  });
