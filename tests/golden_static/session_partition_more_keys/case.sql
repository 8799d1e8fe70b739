-- session_partition_more_keys: SESSION TVF PARTITION BY k grouped by k and v: sessions per k, counted per v
CREATE TABLE clicks (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/clicks.json','format'='json');
SELECT window_start, window_end, k, v, COUNT(*) AS cnt FROM TABLE(SESSION(TABLE clicks PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, k, v;
