-- session_tvf_rows: the SESSION window TVF without aggregation puts out each row of a session, once the watermark closes it, with the session's bounds; a row late for its session is dropped
CREATE TABLE days (k STRING, v INT, ms BIGINT, ts AS TO_TIMESTAMP_LTZ(ms, 3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/days.json','format'='json');
SELECT k, v, window_start, window_end, window_time FROM TABLE(SESSION(TABLE days PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' HOUR));
