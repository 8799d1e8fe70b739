-- current_watermark: CURRENT_WATERMARK(ts) is the watermark before the row (NULL before the first one)
CREATE TABLE events (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='filesystem','path'='${DATA}/events.json','format'='json');
SELECT k, v, ts, CURRENT_WATERMARK(ts) AS wm, CURRENT_WATERMARK(ts) IS NULL OR ts > CURRENT_WATERMARK(ts) AS on_time FROM events;
