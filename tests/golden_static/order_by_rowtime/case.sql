-- order_by_rowtime: ORDER BY a rowtime attribute ascending on a stream: rows come out in event-time order as the watermark passes them; late rows are dropped
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, ts FROM events ORDER BY ts, v DESC;
