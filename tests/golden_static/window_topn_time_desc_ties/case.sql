-- window_topn_time_desc_ties: window Top-2 by rowtime DESC: ties keep arrival order (a Top-N, not a deduplication)
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '30' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT window_start, k, v, rn FROM (SELECT window_start, window_end, k, v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ts DESC) AS rn FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn <= 2;
