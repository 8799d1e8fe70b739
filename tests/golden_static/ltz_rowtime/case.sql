-- ltz_rowtime: a TIMESTAMP_LTZ rowtime computed from epoch milliseconds, TUMBLE over it, late row dropped

CREATE TABLE clicks (
  `user` STRING,
  epoch_ms BIGINT,
  ts AS TO_TIMESTAMP_LTZ(epoch_ms, 3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

SELECT `user`, window_start, window_end, window_time, COUNT(*) AS clicks
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY `user`, window_start, window_end, window_time;
