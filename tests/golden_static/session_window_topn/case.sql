-- session_window_topn: window Top-N over SESSION windows without PARTITION BY (sessions across all keys)
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT * FROM (SELECT window_start, window_end, k, v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY v DESC) AS rn FROM TABLE(SESSION(TABLE days, DESCRIPTOR(ts), INTERVAL '5' HOUR))) WHERE rn <= 2;
