-- window_ltz_zone_topn: window Top-N over local days in Asia/Shanghai; a window closes when the watermark passes its end as a UTC instant, so a row 2 hours late after local midnight is dropped
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT * FROM (SELECT window_start, window_end, k, v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY v DESC) AS rn FROM TABLE(TUMBLE(TABLE days, DESCRIPTOR(ts), INTERVAL '1' DAY))) WHERE rn <= 1;
