-- window_topn_range: window Top-N with a rank range: rn BETWEEN 2 AND 3
CREATE TABLE scores (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/scores.json','format'='json');
SELECT window_start, k, v, rn FROM (SELECT window_start, window_end, k, v, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY v DESC) AS rn FROM TABLE(TUMBLE(TABLE scores, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn BETWEEN 2 AND 3;
