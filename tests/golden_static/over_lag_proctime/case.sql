-- over_lag_proctime: LAG over a processing-time order: the previous row of the partition in arrival order
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), pt AS PROCTIME()) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, LAG(v, 1) OVER (PARTITION BY k ORDER BY pt) AS before1, LAG(v, 2, -1) OVER (PARTITION BY k ORDER BY pt) AS before2, COUNT(*) OVER (PARTITION BY k ORDER BY pt) AS cnt FROM events;
