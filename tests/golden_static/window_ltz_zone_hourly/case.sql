-- window_ltz_zone_hourly: hourly TUMBLE, HOP and CUMULATE aggregation over a TIMESTAMP_LTZ rowtime in Asia/Kolkata (UTC+05:30): windows start on the local half hour
SET 'table.local-time-zone' = 'Asia/Kolkata';
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT 'tumble' AS w, window_start, window_end, window_time, COUNT(*) AS c, SUM(v) AS s FROM TABLE(TUMBLE(TABLE days, DESCRIPTOR(ts), INTERVAL '30' MINUTE)) GROUP BY window_start, window_end, window_time
UNION ALL SELECT 'hop', window_start, window_end, window_time, COUNT(*), SUM(v) FROM TABLE(HOP(TABLE days, DESCRIPTOR(ts), INTERVAL '30' MINUTE, INTERVAL '1' HOUR)) GROUP BY window_start, window_end, window_time
UNION ALL SELECT 'cumulate', window_start, window_end, window_time, COUNT(*), SUM(v) FROM TABLE(CUMULATE(TABLE days, DESCRIPTOR(ts), INTERVAL '30' MINUTE, INTERVAL '90' MINUTE)) GROUP BY window_start, window_end, window_time;
