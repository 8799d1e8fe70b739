-- window_ltz_zone_tvf_rows: in Asia/Shanghai, a window TVF over a TIMESTAMP_LTZ rowtime assigns local days: window_start and window_end local, window_time the UTC instant before the end
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT k, v, window_start, window_end, window_time FROM TABLE(TUMBLE(TABLE days, DESCRIPTOR(ts), INTERVAL '1' DAY));
