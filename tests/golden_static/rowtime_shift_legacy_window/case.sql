-- rowtime_shift_legacy_window: a rowtime minus an interval stays a time attribute (Flink types it *ROWTIME*) and a legacy TUMBLE over it drops late rows
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT TUMBLE_START(t2, INTERVAL '5' SECOND) AS s0, TUMBLE_ROWTIME(t2, INTERVAL '5' SECOND) AS r0, COUNT(*) AS c, SUM(v) AS s FROM (SELECT v, ts - INTERVAL '1' SECOND AS t2 FROM events) GROUP BY TUMBLE(t2, INTERVAL '5' SECOND);
