-- over_rank_rowtime: RANK and DENSE_RANK as OVER functions ordered by rowtime, beside SUM on the same (RANGE) window; rows with equal timestamps share one frame
CREATE TABLE events (id INT, k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT id, k, v, ts, RANK() OVER w AS rk, DENSE_RANK() OVER w AS drk, SUM(v) OVER w AS s FROM events WINDOW w AS (PARTITION BY k ORDER BY ts);
