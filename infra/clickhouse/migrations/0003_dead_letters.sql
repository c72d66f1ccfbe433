-- Records some stage could not handle (from tether.dlq), kept for triage and replay.
--
-- dead_letter_id hashes what identifies the failure (stage, service, source,
-- reason code, original coordinates, original bytes) but not the time, so
-- the same failure dead-lettered again after a redelivery collapses into one
-- row after FINAL. Copies that straddle a month boundary stay two rows
-- (partitions are deduplicated separately); dead letters are few, so the
-- time-partitioned retention is worth that.

CREATE TABLE IF NOT EXISTS dead_letters
(
    dead_letter_id String,
    dead_lettered_at DateTime('UTC'),
    dead_lettered_at_ms UInt64,
    -- receiving, parsing, normalising, encoding, enriching or writing
    stage String,
    service String,
    source String,
    -- a TETHER_* error code
    reason_code String,
    message String,
    -- the original bytes, base64 (often binary Avro), known secret patterns redacted
    original_base64 String,
    original_size UInt32,
    original_topic Nullable(String),
    original_partition Nullable(Int32),
    original_offset Nullable(Int64),
    -- where on tether.dlq the record was read
    dlq_topic String,
    dlq_partition Int32,
    dlq_offset Int64
)
ENGINE = ReplacingMergeTree(dead_lettered_at_ms)
PARTITION BY toYYYYMM(dead_lettered_at)
ORDER BY dead_letter_id;
