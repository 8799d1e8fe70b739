-- temporal_join_view: a temporal join against a versioned view (keep-last deduplication on rowtime)

CREATE TABLE orders (
  order_id BIGINT,
  user_id STRING,
  product STRING,
  amount DOUBLE,
  price DECIMAL(10, 2),
  quantity INT,
  status STRING,
  coupon STRING,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/orders.json', 'format' = 'json');

CREATE TABLE clicks (
  user_id STRING,
  url STRING,
  referrer STRING,
  duration_s INT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.json', 'format' = 'json');

CREATE TEMPORARY VIEW latest_clicks AS
SELECT user_id, url, duration_s, ts FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC) AS rn FROM clicks)
WHERE rn = 1;

SELECT o.order_id, o.user_id, o.ts, c.url, c.duration_s, c.ts AS click_ts
FROM orders AS o
LEFT JOIN latest_clicks FOR SYSTEM_TIME AS OF o.ts AS c ON o.user_id = c.user_id;
