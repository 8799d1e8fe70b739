-- window_ltz_zone_session: SESSION windows over a TIMESTAMP_LTZ rowtime in Asia/Shanghai: bounds on the local clock
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT k, window_start, window_end, window_time, COUNT(*) AS c FROM TABLE(SESSION(TABLE days PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' HOUR)) GROUP BY k, window_start, window_end, window_time;
