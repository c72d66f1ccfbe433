// Consumed record -> ClickHouse row for its table. Pure: decoding happens
// before, inserting after. Text the sink writes passes the secret filter.
import type { TopicRole } from '#config';
import {
  TABLES, accessEventRow, connectorVersionRow, deadLetterRow, deviceVersionRow, findingRow, nhiVersionRow, personVersionRow,
  type DlqPosition, type TableName,
} from '#clickhouse';
import type { DeadLetter, RecordForTopic } from '#schemas';
import { redactSecrets } from './redact.ts';

/** The roles the sink reads, and the table each lands in. */
export const TABLE_FOR_ROLE = {
  accessEnriched: TABLES.accessEvents,
  identityUsers: TABLES.personsHistory,
  identityDevices: TABLES.devicesHistory,
  identityNhi: TABLES.nhiHistory,
  identityConnectors: TABLES.connectorsHistory,
  dlq: TABLES.deadLetters,
  findings: TABLES.findings,
} as const satisfies Partial<Record<TopicRole, TableName>>;

export type SinkRole = keyof typeof TABLE_FOR_ROLE;

export interface BuiltRow {
  table: TableName;
  row: object;
  /** Secret-shaped tokens replaced on the way. */
  redactions: number;
}

/** Throws a TETHER_SINK_ROW_REJECTED error when the record cannot be stored faithfully. */
export function buildRow<R extends SinkRole>(role: R, record: RecordForTopic[R], at: DlqPosition): BuiltRow {
  switch (role) {
    case 'accessEnriched': {
      const { raw: rawText, ...rest } = accessEventRow(record as RecordForTopic['accessEnriched']);
      // Non-UTF-8 raw is stored as base64: filtered as latin1 (one char per byte) and encoded again.
      const raw = rest.raw_encoding === 'utf8' ? redactSecrets(rawText) : redactBase64(rawText);
      // Every other text column too: a project named after a key, a token in a user agent.
      const others = redactedIdentityRow(TABLE_FOR_ROLE[role], rest);
      return { table: others.table, row: { ...others.row, raw: raw.text }, redactions: raw.redactions + others.redactions };
    }
    case 'identityUsers':
      return redactedIdentityRow(TABLE_FOR_ROLE[role], personVersionRow(record as RecordForTopic['identityUsers']));
    case 'identityDevices':
      return redactedIdentityRow(TABLE_FOR_ROLE[role], deviceVersionRow(record as RecordForTopic['identityDevices']));
    case 'identityNhi':
      return redactedIdentityRow(TABLE_FOR_ROLE[role], nhiVersionRow(record as RecordForTopic['identityNhi']));
    case 'identityConnectors':
      return redactedIdentityRow(TABLE_FOR_ROLE[role], connectorVersionRow(record as RecordForTopic['identityConnectors']));
    case 'dlq': {
      const letter = record as DeadLetter;
      const message = redactSecrets(letter.message);
      // Binary originals (Avro) are filtered as latin1 so every byte maps to one char and back.
      const original = redactSecrets(letter.original.toString('latin1'));
      const cleaned: DeadLetter = {
        ...letter,
        message: message.text,
        original: original.redactions > 0 ? Buffer.from(original.text, 'latin1') : letter.original,
      };
      return { table: TABLE_FOR_ROLE[role], row: deadLetterRow(cleaned, at), redactions: message.redactions + original.redactions };
    }
    case 'findings':
      // Summaries quote event values (names, emails a hostile source controls): filtered like identity rows.
      return redactedIdentityRow(TABLE_FOR_ROLE[role], findingRow(record as RecordForTopic['findings']));
    default:
      throw new Error(`the sink does not read role ${String(role)}`);
  }
}

/**
 * A dead letter for a tether.dlq message that does not decode: it cannot be
 * dead-lettered again (it would loop), so it is stored as it is.
 */
export function undecodableDeadLetter(options: {
  service: string;
  message: string;
  original: Buffer;
  at: DlqPosition;
  now: number;
}): DeadLetter {
  return {
    stage: 'parsing',
    service: options.service,
    source: options.at.topic,
    reason_code: 'TETHER_DECODE',
    message: options.message,
    original: options.original,
    original_topic: options.at.topic,
    original_partition: options.at.partition,
    original_offset: Number(options.at.offset),
    time: options.now,
  };
}

function redactBase64(encoded: string): { text: string; redactions: number } {
  const filtered = redactSecrets(Buffer.from(encoded, 'base64').toString('latin1'));
  return filtered.redactions > 0 ? { text: Buffer.from(filtered.text, 'latin1').toString('base64'), redactions: filtered.redactions } : { text: encoded, redactions: 0 };
}

/** Identity records carry names, emails and aliases a hostile source controls: every text column is filtered too. */
function redactedIdentityRow(table: TableName, row: object): BuiltRow {
  // One test over all the row's text first: nearly every row holds no secret.
  if (!mayHoldSecret(Object.values(row))) return { table, row, redactions: 0 };
  let redactions = 0;
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const out = redactSecrets(value);
      redactions += out.redactions;
      return out.text;
    }
    return Array.isArray(value) ? value.map(clean) : value;
  };
  const cleaned = Object.fromEntries(Object.entries(row).map(([column, value]) => [column, clean(value)]));
  return { table, row: cleaned, redactions };
}

function mayHoldSecret(values: readonly unknown[]): boolean {
  const texts: string[] = [];
  const collect = (value: unknown) => {
    if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
  };
  values.forEach(collect);
  return redactSecrets(texts.join('\n')).redactions > 0;
}
