-- window_topn_rank_equals: window Top-N of one rank (rn = 2), row number not projected
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT window_start, k, v FROM (SELECT window_start, window_end, k, v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY v DESC) AS rn FROM TABLE(TUMBLE(TABLE scores, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 2;
