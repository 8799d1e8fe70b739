-- topn_update_fast_counts_range: positions 2 and 3 per k by a COUNT, the row number not selected: Flink's
-- update-fast Top-N ranks with row numbers (the range has an offset) and emits only the positions in the range
-- changelog key: k
CREATE TABLE events (id INT, k STRING, v INT, d DECIMAL(10, 2), s STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, id, c FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY c DESC) AS rn FROM (SELECT k, id, COUNT(*) AS c FROM events GROUP BY k, id)) WHERE rn BETWEEN 2 AND 3;
