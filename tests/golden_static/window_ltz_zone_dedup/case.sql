-- window_ltz_zone_dedup: window deduplication (last row per key and local day) in Asia/Shanghai
SET 'table.local-time-zone' = 'Asia/Shanghai';
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT window_start, window_end, k, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn FROM TABLE(TUMBLE(TABLE days, DESCRIPTOR(ts), INTERVAL '1' DAY))) WHERE rn = 1;
