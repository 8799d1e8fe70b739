-- session_partition_not_grouped: SESSION TVF PARTITION BY k grouped by the window only: sessions per k, sessions with equal bounds counted together
CREATE TABLE clicks (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/clicks.json','format'='json');
SELECT window_start, window_end, COUNT(*) AS cnt, SUM(v) AS sv FROM TABLE(SESSION(TABLE clicks PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end;
