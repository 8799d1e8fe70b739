-- over_row_number_rowtime: ROW_NUMBER as an OVER function ordered by rowtime (a ROWS frame: rows with equal timestamps are numbered in arrival order), beside COUNT over the same ROWS frame, and over the whole stream
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, k, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn, COUNT(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c FROM events;
