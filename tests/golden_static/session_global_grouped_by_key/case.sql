-- session_global_grouped_by_key: SESSION TVF without PARTITION BY grouped by k: sessions span every key, then counted per k
CREATE TABLE clicks (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/clicks.json','format'='json');
SELECT window_start, window_end, k, COUNT(*) AS cnt, SUM(v) AS sv FROM TABLE(SESSION(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, k;
