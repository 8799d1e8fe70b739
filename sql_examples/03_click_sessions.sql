-- Click sessions: a SESSION window per user that closes after 30 seconds without clicks.

CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  referrer STRING,
  duration_s INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'sql_examples/data/clicks.json', 'format' = 'json');

SELECT user_id, window_start, window_end, COUNT(*) AS clicks, SUM(duration_s) AS seconds_on_site
FROM TABLE(SESSION(TABLE clicks PARTITION BY user_id, DESCRIPTOR(ts), INTERVAL '30' SECOND))
GROUP BY user_id, window_start, window_end;
