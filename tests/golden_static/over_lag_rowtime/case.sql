-- over_lag_rowtime: LAG over a rowtime order: the previous row of the partition in event-time order, late rows dropped
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, ts, LAG(v) OVER (PARTITION BY k ORDER BY ts) AS before1 FROM events;
