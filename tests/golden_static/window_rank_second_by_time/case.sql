-- window_rank_second_by_time: per window, the second row by rowtime (rn = 2): a window Top-N, not a deduplication
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT window_start, k, v FROM (SELECT window_start, window_end, k, v, ts, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts) AS rn FROM TABLE(TUMBLE(TABLE scores, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 2;
