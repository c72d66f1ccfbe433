// Consumed record -> ClickHouse row for its table. Pure: decoding happens
// before, inserting after. Text the sink writes passes the secret filter.
// Access events (the volume) become RowBinary bytes, written straight from
// the wire bytes when they allow it (transcodeAccessEvent), else from the
// decoded record; the other tables' rows are objects for a JSONEachRow insert.
import { isUtf8 } from 'node:buffer';
import type { TopicRole } from '#config';
import {
  TABLES, accessEventRow, connectorVersionRow, deadLetterRow, deviceVersionRow, findingRow, nhiVersionRow, personVersionRow,
  transcodeAccessEvent, writeAccessEventRow,
  type DlqPosition, type RowBinaryWriter, type TableName,
} from '#clickhouse';
import type { DeadLetter, EnrichedAccessEvent, RecordForTopic } from '#schemas';
import { mayHoldSecretBytes, redactSecrets } from './redact.ts';

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

/** A row for its table: RowBinary bytes (access_events) or an object (JSONEachRow). */
export type BuiltRow = { table: TableName; /** Secret-shaped tokens replaced on the way. */ redactions: number } & (
  | { bytes: Buffer; row?: undefined }
  | { row: object; bytes?: undefined }
);

const HEADER_BYTES = 5;

/**
 * The access_events row straight from a consumed value, when it is in the
 * schema the transcoder reads (the writer's schema id is ours) and holds
 * nothing secret-shaped; null when it needs the general path (decode, then
 * buildRow), which also gives the error for a value that cannot be stored.
 */
export function fastAccessEventRow(writer: RowBinaryWriter, value: Buffer, schemaId: number): Buffer | null {
  if (value.length <= HEADER_BYTES || value[0] !== 0 || value.readUInt32BE(1) !== schemaId) return null;
  if (mayHoldSecretBytes(value)) return null;
  return transcodeAccessEvent(writer, value.subarray(HEADER_BYTES));
}

/** Throws a TETHER_SINK_ROW_REJECTED error when the record cannot be stored faithfully. */
export function buildRow<R extends SinkRole>(role: R, record: RecordForTopic[R], at: DlqPosition, writer: RowBinaryWriter): BuiltRow {
  switch (role) {
    case 'accessEnriched': {
      // Every text column: the payload, a project named after a key, a token in a user agent.
      const { event, redactions } = redactedAccessEvent(record as RecordForTopic['accessEnriched']);
      return { table: TABLE_FOR_ROLE[role], bytes: writeAccessEventRow(writer, event), redactions };
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

/**
 * The event with every string filtered, and its raw bytes too: as UTF-8 text
 * when they are UTF-8 (stored as text), else as latin1 (one char per byte,
 * stored as base64), so a secret is found whichever way it is stored.
 */
export function redactedAccessEvent(event: EnrichedAccessEvent): { event: EnrichedAccessEvent; redactions: number } {
  const rawBytes = event.event.raw;
  const encoding = isUtf8(rawBytes) ? 'utf8' : 'latin1';
  const raw = redactSecrets(rawBytes.toString(encoding));
  let redactions = raw.redactions;
  const clean = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const out = redactSecrets(value);
      redactions += out.redactions;
      return out.text;
    }
    if (Array.isArray(value)) return value.map(clean);
    if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]));
    }
    return value;
  };
  // One test over all the event's text first: nearly every event holds no secret.
  if (!mayHoldSecret([event]) && redactions === 0) return { event, redactions: 0 };
  const cleaned = clean(event) as EnrichedAccessEvent;
  if (raw.redactions > 0) cleaned.event.raw = Buffer.from(raw.text, encoding);
  return { event: cleaned, redactions };
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
    else if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) Object.values(value).forEach(collect);
  };
  values.forEach(collect);
  return redactSecrets(texts.join('\n')).redactions > 0;
}
