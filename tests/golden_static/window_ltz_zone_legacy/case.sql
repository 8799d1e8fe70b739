-- window_ltz_zone_legacy: GROUP BY TUMBLE over a TIMESTAMP_LTZ rowtime in Asia/Shanghai: local days, TUMBLE_ROWTIME the UTC instant before the end
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT TUMBLE_START(ts, INTERVAL '1' DAY) AS ws, TUMBLE_END(ts, INTERVAL '1' DAY) AS we, TUMBLE_ROWTIME(ts, INTERVAL '1' DAY) AS wt, COUNT(*) AS c, SUM(v) AS s FROM days GROUP BY TUMBLE(ts, INTERVAL '1' DAY);
