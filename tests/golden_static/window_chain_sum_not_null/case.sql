-- window_chain_sum_not_null: a TUMBLE over the window_time of a TUMBLE aggregation, late rows dropped; SUM of a NOT NULL COUNT in a window is NOT NULL in Flink
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
CREATE VIEW w1 AS SELECT window_time AS wt, k, COUNT(*) AS c, SUM(v) AS s FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end, window_time, k;
SELECT window_start, window_end, window_time, SUM(c) AS c, MAX(s) AS m FROM TABLE(TUMBLE(TABLE w1, DESCRIPTOR(wt), INTERVAL '10' SECOND)) GROUP BY window_start, window_end, window_time;
