-- Smoke test of Tether's portable ClickHouse subset: every statement must run
-- unchanged on Debian's 18.16 server and on a current engine (chdb 26.x).
--   .tether/venv/bin/python infra/chdb/run_sql.py infra/chdb/smoke.sql
--   .tether/venv/bin/python infra/chdb/run_sql.py --http http://127.0.0.1:18123 infra/chdb/smoke.sql
--   clickhouse-client --port 19000 --multiquery < infra/chdb/smoke.sql

DROP DATABASE IF EXISTS tether_smoke;
CREATE DATABASE tether_smoke;

-- One row per event version: ReplacingMergeTree keeps the highest `version`
-- per sorting key, so a redelivered event shows once under FINAL.
CREATE TABLE tether_smoke.access_events
(
    event_id      String,
    event_time    DateTime('UTC'),
    event_time_ms UInt64,
    platform      String,
    person_id     Nullable(String),
    scopes        Array(String),
    confidence    Float32,
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(event_time)
ORDER BY (platform, event_id);

CREATE TABLE tether_smoke.daily_events
(
    day      Date,
    platform String,
    events   UInt64
)
ENGINE = SummingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (day, platform);

CREATE MATERIALIZED VIEW tether_smoke.daily_events_mv TO tether_smoke.daily_events AS
SELECT toDate(event_time) AS day, platform, count() AS events
FROM tether_smoke.access_events
GROUP BY day, platform;

-- One row per line: 18.16's clickhouse-client --multiquery ends inline INSERT
-- data at the end of the line.
INSERT INTO tether_smoke.access_events VALUES ('evt-1', '2026-11-01 09:00:00', 1793523600000, 'openai', NULL, ['chat.read'], 0.5, 1);
INSERT INTO tether_smoke.access_events VALUES ('evt-2', '2026-11-01 10:30:00', 1793529000000, 'anthropic', 'person-42', ['files.read', 'files.write'], 0.9, 1);
INSERT INTO tether_smoke.access_events VALUES ('evt-3', '2026-12-02 23:59:59', 1796255999000, 'cursor', 'person-7', [], 1, 1);

-- evt-1 redelivered, now attributed: a newer version in another part, which
-- FINAL merges away.
INSERT INTO tether_smoke.access_events VALUES ('evt-1', '2026-11-01 09:00:00', 1793523600000, 'openai', 'person-7', ['chat.read'], 0.95, 2);

SELECT event_id, event_time, event_time_ms, platform, person_id, scopes, version,
       toUInt64(toUnixTimestamp(event_time)) * 1000 = event_time_ms AS ms_matches
FROM tether_smoke.access_events FINAL
ORDER BY event_id;

-- The view counted every insert, the redelivery included.
SELECT day, platform, sum(events) AS events
FROM tether_smoke.daily_events
GROUP BY day, platform
ORDER BY day, platform;

-- Retention is a partition drop (18.16 has no TTL).
ALTER TABLE tether_smoke.access_events DROP PARTITION 202611;
SELECT event_id FROM tether_smoke.access_events FINAL ORDER BY event_id;

DROP DATABASE tether_smoke;
