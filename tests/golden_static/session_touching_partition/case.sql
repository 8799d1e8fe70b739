-- session_touching_partition: SESSION TVF with PARTITION BY: rows exactly one gap apart share a session (also out of order, and a session that already fired)
CREATE TABLE clicks (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/clicks.json','format'='json');
SELECT window_start, window_end, k, COUNT(*) AS cnt, SUM(v) AS sv FROM TABLE(SESSION(TABLE clicks PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, k;
