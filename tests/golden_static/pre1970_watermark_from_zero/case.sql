-- pre1970_watermark_from_zero: rows before 1970; Flink's watermark assigner emits only watermarks after 0, so the row at 23:59:55.500 after the watermark expression reached 23:59:59 is not late
CREATE TABLE olds (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/old.json','format'='json');
SELECT window_start, window_end, window_time, k, COUNT(*) AS c, SUM(v) AS s FROM TABLE(TUMBLE(TABLE olds, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY window_start, window_end, window_time, k;
