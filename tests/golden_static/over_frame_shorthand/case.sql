-- over_frame_shorthand: OVER frames written without BETWEEN (RANGE UNBOUNDED PRECEDING ends at the current row), partitioned by a column and an expression
CREATE TABLE E (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/E.json','format'='json');
SELECT k, v, COUNT(*) OVER (PARTITION BY k, v IS NULL ORDER BY ts RANGE UNBOUNDED PRECEDING) AS c, MAX(v) OVER (PARTITION BY k, v IS NULL ORDER BY ts RANGE UNBOUNDED PRECEDING) AS mx FROM E;
