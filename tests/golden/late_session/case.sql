-- late_session: late rows in SESSION windows: dropped unless they merge into an open session

CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  referrer STRING,
  duration_s INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

SELECT window_start, window_end, user_id, COUNT(*) AS cnt, SUM(duration_s) AS dur
FROM TABLE(SESSION(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '8' SECOND))
GROUP BY window_start, window_end, user_id;
