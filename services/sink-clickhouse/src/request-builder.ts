// Consumed record -> ClickHouse row for its table. Pure: decoding happens
// before, inserting after. Text the sink writes passes the secret filter.
import type { TopicRole } from '#config';
import {
  TABLES, accessEventRow, connectorVersionRow, deadLetterRow, deviceVersionRow, nhiVersionRow, personVersionRow,
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
      const row = accessEventRow(record as RecordForTopic['accessEnriched']);
      const raw = row.raw_encoding === 'utf8' ? redactSecrets(row.raw) : { text: row.raw, redactions: 0 };
      const unmapped = redactSecrets(row.unmapped);
      return { table: TABLE_FOR_ROLE[role], row: { ...row, raw: raw.text, unmapped: unmapped.text }, redactions: raw.redactions + unmapped.redactions };
    }
    case 'identityUsers':
      return { table: TABLE_FOR_ROLE[role], row: personVersionRow(record as RecordForTopic['identityUsers']), redactions: 0 };
    case 'identityDevices':
      return { table: TABLE_FOR_ROLE[role], row: deviceVersionRow(record as RecordForTopic['identityDevices']), redactions: 0 };
    case 'identityNhi':
      return { table: TABLE_FOR_ROLE[role], row: nhiVersionRow(record as RecordForTopic['identityNhi']), redactions: 0 };
    case 'identityConnectors':
      return { table: TABLE_FOR_ROLE[role], row: connectorVersionRow(record as RecordForTopic['identityConnectors']), redactions: 0 };
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
